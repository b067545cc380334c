"""manageMcpTools: listing, enabling with list_changed, globs, argument forms, unknown names."""

import pytest

from conftest import result_json, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio


async def test_listing_shows_categories_with_counts(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        result = await c.call("manageMcpTools")
        assert not result.is_error
        listing = result_json(result)
        by_name = {x["name"]: x for x in listing["categories"]}
        assert by_name["orgs_sites"]["tools"] >= 2
        assert by_name["orgs_sites"]["description"]
        assert listing["mode"] == "managed"
        assert c.list_changed_count() == 0


async def test_enabling_a_category_notifies_and_lists_its_tools(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        assert "listOrgSites" not in await c.tool_names()
        result = await c.call("manageMcpTools", {"enable_mcp_tools_categories": ["orgs_sites"]})
        assert not result.is_error, result_text(result)
        answer = result_json(result)
        assert answer["enabled"] == ["orgs_sites"]
        assert c.list_changed_count() == 1
        assert "listOrgSites" in await c.tool_names()

        result = await c.call("manageMcpTools", {"disable_mcp_tools_categories": "orgs_sites"})
        assert result_json(result)["disabled"] == ["orgs_sites"]
        assert c.list_changed_count() == 2
        assert "listOrgSites" not in await c.tool_names()


async def test_glob_json_string_and_comma_forms(mistmcp_bin):
    async with connect(mistmcp_bin, ["-m", "minimal"], env=server_env()) as c:
        result = await c.call("manageMcpTools", {"enable_mcp_tools_categories": "sites_wlans, orgs_wlans"})
        assert result_json(result)["enabled"] == ["orgs_wlans", "sites_wlans"]
        result = await c.call("manageMcpTools", {"enable_mcp_tools_categories": '["constants_*"]'})
        enabled = result_json(result)["enabled"]
        assert "constants_models" in enabled and all(x.startswith("constants_") for x in enabled)
        names = await c.tool_names()
        assert "listDeviceModels" in names and "listSiteWlans" in names


async def test_unknown_category_is_rejected_with_closest_names(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        result = await c.call("manageMcpTools", {"enable_mcp_tools_categories": ["orgs_sites", "orgs_sitez"]})
        assert result.is_error
        assert "orgs_sitez" in result_text(result) and "orgs_sites" in result_text(result)
        assert c.list_changed_count() == 0
        assert "listOrgSites" not in await c.tool_names()


async def test_tool_of_a_disabled_category_explains_how_to_enable(mistmcp_bin, prism):
    async with connect(mistmcp_bin, env=server_env(prism)) as c:
        result = await c.call("listOrgSites", {"org_id": "6748cfa6-4e12-11e6-9188-0242ac110007"})
        assert result.is_error
        assert "manageMcpTools" in result_text(result) and "orgs_sites" in result_text(result)
