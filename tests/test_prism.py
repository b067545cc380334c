"""Tool calls answered by Prism serving the Mist spec, and a sweep of every GET operation."""

import pytest

from conftest import ORG_ID, result_json, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

UUID = "6748cfa6-4e12-11e6-9188-0242ac110007"


def sample_value(schema: dict):
    """A value that satisfies a parameter schema (required parameters only)."""
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    t = schema.get("type")
    if t == "integer":
        return int(schema.get("minimum", 1))
    if t == "number":
        return schema.get("minimum", 1)
    if t == "boolean":
        return False
    if t == "array":
        return [sample_value(schema.get("items", {"type": "string"}))]
    if schema.get("format") == "uuid":
        return UUID
    if schema.get("format") == "ipv4":
        return "10.0.0.1"
    pattern = schema.get("pattern", "")
    if "{12}" in pattern:
        return "5c5b350e0001"
    if "{2}" in pattern:
        return "US"
    return "test"


async def test_get_self_through_prism(mistmcp_bin, prism):
    async with connect(mistmcp_bin, env=server_env(prism)) as c:
        result = await c.call("getSelf")
        assert not result.is_error, result_text(result)
        assert "privileges" in result_json(result)


async def test_operation_tool_with_query_parameters(mistmcp_bin, prism):
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "orgs_devices"], env=server_env(prism)) as c:
        result = await c.call("searchOrgDevices", {"org_id": ORG_ID, "type": "switch", "limit": "10", "duration": "1d"})
        assert not result.is_error, result_text(result)
        # search answers carry their pagination facts
        assert any('"pagination"' in block.text for block in result.content)


async def test_every_get_operation_is_accepted_by_prism(mistmcp_bin, prism):
    """Each of the 490 GET operations once through mist_call_operation with arguments generated from its
    schema: every call must succeed, so no request was rejected by Prism's validation (400 with
    sl-violations) or failed to match a path (404 NO_PATH_MATCHED_ERROR), and none was refused by ours."""
    async with connect(mistmcp_bin, ["-m", "all"], env=server_env(prism)) as c:
        tools = (await c.session.list_tools()).tools
        operations = [t for t in tools if t.name not in {"manageMcpTools"} and not t.name.startswith("mist_")]
        assert len(operations) == 490
        failures = []
        for tool in operations:
            schema = tool.input_schema
            args = {name: sample_value(schema["properties"][name]) for name in schema.get("required", [])}
            result = await c.call("mist_call_operation", {"operation_id": tool.name, "arguments": args})
            text = result_text(result)
            if result.is_error:
                failures.append(f"{tool.name} {args}: {text[:300]}")
        assert not failures, f"{len(failures)} operations failed:\n" + "\n".join(failures[:20])
