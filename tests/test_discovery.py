"""The discovery tools: search, describe, and calls through mist_call_operation answered by Prism."""

import pytest

from conftest import ORG_ID, result_json, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio


async def test_search_ranks_the_obvious_operation_first(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        answer = result_json(await c.call("mist_search_operations", {"query": "org sites"}))
        ids = [r["operation_id"] for r in answer["results"]]
        assert "listOrgSites" in ids[:3]
        assert answer["total_matches"] >= len(ids)
        assert set(answer["results"][0]) == {"operation_id", "method", "path", "category", "summary"}


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
