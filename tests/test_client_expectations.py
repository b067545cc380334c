"""What real clients, validators and a first-time user expect (issue 12): every refused HTTP
request answered on its kept-alive connection, structured content whenever a tool declares an
output schema, JSON-RPC answers with their ids, batches where the protocol has them, Origin
validated by default, a quiet end of stdin, a DELETE answered 200, advice that works."""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import tempfile
import threading

import httpx2
import pytest
from mcp import types

from conftest import ORG_ID, QuietHandler, ROOT, TOKEN, built_binary, memory_watchdog, send_json, serve_mock, server_env
from http_support import HttpServer, echo_mist, http_session
from mcp_client import connect
from test_bad_input import RawServer
from test_writes import WLAN_ID, proxy  # noqa: F401 (a fixture: a counting proxy in front of Prism)

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def init(version: str = "2025-06-18", id_: int = 1) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}


@pytest.fixture
def mist():
    with echo_mist() as url:
        yield url


def tokens(binary: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=30)


def sse_messages(text: str) -> list[dict]:
    return [json.loads(line[5:].strip()) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]


# 1. Refused requests on kept-alive connections.

def test_refused_and_accepted_posts_on_kept_alive_connections_all_get_answers(mistmcp_bin, mist, tmp_path):
    store = tmp_path / "tokens.json"
    alice = tokens(mistmcp_bin, "tokens", "create", "--tokens-file", str(store), "--id", "alice").stdout.strip()
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--tokens-file", str(store)])
    url = f"{server.url}?cloud=api.mist.com"
    unanswered: list[str] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker(kind: str, count: int):
        auth = {"Authorization": f"Bearer {alice}" if kind == "ok" else "Bearer mmcp_wrong", "X-Mist-Token": "m"}
        with httpx2.Client(timeout=30) as c:
            session = None
            if kind == "ok":
                r = c.post(url, json=init(), headers={**HEADERS, **auth})
                session = {"mcp-session-id": r.headers["mcp-session-id"]}
            for i in range(count):
                body = {"jsonrpc": "2.0", "id": i, "method": "ping"}
                try:
                    r = c.post(url, json=body, headers={**HEADERS, **auth, **(session or {})})
                    with lock:
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                except httpx2.HTTPError as e:
                    with lock:
                        unanswered.append(f"{kind} {i}: {e!r}")

    try:
        threads = [threading.Thread(target=worker, args=(kind, 250)) for kind in ["refused", "ok"] * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert unanswered == [], unanswered[:5]
    assert statuses == {401: 1000, 200: 1000}, statuses


def test_an_oversized_body_is_answered_and_the_connection_closed(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist, "--max-body-bytes", "1000"])
    try:
        with httpx2.Client(timeout=30) as c:
            r = c.post(f"{server.url}?cloud=api.mist.com", content=b"{" + b" " * 5000 + b"}", headers=HEADERS)
            assert r.status_code == 413 and r.headers.get("connection") == "close"
            assert c.post(f"{server.url}?cloud=api.mist.com", json=init(), headers=HEADERS).status_code == 200
    finally:
        server.stop()


# 2. Tools with an output schema answer structured content, whatever the outcome.

WRITES = [
    ("mist_update_configuration_objects", {"action_type": "update", "object_type": "org_wlans", "org_id": ORG_ID,
                                           "object_id": WLAN_ID, "payload": {"ssid": "corp"}}),
    ("mist_change_configuration_objects", {"action_type": "delete", "object_type": "org_wlans", "org_id": ORG_ID,
                                           "object_id": WLAN_ID}),
]


@pytest.mark.anyio
@pytest.mark.parametrize("answer", ["decline", "cancel", "unticked"])
async def test_unconfirmed_writes_keep_the_output_schema(mistmcp_bin, proxy, answer):  # noqa: F811
    async def human(context, params):
        if answer == "unticked":
            return types.ElicitResult(action="accept", content={})
        return types.ElicitResult(action=answer)

    args = ["--enable-write-tools", "-m", "custom", "-c", "workflows", "--log-format", "json"]
    async with connect(mistmcp_bin, args, env=server_env(proxy.url), elicitation=human) as c:
        tools = {t.name: t for t in (await c.session.list_tools()).tools}
        for name, arguments in WRITES:
            assert tools[name].output_schema is not None
            # The SDK raises when a tool with an output schema answers without structured content.
            result = await c.call(name, arguments)
            assert "nothing was sent" in result.structured_content["result"], result
        # Refusals and argument errors of workflow tools keep the schema too.
        bad = await c.call("mist_get_stats", {"stats_type": "org_devices"})
        assert bad.is_error and isinstance(bad.structured_content["result"], str)
        calls = [json.loads(line) for line in c.stderr().splitlines() if '"tool call"' in line]
    assert proxy.writes() == []
    write_calls = [line for line in calls if line.get("tool") in dict(WRITES)]
    assert len(write_calls) == 2 and all(line["status"] != "ok" for line in write_calls), write_calls


# 3. manageMcpTools with a sessionless (2026-07-28) client.

@pytest.mark.anyio
async def test_manage_tools_is_honest_with_a_sessionless_client(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        async with http_session(f"{server.url}?cloud=api.mist.com", {"X-Mist-Token": "t"}, initialize=False) as (s, seen):
            await s.discover()
            before = {t.name for t in (await s.list_tools()).tools}
            answer = await s.call_tool("manageMcpTools", {"enable_mcp_tools_categories": ["orgs_sites"]})
            text = answer.content[0].text
            assert answer.is_error and "nothing was changed" in text and "categories=orgs_sites" in text
            assert "mist_call_operation" in text
            assert not any(isinstance(n, types.ToolListChangedNotification) for n in seen)
            assert {t.name for t in (await s.list_tools()).tools} == before
            refused = await s.call_tool("listOrgSites", {"org_id": ORG_ID})
            assert refused.is_error and "mist_call_operation" in refused.content[0].text
            assert "enable it with manageMcpTools" not in refused.content[0].text
            listing = json.loads((await s.call_tool("manageMcpTools", {})).content[0].text)
            assert "categories=" in listing["usage"]
    finally:
        server.stop()


# 4. Origin, validated by default.

def test_foreign_origins_are_refused_by_default(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30) as c:
            evil = c.post(url, json=init(), headers={**HEADERS, "Origin": "https://evil.example.com", "X-Mist-Token": "t"})
            assert evil.status_code == 403 and "--allowed-origins" in evil.json()["error"]
            for origin in (f"http://127.0.0.1:{server.port}", "http://localhost:5173", None):
                headers = {**HEADERS, **({"Origin": origin} if origin else {})}
                assert c.post(url, json=init(), headers=headers).status_code == 200, origin
    finally:
        server.stop()
    listed = HttpServer(mistmcp_bin, ["--api-url", mist, "--allowed-origins", "https://chat.example.com"])
    try:
        with httpx2.Client(timeout=30) as c:
            url = f"{listed.url}?cloud=api.mist.com"
            assert c.post(url, json=init(), headers={**HEADERS, "Origin": "https://chat.example.com"}).status_code == 200
            assert c.post(url, json=init(), headers={**HEADERS, "Origin": "https://evil.example.com"}).status_code == 403
    finally:
        listed.stop()


# 5. JSON-RPC shapes, over stdio and HTTP.

SHAPES = [
    ({"jsonrpc": "2.0", "id": 5}, 5, -32600),
    ({"jsonrpc": "2.0", "id": 6, "method": "tools/call"}, 6, -32602),
    ({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": 3}}, 7, -32602),
    ({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "getSelf", "arguments": [1]}}, 8, -32602),
    ({"jsonrpc": "1.0", "id": 9, "method": "ping"}, 9, -32600),
    ({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}, None, -32600),
]


def test_invalid_messages_are_answered_with_their_id_over_stdio(mistmcp_bin):
    server = RawServer(mistmcp_bin, [], server_env())
    server.send_line(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                 "params": {"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}}))
    answer = server.read_message()
    assert answer["id"] == 1 and answer["error"]["code"] == -32602 and "protocolVersion" in answer["error"]["message"]
    server.initialize()
    for message, id_, code in SHAPES:
        server.send_line(json.dumps(message))
        answer = server.read_message()
        assert answer["id"] == id_ and answer["error"]["code"] == code, (message, answer)
    # A batch outside protocol 2025-03-26 is refused as a whole.
    server.send_line(json.dumps([{"jsonrpc": "2.0", "id": 20, "method": "ping"}]))
    answer = server.read_message()
    assert answer["id"] is None and "2025-03-26" in answer["error"]["message"]
    assert server.request("tools/list")["result"]["tools"]  # still serving
    server.close()
    server.assert_stdout_pure()


def test_batches_in_a_2025_03_26_session_over_stdio(mistmcp_bin):
    server = RawServer(mistmcp_bin, [], server_env())
    server.send_line(json.dumps(init("2025-03-26", 0)))
    assert server.read_message()["result"]["protocolVersion"] == "2025-03-26"
    server.send_line(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    server.send_line(json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3},
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}},
    ]))
    answers = server.read_message()
    assert isinstance(answers, list) and sorted(a["id"] for a in answers) == [1, 2, 3]
    by_id = {a["id"]: a for a in answers}
    assert by_id[1]["result"] == {} and by_id[2]["result"]["tools"] and by_id[3]["error"]["code"] == -32600
    server.close()
    server.assert_stdout_pure()


def test_json_rpc_shapes_and_batches_over_http(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    url = f"{server.url}?cloud=api.mist.com"
    try:
        with httpx2.Client(timeout=30, headers={**HEADERS, "X-Mist-Token": "t"}) as c:
            no_version = c.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
            assert no_version.json()["error"]["code"] == -32602 and no_version.json()["id"] == 1
            sid = c.post(url, json=init()).headers["mcp-session-id"]
            session = {"mcp-session-id": sid}
            for message, id_, code in SHAPES:
                r = c.post(url, json=message, headers=session)
                assert r.headers["content-type"].startswith("application/json"), r.text
                assert r.json()["id"] == id_ and r.json()["error"]["code"] == code, (message, r.text)
            refused = c.post(url, json=[{"jsonrpc": "2.0", "id": 2, "method": "ping"}], headers=session)
            assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/json")
            assert refused.json()["error"]["code"] == -32600

            old = c.post(url, json=init("2025-03-26"))
            assert old.status_code == 200
            session = {"mcp-session-id": old.headers["mcp-session-id"]}
            c.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
            batch = c.post(url, headers=session, json=[
                {"jsonrpc": "2.0", "id": 1, "method": "ping"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}},
                {"jsonrpc": "2.0", "id": 3, "method": "initialize", "params": init()["params"]},
            ])
            assert batch.status_code == 200, batch.text
            answers = {m["id"]: m for m in sse_messages(batch.text)}
            assert set(answers) == {1, 2, 3}
            assert answers[1]["result"] == {} and "t@example.com" in answers[2]["result"]["content"][0]["text"]
            assert answers[3]["error"]["code"] == -32600
            only_notifications = c.post(url, headers=session, json=[{"jsonrpc": "2.0", "method": "notifications/initialized"}])
            assert only_notifications.status_code == 202
    finally:
        server.stop()


# 6. End of stdin before initialize; DELETE.

@pytest.mark.parametrize("lines", ["", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {
    "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
              "io.modelcontextprotocol/clientCapabilities": {}}}}) + "\n"])
def test_end_of_stdin_before_initialize_exits_quietly(mistmcp_bin, lines):
    run = subprocess.run([mistmcp_bin], input=lines, capture_output=True, text=True, env=server_env(), timeout=30)
    assert run.returncode == 0, run.stderr
    assert "Error" not in run.stderr and "backtrace" not in run.stderr.lower(), run.stderr


@pytest.mark.anyio
async def test_closing_an_http_session_is_a_success_for_the_sdk(mistmcp_bin, mist, caplog):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        with caplog.at_level(logging.DEBUG):
            async with http_session(f"{server.url}?cloud=api.mist.com", {"X-Mist-Token": "t"}) as (s, _):
                await s.list_tools()
        assert "Session termination failed" not in caplog.text
        with httpx2.Client(timeout=30) as c:
            sid = c.post(f"{server.url}?cloud=api.mist.com", json=init(), headers=HEADERS).headers["mcp-session-id"]
            assert c.delete(f"{server.url}?cloud=api.mist.com", headers={"mcp-session-id": sid}).status_code == 200
    finally:
        server.stop()


# 7. Advice that works.

@pytest.mark.anyio
async def test_an_http_client_without_a_token_is_told_which_header(mistmcp_bin, mist):
    server = HttpServer(mistmcp_bin, ["--api-url", mist])
    try:
        async with http_session(f"{server.url}?cloud=api.mist.com") as (s, _):
            text = (await s.call_tool("getSelf", {})).content[0].text
        assert "Authorization: Bearer" in text and "restart" not in text and "MIST_APITOKEN" not in text
    finally:
        server.stop()


def suggested_commands(text: str, program: str) -> list[str]:
    """The commands a message tells the user to run: `program ...` between backticks."""
    return [m for m in re.findall(r"`([^`]+)`", text) if m.startswith(program + " ")]


def test_every_command_the_programs_suggest_runs_verbatim(mistmcp_bin, tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    store = tmp_path / "store" / "tokens.json"
    # An HTTP server given a store that does not exist suggests how to create it.
    run = subprocess.run([mistmcp_bin, "-t", "http", "-p", "0", "--tokens-file", str(store)],
                         capture_output=True, text=True, env=env, timeout=30)
    suggestions = suggested_commands(run.stderr, "mistmcp")
    # A public bind without tokens suggests creating one.
    run = subprocess.run([mistmcp_bin, "-t", "http", "--host", "0.0.0.0", "-p", "0"],
                         capture_output=True, text=True, env=env, timeout=30)
    suggestions += suggested_commands(run.stderr, "mistmcp")
    assert len(suggestions) >= 2, suggestions
    for i, command in enumerate(suggestions):
        args = [a.replace("<name>", f"user{i}") for a in shlex.split(command)]
        done = subprocess.run([mistmcp_bin, *args[1:]], capture_output=True, text=True, env=env, timeout=30)
        assert done.returncode == 0 and done.stdout.startswith("mmcp_"), (command, done.stderr)

    mistcli = built_binary("mistcli")
    cli_env = {**env, "MISTCLI_CONFIG": "/nonexistent"}
    no_token = subprocess.run([mistcli, "sites", "list"], capture_output=True, text=True, env=cli_env, timeout=30)
    assert no_token.returncode == 3 and "restart" not in no_token.stderr and "--profile" in no_token.stderr
    unknown = subprocess.run([mistcli, "call", "listOrgSitez"], capture_output=True, text=True, env=cli_env, timeout=30)
    for command in suggested_commands(unknown.stderr, "mistcli"):
        args = [a for a in shlex.split(command)[1:] if a != "<words>"] + (["sites"] if "<words>" in command else [])
        done = subprocess.run([mistcli, *args], capture_output=True, text=True, env=cli_env, timeout=30)
        assert done.returncode == 0, (command, done.stderr)


# 9. mistcli papercuts.

def test_mistcli_ends_quietly_on_a_closed_pipe(tmp_path):
    mistcli = built_binary("mistcli")
    run = subprocess.run(f"set -o pipefail; {shlex.quote(mistcli)} ops list | head -1", shell=True, executable="/bin/bash",
                         capture_output=True, text=True, timeout=30, env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)})
    assert run.returncode == 0 and run.stderr == "" and run.stdout.count("\n") == 1, run


def test_mistcli_ops_follow_the_output_format(tmp_path):
    mistcli = built_binary("mistcli")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    found = json.loads(subprocess.run([mistcli, "ops", "search", "site", "devices", "-o", "json"],
                                      capture_output=True, text=True, env=env, timeout=30).stdout)
    assert found and {"command", "operation", "method"} <= set(found[0])
    lines = subprocess.run([mistcli, "ops", "list", "-o", "ndjson"], capture_output=True, text=True, env=env, timeout=30).stdout
    assert len([json.loads(line) for line in lines.splitlines()]) == 1011


def test_mistcli_completions_are_small_and_answer_at_tab(tmp_path):
    mistcli = built_binary("mistcli")
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    script = subprocess.run([mistcli, "completions", "bash"], capture_output=True, text=True, env=env, timeout=30).stdout
    assert 0 < len(script) < 10_000
    probe = (f"source <({shlex.quote(mistcli)} completions bash); COMP_WORDS=(mistcli sites l); COMP_CWORD=2; "
             "_clap_complete_mistcli mistcli l sites; echo \"${COMPREPLY[@]}\"; "
             "COMP_WORDS=(mistcli sit); COMP_CWORD=1; _clap_complete_mistcli mistcli sit mistcli; echo \"${COMPREPLY[@]}\"")
    run = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    verbs, resources = run.stdout.splitlines()[:2]
    assert "list" in verbs.split() and "sites" in resources.split(), run


class CountingSelf(QuietHandler):
    calls: list[str] = []

    def do_GET(self):  # noqa: N802
        CountingSelf.calls.append(self.path)
        if self.path.startswith("/api/v1/self"):
            send_json(self, 200, {"email": "me@example.com", "privileges": [{"scope": "org", "org_id": ORG_ID, "role": "read"}]})
        else:
            send_json(self, 200, [])


def test_mistcli_remembers_the_org_of_a_token(tmp_path):
    mistcli = built_binary("mistcli")
    CountingSelf.calls = []
    with serve_mock(CountingSelf) as url:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "MISTCLI_CONFIG": "/nonexistent",
               "MIST_APITOKEN": TOKEN, "MIST_API_URL": url}
        for _ in range(3):
            run = subprocess.run([mistcli, "sites", "list"], capture_output=True, text=True, env=env, timeout=30, cwd=tmp_path)
            assert run.returncode == 0, run.stderr
        other = {**env, "MIST_APITOKEN": "another-token"}
        assert subprocess.run([mistcli, "sites", "list"], capture_output=True, text=True, env=other, timeout=30, cwd=tmp_path).returncode == 0
    assert sum(c.startswith("/api/v1/self") for c in CountingSelf.calls) == 2, CountingSelf.calls
    cache = tmp_path / ".cache" / "mistcli" / "orgs.json"
    assert oct(cache.stat().st_mode & 0o777) == "0o600" and TOKEN not in cache.read_text()


# 11. The catalog is generated once.

def test_a_second_build_does_not_rerun_the_catalog_generator():
    build = ["cargo", "build", "--locked", "--bin", "mistmcp", "--message-format", "json"]
    run = subprocess.run(build, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    run = subprocess.run(build, capture_output=True, text=True, cwd=ROOT, timeout=900)
    artifacts = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    mistcore = [a for a in artifacts if a.get("reason") == "compiler-artifact" and a["target"]["name"] == "mistcore"]
    assert mistcore and all(a["fresh"] for a in mistcore), "mistcore was rebuilt with nothing changed"
    assert not any(a.get("reason") == "build-script-executed" and "mistcore" in a.get("package_id", "") and not a.get("fresh", True)
                   for a in artifacts)



# Found by a review of the change: ids rmcp would rewrite, duplicate ids, cancellations,
# origins that only name themselves, an empty bound cloud.

def read_with_watchdog(server: RawServer, seconds: float = 30) -> dict:
    """The next message, or a failure instead of a hang (a watchdog, not a timing assertion)."""
    import select
    ready, _, _ = select.select([server.proc.stdout], [], [], seconds)
    assert ready, "no answer: the server holds it"
    return server.read_message()


def test_batch_ids_are_kept_and_never_shared_over_stdio(mistmcp_bin):
    server = RawServer(mistmcp_bin, [], server_env())
    server.send_line(json.dumps(init("2025-03-26", 0)))
    read_with_watchdog(server)
    server.send_line(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    server.send_line(json.dumps([{"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
                                 {"jsonrpc": "2.0", "id": 2, "method": "ping"},
                                 {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]))
    answers = read_with_watchdog(server)
    by_id = {json.dumps(a["id"]): a for a in answers}
    assert by_id["1.5"]["error"]["code"] == -32600
    assert len(answers) == 3 and sum("result" in a for a in answers) == 1, answers
    server.close()
    server.assert_stdout_pure()


def test_a_cancelled_request_does_not_hold_its_batch(mistmcp_bin):
    with echo_mist() as url:
        server = RawServer(mistmcp_bin, [], server_env(url, token="slow"))
        server.send_line(json.dumps(init("2025-03-26", 0)))
        read_with_watchdog(server)
        server.send_line(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        server.send_line(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "getSelf"}},
                                     {"jsonrpc": "2.0", "id": 2, "method": "ping"}]))
        server.send_line(json.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}))
        answers = read_with_watchdog(server)
        assert [a["id"] for a in answers] == [2], answers
        server.close()


def test_origins_that_name_themselves_and_listed_ports(mistmcp_bin, mist):
    open_server = HttpServer(mistmcp_bin, ["--api-url", mist, "--allow-unauthenticated"], host="0.0.0.0")
    try:
        with httpx2.Client(timeout=30) as c:
            url = f"http://127.0.0.1:{open_server.port}/mcp?cloud=api.mist.com"
            # No Host allow-list: naming the Host is no proof of being the server (DNS rebinding).
            rebound = c.post(url, json=init(), headers={**HEADERS, "Origin": f"http://evil.example.com:{open_server.port}",
                                                        "Host": f"evil.example.com:{open_server.port}"})
            assert rebound.status_code == 403
    finally:
        open_server.stop()
    listed = HttpServer(mistmcp_bin, ["--api-url", mist, "--allowed-origins", "https://chat.example.com,http://localhost:*"])
    try:
        with httpx2.Client(timeout=30) as c:
            url = f"{listed.url}?cloud=api.mist.com"
            for origin in ("https://chat.example.com:443", "http://localhost:3000"):
                assert c.post(url, json=init(), headers={**HEADERS, "Origin": origin}).status_code == 200, origin
            refused = c.post(url, json=init(), headers={**HEADERS, "Origin": "http://chat.example.com"})
            assert refused.status_code == 403 and refused.headers.get("connection") == "close"
    finally:
        listed.stop()


def test_an_empty_bound_cloud_is_not_replaced_by_the_clients(mistmcp_bin, mist, tmp_path):
    bound = tmp_path / "bound.env"
    bound.write_text("MIST_APITOKEN=bound-token\nMIST_HOST=\n")
    store = tmp_path / "tokens.json"
    token = tokens(mistmcp_bin, "tokens", "create", "--tokens-file", str(store), "--id", "svc",
                   "--mist-env-file", str(bound)).stdout.strip()
    server = HttpServer(mistmcp_bin, ["--tokens-file", str(store)])
    try:
        with httpx2.Client(timeout=30) as c:
            r = c.post(f"{server.url}?cloud=api.eu.mist.com", json=init(),
                       headers={**HEADERS, "Authorization": f"Bearer {token}"})
            assert r.status_code == 400, r.text
    finally:
        server.stop()


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_long_stdio_lines_are_answered_and_memory_stays_bounded(mistmcp_bin):
    """Issue 14: a line over MISTMCP_MAX_LINE_BYTES (8 MiB) gets -32600 with its id; reading it
    costs no more memory than the cap (measured from /proc)."""
    server = RawServer(mistmcp_bin, [], server_env())
    server.initialize()
    with memory_watchdog([server.proc.pid], 1024) as killed:
        send_long_lines(server)
    assert not killed, killed
    assert peak_rss_mib(server.proc.pid) < 80, peak_rss_mib(server.proc.pid)
    assert server.request("tools/list")["result"]["tools"]  # still serving
    server.close()
    server.assert_stdout_pure()


def send_long_lines(server: RawServer) -> None:
    for size_mib in (17, 120):
        huge = "x" * (size_mib << 20)
        server.send_line(json.dumps({"jsonrpc": "2.0", "id": 77, "method": "tools/call",
                                     "params": {"name": "mist_search_operations", "arguments": {"query": huge}}}))
        del huge
        answer = read_with_watchdog(server, 120)
        assert answer["id"] == 77 and answer["error"]["code"] == -32600, answer["error"]
        assert "MISTMCP_MAX_LINE_BYTES" in answer["error"]["message"]


class EndlessBody(QuietHandler):
    """An answer that never ends (chunked), until the client goes away or 2 GB were sent."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"[" + b'{"name": "x"},' * 65536
        try:
            for _ in range(2048):  # bounded: at most ~2 GB
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass


def test_an_endless_upstream_answer_is_cut_at_the_limit(mistmcp_bin):
    """Issue 14: an answer is read as a stream up to MISTMCP_MAX_UPSTREAM_BYTES; memory stays flat."""
    with serve_mock(EndlessBody) as url:
        server = RawServer(mistmcp_bin, [], server_env(url, MISTMCP_MAX_UPSTREAM_BYTES=str(16 << 20)))
        server.initialize()
        with memory_watchdog([server.proc.pid], 1024) as killed:
            answer = server.call("getSelf")
        assert not killed, killed
        text = answer["result"]["content"][0]["text"]
        assert answer["result"]["isError"] and "too large" in text, text
        assert peak_rss_mib(server.proc.pid) < 120, peak_rss_mib(server.proc.pid)
        server.close()
