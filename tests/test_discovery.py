"""The discovery tools: search, describe, and calls through mist_call_operation answered by Prism."""

import pytest

from conftest import ORG_ID, result_json, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio


async def test_search_ranks_the_obvious_operation_first(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        answer = result_json(await c.call("mist_search_operations", {"query": "org sites"}))
        ids = [r["operation_id"] for r in answer["results"]]
        assert ids[0] == "listOrgSites"
        first = answer["results"][0]
        assert set(first) == {"operation_id", "method", "path", "category", "scope", "required", "summary"}
        assert first["scope"] == "org" and first["required"] == ["org_id"]
        assert "note" not in answer


async def test_search_filters_by_category_and_method(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        answer = result_json(
            await c.call("mist_search_operations", {"query": "devices", "category": "sites_*", "method": "get", "limit": 5})
        )
        assert 0 < len(answer["results"]) <= 5
        assert all(r["category"].startswith("sites_") and r["method"] == "GET" for r in answer["results"])


async def test_search_never_offers_writes(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        answer = result_json(await c.call("mist_search_operations", {"query": "create site", "limit": 50}))
        assert all(r["method"] == "GET" for r in answer["results"])


async def test_describe_gives_parameters_and_schema(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        answer = result_json(await c.call("mist_describe_operation", {"operation_id": "searchOrgDevices"}))
        assert answer["method"] == "GET" and answer["path"] == "/api/v1/orgs/{org_id}/devices/search"
        org = next(p for p in answer["parameters"] if p["name"] == "org_id")
        assert org["required"] and org["in"] == "path" and "UUID" in org["expects"]
        assert answer["input_schema"]["required"] == ["org_id"]


async def test_describe_unknown_operation_suggests(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        result = await c.call("mist_describe_operation", {"operation_id": "listOrgSite"})
        assert result.is_error and "listOrgSites" in result_text(result)


async def test_call_operation_through_prism(mistmcp_bin, prism):
    async with connect(mistmcp_bin, env=server_env(prism)) as c:
        result = await c.call("mist_call_operation", {"operation_id": "listOrgSites", "arguments": {"org_id": ORG_ID, "limit": 5}})
        assert not result.is_error, result_text(result)
        sites = result_json(result)
        assert isinstance(sites, list) and sites and "name" in sites[0]


async def test_call_operation_refuses_writes(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["--enable-write-tools"], env=server_env(prism)) as c:
        result = await c.call("mist_call_operation", {"operation_id": "createOrgSite", "arguments": {"org_id": ORG_ID}})
        assert result.is_error and "write operation" in result_text(result)


async def test_call_operation_validates_like_the_tools(mistmcp_bin, prism):
    async with connect(mistmcp_bin, env=server_env(prism)) as c:
        result = await c.call("mist_call_operation", {"operation_id": "listOrgSites", "arguments": {"org_id": "../self"}})
        assert result.is_error and "org_id" in result_text(result) and "UUID" in result_text(result)


# Issue 15: a ranked search that always answers, the same on every frontend.

async def search(c, **arguments):
    return result_json(await c.call("mist_search_operations", arguments))


async def test_search_answers_hard_queries(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        stop = await search(c, query="what is the of and a")
        assert stop["results"] and "starting points" in stop["note"] and stop["results"][0]["operation_id"] == "getSelf"
        long = "which access points are offline at the branch " * 6
        assert len(long[:256]) == 256
        answer = await search(c, query=long[:256])
        assert answer["results"][0]["operation_id"] in {"listOrgDevicesStats", "searchOrgDevices", "listSiteDevicesStats"}
        too_long = await c.call("mist_search_operations", {"query": "x" * 257})
        assert too_long.is_error and "256" in result_text(too_long)
        unicode = await search(c, query="sites de l'organisation — 🏢 Zürich")
        assert unicode["results"]
        typos = await search(c, query="wirless clints serach")
        assert typos["results"][0]["operation_id"] in {"searchOrgWirelessClients", "searchSiteWirelessClients"}, typos
        assert "wirless as wireless" in typos["read"]
        weak = await search(c, query="zebra unicorn devices", category="sites_*", method="GET", limit=3)
        assert 0 < len(weak["results"]) <= 3 and "weak match" in weak["note"]
        assert all(r["category"].startswith("sites_") and r["method"] == "GET" for r in weak["results"])
        nothing = await search(c, query="devices", category="orgs_wlans", method="DELETE")
        assert nothing["results"] == [] and "filters" in nothing["note"]


QUESTIONS = ["list sites of an org", "which access points are offline", "api usage and rate limit of my token",
             "find a wireless client by mac", "SSIDs configured on a site"]


async def test_the_same_ranking_natively_in_mistcli_and_on_the_edge(mistmcp_bin, prism):
    import subprocess
    import json as _json
    from conftest import built_binary
    from http_support import http_session
    from test_edge import start_edge

    native = {}
    async with connect(mistmcp_bin, env=server_env()) as c:
        for q in QUESTIONS:
            native[q] = [r["operation_id"] for r in (await search(c, query=q, limit=5))["results"]]
    for q in QUESTIONS:
        run = subprocess.run([built_binary("mistcli"), "ops", "search", *q.split(), "-o", "json"], capture_output=True,
                             text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "MISTCLI_CONFIG": "/nonexistent"})
        assert run.returncode == 0, run.stderr
        cli = [row["operation"] for row in _json.loads(run.stdout)]
        # mistcli lists operations that have a command; the order is the same ranking.
        assert [op for op in native[q] if op in cli][:3] == cli[:len([op for op in native[q] if op in cli][:3])], (q, native[q], cli)
    gen = start_edge(prism)
    try:
        url = f"{next(gen)}?cloud=api.mist.com"
        async with http_session(url, {"X-Mist-Token": "t"}) as (s, _):
            for q in QUESTIONS:
                edge = [r["operation_id"] for r in result_json(await s.call_tool("mist_search_operations", {"query": q, "limit": 5}))["results"]]
                assert edge == native[q], (q, edge, native[q])
            # jq runs in the module too, its budget included (no thread, no clock there).
            call = {"operation_id": "listOrgSites", "arguments": {"org_id": ORG_ID}}
            names = await s.call_tool("mist_call_operation", {**call, "jq": "[.[] | .name]"})
            assert not names.is_error and all(isinstance(n, str) for n in result_json(names)), result_text(names)
            cut = await s.call_tool("mist_call_operation", {**call, "jq": "[(.[]|tostring|explode[]) + (.[]|tostring|explode[]) + (.[]|tostring|explode[])] | length"})
            assert cut.is_error and "budget" in result_text(cut), result_text(cut)
    finally:
        import contextlib
        with contextlib.suppress(StopIteration):
            next(gen)


async def test_describe_gives_an_example_call_and_the_answer_fields(mistmcp_bin, prism):
    async with connect(mistmcp_bin, env=server_env(prism)) as c:
        sites = result_json(await c.call("mist_describe_operation", {"operation_id": "listOrgSites"}))
        assert sites["scope"] == "org" and "name" in sites["returns"]["fields"] and "list" in sites["returns"]["shape"]
        example = sites["example"]
        assert example["arguments"] == {"org_id": "<org_id>", "limit": 10} and example["fields"] == ["id", "name"]
        clients = result_json(await c.call("mist_describe_operation", {"operation_id": "searchOrgWirelessClients"}))
        assert "`results`" in clients["returns"]["shape"] and "mac" in clients["returns"]["fields"]
        stats = result_json(await c.call("mist_describe_operation", {"operation_id": "getSiteDeviceStats"}))
        assert "uptime" in stats["returns"]["fields"]  # the variants (ap, switch, gateway) merged
        # The example, with real ids put in, is a call that works and the fields it suggests cut the answer.
        example["arguments"]["org_id"] = ORG_ID
        result = await c.call("mist_call_operation", example)
        assert not result.is_error, result_text(result)
        assert all(set(site) <= {"id", "name"} for site in result_json(result))


# Issue 15: jq over answers, with a budget.

async def test_jq_shapes_real_answers_and_bad_filters_are_clear(mistmcp_bin, prism):
    args = ["-m", "custom", "-c", "orgs_sites"]
    async with connect(mistmcp_bin, args, env=server_env(prism)) as c:
        names = await c.call("listOrgSites", {"org_id": ORG_ID, "jq": "[.[] | {name, timezone}]"})
        assert not names.is_error, result_text(names)
        sites = result_json(names)
        assert sites and all(set(s) <= {"name", "timezone"} for s in sites)
        one = await c.call("mist_call_operation", {"operation_id": "listOrgSites", "arguments": {"org_id": ORG_ID},
                                                   "fields": ["name"], "jq": ".[0].name"})
        assert isinstance(result_json(one), str), result_text(one)
        several = result_json(await c.call("mist_call_operation", {"operation_id": "listOrgSites",
                                                                   "arguments": {"org_id": ORG_ID}, "jq": ".[] | .name, .id"}))
        assert isinstance(several, list) and all(isinstance(n, str) for n in several)
        bad = await c.call("listOrgSites", {"org_id": ORG_ID, "jq": ".[] | select(.name =="})
        assert bad.is_error and "line 1, column" in result_text(bad)
        for refused, word in [("env", "environment"), ("def f: f; f", "definitions"), ("[limit(5; repeat(1))]", "repeat")]:
            r = await c.call("listOrgSites", {"org_id": ORG_ID, "jq": refused})
            assert r.is_error and word in result_text(r), (refused, result_text(r))
        explodes = await c.call("listOrgSites", {"org_id": ORG_ID, "jq": '[.[] | tostring * 100000000]'})
        assert explodes.is_error and "budget" in result_text(explodes), result_text(explodes)
        product = await c.call("listOrgSites", {"org_id": ORG_ID, "jq": "[(.[]|tostring|explode[]) + (.[]|tostring|explode[]) + (.[]|tostring|explode[])] | length"})
        assert product.is_error and "budget" in result_text(product), result_text(product)
        assert not (await c.call("listOrgSites", {"org_id": ORG_ID, "limit": 1})).is_error  # still serving
