"""The workflow tools against the official server's manifest, and each called against Prism."""

from __future__ import annotations

import json

import pytest

from conftest import ORG_ID, ROOT, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

SITE_ID = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"
DEVICE_ID = "00000000-0000-0000-1000-5c5b350e0001"
NEW_TOOLS = {"mist_list_upgrades", "mist_change_configuration_objects"}
# Values the official server offers that no operation of the spec can serve: mistmcp does not
# offer them (mistcore/tests/workflows.rs checks that every offered value can be used).
NOT_OFFERED = {
    ("mist_get_stats", "stats_type"): {"org_ospf", "site_ospf"},
    ("mist_get_site_rrm_info", "rrm_info_type"): {"channel_scores"},
    ("mist_get_site_sle", "scope"): {"mxedge"},
}


def official_tools() -> dict:
    """The official server's tools/list (read from ../shared, never copied here)."""
    path = ROOT.parent / "shared" / "peer" / "official-tools-write.json"
    return {t["name"]: t for t in json.loads(path.read_text())["tools"]}


def shape(schema: dict, tool: str = "") -> dict:
    """What a drop-in must keep: property names, types, enums, defaults, required."""
    props = {}
    for name, p in schema.get("properties", {}).items():
        enum = p.get("enum")
        if enum is not None:
            enum = [v for v in enum if v not in NOT_OFFERED.get((tool, name), set())]
        props[name] = {"type": p.get("type"), "enum": enum, "default": p.get("default"),
                       "items": (p.get("items") or {}).get("type")}
    return {"properties": props, "required": sorted(schema.get("required", []))}


async def workflow_tools(mistmcp_bin, env, args=("-m", "custom", "-c", "workflows", "--enable-write-tools")):
    async def accept(context, params):
        from mcp import types
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with connect(mistmcp_bin, list(args), env=env, elicitation=accept) as c:
        return {t.name: t for t in (await c.session.list_tools()).tools}


async def test_custom_workflows_is_exactly_the_official_set(mistmcp_bin):
    ours = await workflow_tools(mistmcp_bin, server_env())
    official = set(official_tools())
    assert set(ours) == official | NEW_TOOLS


async def test_read_only_default_hides_the_write_workflows(mistmcp_bin):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=server_env()) as c:
        names = set(await c.tool_names())
    readonly = json.loads((ROOT.parent / "shared" / "peer" / "official-tools-readonly.json").read_text())["tools"]
    assert names == {t["name"] for t in readonly} | {"mist_list_upgrades"}


async def test_schemas_match_the_official_tools(mistmcp_bin):
    ours = await workflow_tools(mistmcp_bin, server_env())
    mismatches = []
    for name, tool in official_tools().items():
        want, got = shape(tool["inputSchema"], name), shape(ours[name].input_schema)
        if want != got:
            diff = {k: (want["properties"].get(k), got["properties"].get(k))
                    for k in set(want["properties"]) | set(got["properties"])
                    if want["properties"].get(k) != got["properties"].get(k)}
            mismatches.append(f"{name}: required {want['required']} vs {got['required']}; {diff}")
        assert ours[name].annotations.read_only_hint == tool["annotations"]["readOnlyHint"], name
    assert not mismatches, "\n".join(mismatches)


TYPICAL = [
    ("mist_get_self", {"action_type": "account_info"}),
    ("mist_get_self", {"action_type": "api_usage"}),
    ("mist_get_org_or_site_info", {"info_type": "site", "org_id": ORG_ID, "site_id": SITE_ID}),
    ("mist_get_constants", {"object_type": "device_models"}),
    ("mist_search_device", {"org_id": ORG_ID, "device_type": "switch", "status": "connected"}),
    ("mist_search_client", {"client_type": "wireless", "org_id": ORG_ID, "band": "5", "hostname": "lap*"}),
    ("mist_search_client", {"client_type": "wan", "org_id": ORG_ID, "site_id": SITE_ID}),
    ("mist_search_guest_authorization", {"scope": "site", "org_id": ORG_ID, "site_id": SITE_ID}),
    ("mist_search_nac_user_macs", {"org_id": ORG_ID, "labels": ["printer", "floor2"]}),
    ("mist_get_configuration_objects", {"org_id": ORG_ID, "object_type": "org_wlans"}),
    ("mist_get_configuration_objects", {"org_id": ORG_ID, "object_type": "site_wlans", "site_id": SITE_ID, "computed": True}),
    ("mist_get_configuration_objects", {"org_id": ORG_ID, "object_type": "site_devices", "site_id": SITE_ID, "name": "sw*"}),
    ("mist_get_configuration_objects", {"org_id": ORG_ID, "object_type": "org_sites", "site_id": SITE_ID, "computed": True}),
    ("mist_get_configuration_object_schema", {"schema_name": "org_wlan"}),
    ("mist_search_device_config_history", {"site_id": SITE_ID, "query_type": "last_configs", "device_type": "switch"}),
    ("mist_search_events", {"event_source": "device", "org_id": ORG_ID, "event_type": "AP_RESTARTED"}),
    ("mist_search_events", {"event_source": "mxedge", "org_id": ORG_ID, "mac": "5c5b350e0001"}),
    ("mist_search_audit_logs", {"scope": "org", "org_id": ORG_ID, "message": "wlan"}),
    ("mist_search_alarms", {"org_id": ORG_ID, "scope": "site", "site_id": SITE_ID, "group": "marvis", "acked": False}),
    ("mist_get_stats", {"stats_type": "org_devices", "org_id": ORG_ID, "device_type": "ap"}),
    ("mist_get_stats", {"stats_type": "site_devices", "org_id": ORG_ID, "site_id": SITE_ID, "object_id": "5c5b350e0001"}),
    ("mist_get_site_sle", {"site_id": SITE_ID, "scope": "site", "scope_id": SITE_ID, "metric": "coverage", "object_type": "summary"}),
    ("mist_list_site_sle_info", {"site_id": SITE_ID, "query_type": "metrics", "scope": "site", "scope_id": SITE_ID}),
    ("mist_get_org_sle", {"org_id": ORG_ID, "metric": "coverage"}),
    ("mist_get_org_sites_sle", {"org_id": ORG_ID, "sle": "wifi"}),
    ("mist_get_insight_metrics", {"site_id": SITE_ID, "object_type": "ap", "metric": "bytes", "mac": "5c5b350e0001"}),
    ("mist_get_site_rrm_info", {"site_id": SITE_ID, "rrm_info_type": "current_channel_planning"}),
    ("mist_troubleshoot", {"org_id": ORG_ID, "troubleshoot_type": "wireless", "mac": "5c5b350e0001"}),
    ("mist_get_org_licenses", {"org_id": ORG_ID, "response_type": "summary"}),
    ("mist_list_rogue_devices", {"site_id": SITE_ID, "rogue_type": "ap", "rogue_ap_type": "spoof"}),
    ("mist_list_upgrades", {"org_id": ORG_ID, "upgrade_type": "device", "query_type": "versions", "device_type": "switch"}),
]


async def test_typical_calls_succeed_against_prism(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=server_env(prism)) as c:
        failures = []
        for name, args in TYPICAL:
            result = await c.call(name, args)
            if result.is_error or "result" not in (result.structured_content or {}):
                failures.append(f"{name} {args}: {result_text(result)[:300]}")
        assert not failures, "\n".join(failures)


async def test_search_device_adds_device_ids(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=server_env(prism)) as c:
        result = await c.call("mist_search_device", {"org_id": ORG_ID})
        items = result.structured_content["result"]["results"]
        assert items and all(i["device_id"].startswith("00000000-0000-0000-1000-") for i in items if i.get("mac"))


async def test_workflow_argument_errors_are_clear(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=server_env(prism)) as c:
        for name, args, expected in [
            ("mist_search_alarms", {"org_id": ORG_ID, "scope": "site"}, "site_id"),
            ("mist_get_self", {"action_type": "acount_info"}, "account_info"),
            ("mist_search_device", {"org_id": ORG_ID, "colour": "red"}, "colour"),
            ("mist_get_stats", {"stats_type": "org_ospf", "org_id": ORG_ID}, "stats_type"),
            ("mist_get_next_page", {"url": "https://evil.example.com/api/v1/self"}, "refused"),
            ("mist_get_next_page", {"url": "/api/v1/../../etc/passwd"}, "refused"),
        ]:
            result = await c.call(name, args)
            assert result.is_error and expected in result_text(result), (name, result_text(result))


async def test_string_response_format_has_no_structured_content(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows", "-r", "string"], env=server_env(prism)) as c:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        assert tools["mist_get_self"].output_schema is None
        result = await c.call("mist_get_self", {"action_type": "account_info"})
        assert not result.is_error and result.structured_content is None
        assert "privileges" in result_text(result)
