"""tools/list in each tool loading mode, through the official Python MCP client."""

import json
import subprocess

import pytest

from conftest import server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

DISCOVERY = {"mist_search_operations", "mist_describe_operation", "mist_call_operation"}


def manifest_bytes(tools) -> int:
    return len(json.dumps({"tools": [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]}))


async def test_initialize_names_the_server(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        init = c.session.initialize_result
        assert init.server_info.name == "mistmcp"
        assert init.capabilities.tools.list_changed is True
        assert "getSelf" in init.instructions


async def test_minimal_lists_only_the_essentials(mistmcp_bin):
    async with connect(mistmcp_bin, ["--mode", "minimal"], env=server_env()) as c:
        assert sorted(await c.tool_names()) == ["getSelf", "manageMcpTools"]


async def test_managed_is_the_default_and_small(mistmcp_bin):
    async with connect(mistmcp_bin, env=server_env()) as c:
        tools = (await c.session.list_tools()).tools
        assert {t.name for t in tools} == {"getSelf", "manageMcpTools"} | DISCOVERY
        assert manifest_bytes(tools) < 6 * 1024
        get_self = next(t for t in tools if t.name == "getSelf")
        assert get_self.annotations.read_only_hint is True


async def test_all_lists_every_read_operation(mistmcp_bin):
    async with connect(mistmcp_bin, ["-m", "all"], env=server_env()) as c:
        names = set(await c.tool_names())
        operations = {n for n in names if not n.startswith("mist_")} - {"manageMcpTools"}
        assert len(operations) == 490
        assert "mist_search_device" in names and "mist_update_configuration_objects" not in names
        assert "listOrgSites" in names and "createOrgSite" not in names


async def test_custom_mode_from_environment(mistmcp_bin):
    env = server_env(MISTMCP_TOOL_LOADING_MODE="custom", MISTMCP_TOOL_CATEGORIES="orgs_sites,constants_*")
    async with connect(mistmcp_bin, env=env) as c:
        names = set(await c.tool_names())
        assert {"getSelf", "manageMcpTools", "listOrgSites", "countOrgSites", "listDeviceModels"} <= names
        assert DISCOVERY <= names
        assert "listSiteDevices" not in names


async def test_operation_tool_schema_is_typed(mistmcp_bin):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "sites_devices"], env=server_env()) as c:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        schema = tools["searchSiteDevices"].input_schema
        assert schema["required"] == ["site_id"]
        assert schema["properties"]["site_id"]["format"] == "uuid"
        assert schema["properties"]["limit"]["type"] == "integer"
        assert "enum" in schema["properties"]["type"]
        assert schema["additionalProperties"] is False


def test_custom_mode_without_categories_fails_clearly(mistmcp_bin):
    run = subprocess.run([mistmcp_bin, "--mode", "custom"], input="", capture_output=True, text=True, env=server_env(), timeout=30)
    assert run.returncode != 0
    assert "--categories" in run.stderr
    assert run.stdout == ""


def test_unknown_category_at_startup_suggests(mistmcp_bin):
    run = subprocess.run([mistmcp_bin, "-m", "custom", "-c", "orgs_sitez"], input="", capture_output=True, text=True, env=server_env(), timeout=30)
    assert run.returncode != 0
    assert "orgs_sites" in run.stderr


def test_unknown_cloud_host_is_refused(mistmcp_bin):
    env = server_env(MIST_HOST="api.mist.example")
    run = subprocess.run([mistmcp_bin], input="", capture_output=True, text=True, env=env, timeout=30)
    assert run.returncode != 0
    assert "api.mist.com" in run.stderr and "--api-url" in run.stderr
