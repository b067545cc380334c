"""Writes: off by default, offered only to clients that can confirm them, and sent only after the
human accepts. A counting proxy in front of Prism proves what reached the API."""

from __future__ import annotations

import pytest
from mcp import types

from conftest import ORG_ID, prism_proxy, result_text, server_env
from mcp_client import connect

pytestmark = pytest.mark.anyio

WLAN_ID = "b069b358-4c97-5319-1f8c-7c5ca64d6ab1"


@pytest.fixture
def proxy(prism):
    """Forwards to Prism and records (method, path, status) of every request."""
    with prism_proxy(prism) as recorder:
        yield recorder


def answering(action: str, seen: list):
    async def callback(context, params):
        seen.append(params.message)
        content = {"confirm": True} if action == "accept" else None
        return types.ElicitResult(action=action, content=content)

    return callback


WRITE_ARGS = ["--enable-write-tools", "-m", "custom", "-c", "orgs_wlans"]
WORKFLOW_ARGS = ["--enable-write-tools", "-m", "custom", "-c", "workflows"]


async def test_writes_are_off_by_default(mistmcp_bin, proxy):
    seen = []
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "orgs_wlans"], env=server_env(proxy.url),
                       elicitation=answering("accept", seen)) as c:
        names = set(await c.tool_names())
        assert "listOrgWlans" in names and "createOrgWlan" not in names
        result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "guest"}})
        assert result.is_error and "--enable-write-tools" in result_text(result)
    async with connect(mistmcp_bin, ["-m", "custom", "-c", "workflows"], env=server_env(proxy.url),
                       elicitation=answering("accept", seen)) as c:
        assert "mist_update_configuration_objects" not in await c.tool_names()
    assert proxy.writes() == [] and seen == []


async def test_accepted_write_reaches_the_api(mistmcp_bin, proxy):
    seen = []
    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(proxy.url), elicitation=answering("accept", seen)) as c:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        assert tools["createOrgWlan"].annotations.read_only_hint is False
        assert tools["deleteOrgWlan"].annotations.destructive_hint is True
        assert tools["listOrgWlans"].annotations.read_only_hint is True
        assert tools["mist_call_operation"].annotations.read_only_hint is False  # it reaches writes here
        result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "guest", "enabled": True}})
        assert not result.is_error, result_text(result)
    assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]
    assert len(seen) == 1
    assert f"POST /api/v1/orgs/{ORG_ID}/wlans" in seen[0] and "ssid" in seen[0] and "wlan" in seen[0]


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_declined_or_cancelled_write_sends_nothing(mistmcp_bin, proxy, action):
    seen = []
    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(proxy.url), elicitation=answering(action, seen)) as c:
        result = await c.call("mist_call_operation", {"operation_id": "deleteOrgWlan", "arguments": {"org_id": ORG_ID, "wlan_id": WLAN_ID}})
        assert "nothing was sent" in result_text(result)
        assert ("declined" if action == "decline" else "cancelled") in result_text(result)
    assert len(seen) == 1 and "DELETE" in seen[0]
    assert proxy.writes() == []


async def test_client_without_elicitation_gets_no_write_tools(mistmcp_bin, proxy):
    async with connect(mistmcp_bin, WORKFLOW_ARGS, env=server_env(proxy.url)) as c:
        assert "mist_update_configuration_objects" not in await c.tool_names()
    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(proxy.url)) as c:
        names = set(await c.tool_names())
        assert "createOrgWlan" not in names and "mist_update_configuration_objects" not in names
        for name, args in [
            ("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "x"}}),
            ("mist_call_operation", {"operation_id": "createOrgWlan", "arguments": {"org_id": ORG_ID, "body": {"ssid": "x"}}}),
        ]:
            result = await c.call(name, args)
            assert result.is_error and "elicitation" in result_text(result)
    assert proxy.writes() == []


async def test_disable_elicitation_runs_writes_unasked(mistmcp_bin, proxy):
    async with connect(mistmcp_bin, WRITE_ARGS + ["--disable-elicitation"], env=server_env(proxy.url)) as c:
        assert "createOrgWlan" in await c.tool_names()
        result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "guest"}})
        assert not result.is_error, result_text(result)
        assert "WITHOUT asking" in c.stderr()
    assert proxy.writes() == [("POST", f"/api/v1/orgs/{ORG_ID}/wlans", 200)]


async def test_workflow_writes_update_and_delete(mistmcp_bin, proxy):
    seen = []
    async with connect(mistmcp_bin, WORKFLOW_ARGS, env=server_env(proxy.url), elicitation=answering("accept", seen)) as c:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        assert tools["mist_change_configuration_objects"].annotations.destructive_hint is True
        assert tools["mist_update_configuration_objects"].annotations.read_only_hint is False
        result = await c.call("mist_update_configuration_objects", {
            "action_type": "update", "object_type": "org_wlans", "org_id": ORG_ID, "object_id": WLAN_ID,
            "payload": {"ssid": "corp", "enabled": False},
        })
        assert not result.is_error, result_text(result)
        assert "result" in result.structured_content
        result = await c.call("mist_change_configuration_objects", {
            "action_type": "delete", "object_type": "org_wlans", "org_id": ORG_ID, "object_id": WLAN_ID,
        })
        assert not result.is_error, result_text(result)
        result = await c.call("mist_update_configuration_objects", {
            "action_type": "update", "object_type": "org_wlans", "org_id": ORG_ID, "payload": {"ssid": "x"},
        })
        assert result.is_error and "object_id" in result_text(result)
    assert proxy.writes() == [
        ("PUT", f"/api/v1/orgs/{ORG_ID}/wlans/{WLAN_ID}", 200),
        ("DELETE", f"/api/v1/orgs/{ORG_ID}/wlans/{WLAN_ID}", 200),
    ]
    assert "Object type: org_wlans" in seen[0] and "corp" in seen[0]
    assert "deletes" in seen[1]


async def test_an_accept_without_the_box_ticked_sends_nothing(mistmcp_bin, proxy):
    async def careless(context, params):
        return types.ElicitResult(action="accept", content={})

    async with connect(mistmcp_bin, WRITE_ARGS, env=server_env(proxy.url), elicitation=careless) as c:
        result = await c.call("createOrgWlan", {"org_id": ORG_ID, "body": {"ssid": "guest"}})
        assert "nothing was sent" in result_text(result)
    assert proxy.writes() == []


async def test_a_confirmation_nobody_answers_in_time_sends_nothing(mistmcp_bin, proxy):
    """Issue 14: the wait is bounded, and an accept after it never runs the write."""
    import anyio

    async def slow_human(context, params):
        await anyio.sleep(4)
        return types.ElicitResult(action="accept", content={"confirm": True})

    env = server_env(proxy.url, MISTMCP_CONFIRM_TIMEOUT="1")
    async with connect(mistmcp_bin, WRITE_ARGS, env=env, elicitation=slow_human) as c:
        result = await c.call("deleteOrgWlan", {"org_id": ORG_ID, "wlan_id": WLAN_ID})
        assert result.is_error and "not confirmed in time" in result_text(result), result_text(result)
        await anyio.sleep(4)  # the late accept arrives and is ignored
        assert (await c.session.list_tools()).tools  # still serving
    assert proxy.writes() == []
