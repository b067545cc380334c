"""Bad input over raw stdio: every mistake gets a clear error, the next good call works, and
stdout carries nothing but JSON-RPC. Also the faults Prism cannot produce (401, X-Page-*
headers), from a small HTTP server of our own."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ORG_ID, QuietHandler, TOKEN, send_json, serve_mock, server_env


class RawServer:
    """mistmcp driven line by line, as a badly behaved client would."""

    def __init__(self, binary: str, args: list[str], env: dict[str, str], files: dict[str, str] | None = None):
        """`files` are written into the scratch working directory first (a `.env`, say)."""
        self.cwd = tempfile.TemporaryDirectory()
        for name, text in (files or {}).items():
            Path(self.cwd.name, name).write_text(text)
        self.proc = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, cwd=self.cwd.name, text=True, bufsize=1,
        )
        self.stdout_lines: list[str] = []
        self.next_id = 100

    def send_line(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read_message(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, "server closed stdout"
        self.stdout_lines.append(line)
        return json.loads(line)

    def wait_for(self, request_id) -> dict:
        while True:
            message = self.read_message()
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return message

    def request(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        message = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send_line(json.dumps(message))
        return self.wait_for(self.next_id)

    def call(self, name: str, arguments: dict | None = None) -> dict:
        return self.request("tools/call", {"name": name, "arguments": arguments or {}})

    def initialize(self) -> dict:
        answer = self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
        )
        self.send_line(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        return answer

    def close(self) -> tuple[int, str]:
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        self.stdout_lines.extend(rest.splitlines(keepends=True))
        code = self.proc.wait(15)
        stderr = self.proc.stderr.read()
        self.cwd.cleanup()
        return code, stderr

    def assert_stdout_pure(self) -> None:
        for line in self.stdout_lines:
            if line.strip():
                message = json.loads(line)
                # A batch's answers come back as one array of messages.
                for m in message if isinstance(message, list) else [message]:
                    assert m["jsonrpc"] == "2.0", line


def text_of(answer: dict) -> str:
    return "\n".join(c.get("text", "") for c in answer["result"]["content"])


def test_bad_input_battery(mistmcp_bin, prism):
    server = RawServer(mistmcp_bin, ["-m", "custom", "-c", "orgs_sites"], server_env(prism))
    assert server.initialize()["result"]["serverInfo"]["name"] == "mistmcp"

    # A line that is not JSON: a parse error, then the server keeps serving.
    server.send_line("this is not json {")
    parse_error = server.read_message()
    assert parse_error["error"]["code"] == -32700 and parse_error["id"] is None

    # JSON that is not a valid request.
    server.send_line(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": "nope"}))
    assert "error" in server.wait_for(7)

    # Unknown tool: a protocol error naming it.
    answer = server.call("listOrgSitez", {"org_id": ORG_ID})
    assert answer["error"]["code"] == -32602 and "listOrgSites" in answer["error"]["message"]

    # Missing, mistyped, unknown and malicious arguments: tool errors naming the argument.
    cases = [
        ("listOrgSites", {}, "org_id"),
        ("listOrgSites", {"org_id": ORG_ID, "limit": "many"}, "limit"),
        ("listOrgSites", {"org_id": ORG_ID, "colour": "red"}, "colour"),
        ("listOrgSites", {"org_id": "../../self"}, "UUID"),
        ("listOrgSites", {"org_id": 42}, "org_id"),
        ("searchOrgSites", {"org_id": ORG_ID, "sort": "name", "limit": -5}, "limit"),
    ]
    for name, arguments, expected in cases:
        answer = server.call(name, arguments)
        assert answer["result"]["isError"] is True, (name, arguments)
        assert expected in text_of(answer), (name, arguments, text_of(answer))

    # Writes are refused, even by name.
    answer = server.call("createOrgSite", {"org_id": ORG_ID, "body": {"name": "x"}})
    assert answer["result"]["isError"] is True and "write" in text_of(answer)

    # After all that, a good call works.
    answer = server.call("listOrgSites", {"org_id": ORG_ID})
    assert "isError" not in answer["result"] or answer["result"]["isError"] is False
    assert isinstance(json.loads(answer["result"]["content"][0]["text"]), list)

    code, stderr = server.close()
    assert code == 0, stderr  # clean exit on EOF
    server.assert_stdout_pure()
    assert TOKEN not in "".join(server.stdout_lines) + stderr


class FaultHandler(QuietHandler):
    """Answers what Prism cannot: 401 for getSelf, paginated lists with X-Page-* headers,
    search answers with a `next` path, `null` lists."""

    paths: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        FaultHandler.paths.append(self.path)
        if "/devices/search" in self.path:
            nxt = None if "search_after" in self.path else f"/api/v1/orgs/{ORG_ID}/devices/search?limit=1&search_after=x1"
            self.send_json(200, {"results": [{"mac": "5c5b350e0001"}], "total": 2, "limit": 1, "next": nxt})
        elif self.path.startswith("/api/v1/self"):
            self.send_json(401, {"detail": "Authentication credentials were not provided."})
        elif "/sites" in self.path:
            self.send_json(200, [{"id": ORG_ID, "name": "HQ"}], {"X-Page-Total": "250", "X-Page-Limit": "100", "X-Page-Page": "1"})
        elif "/wxtags" in self.path:
            self.send_json(200, None)
        else:
            self.send_json(404, {"detail": "not found"})

    def send_json(self, status, body, headers=None):
        send_json(self, status, body, headers)


@pytest.fixture
def fault_server():
    with serve_mock(FaultHandler) as url:
        yield url


def test_upstream_401_is_a_clear_tool_error(mistmcp_bin, fault_server):
    server = RawServer(mistmcp_bin, ["-d"], server_env(fault_server))
    server.initialize()
    answer = server.call("getSelf")
    text = text_of(answer)
    assert answer["result"]["isError"] is True
    assert "401" in text and "token" in text.lower()
    assert "Authentication credentials" in text
    code, stderr = server.close()
    assert code == 0
    server.assert_stdout_pure()
    assert TOKEN not in "".join(server.stdout_lines) + stderr


def test_pagination_headers_and_null_lists(mistmcp_bin, fault_server):
    FaultHandler.paths.clear()
    server = RawServer(mistmcp_bin, ["-m", "custom", "-c", "orgs_sites,orgs_wxtags,orgs_devices,workflows"], server_env(fault_server))
    server.initialize()
    answer = server.call("listOrgSites", {"org_id": ORG_ID, "limit": 100})
    blocks = [json.loads(c["text"]) for c in answer["result"]["content"]]
    assert blocks[0] == [{"id": ORG_ID, "name": "HQ"}]
    next_path = f"/api/v1/orgs/{ORG_ID}/sites?limit=100&page=2"
    assert blocks[1]["pagination"] == {"total": 250, "limit": 100, "page": 1, "has_more": True, "next": next_path}
    # mist_get_next_page follows it: one request, for page 2.
    answer = server.call("mist_get_next_page", {"url": next_path})
    assert answer["result"]["structuredContent"]["result"] == [{"id": ORG_ID, "name": "HQ"}]
    assert FaultHandler.paths[-1] == next_path

    # Search answers: `next` from the body, followed until it is gone.
    answer = server.call("searchOrgDevices", {"org_id": ORG_ID, "limit": 1})
    pagination = json.loads(answer["result"]["content"][1]["text"])["pagination"]
    assert pagination["has_more"] is True and pagination["next"].endswith("search_after=x1")
    answer = server.call("mist_get_next_page", {"url": pagination["next"]})
    assert answer["result"]["structuredContent"]["pagination"]["has_more"] is False
    assert FaultHandler.paths[-1].endswith("search_after=x1")
    answer = server.call("listOrgWxTags", {"org_id": ORG_ID})
    assert json.loads(answer["result"]["content"][0]["text"]) == []
    server.close()
    server.assert_stdout_pure()


def test_stdout_stays_pure_without_token_with_proxy_and_debug(mistmcp_bin):
    env = server_env(token=None, HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", MISTMCP_DEBUG="true")
    server = RawServer(mistmcp_bin, [], env)
    server.initialize()
    answer = server.call("getSelf")
    assert answer["result"]["isError"] is True and "MIST_APITOKEN" in text_of(answer)
    assert len(server.request("tools/list")["result"]["tools"]) == 5
    code, stderr = server.close()
    assert code == 0
    assert "MIST_APITOKEN" in stderr  # the warning goes to stderr
    server.assert_stdout_pure()


def test_unreachable_upstream_and_bad_token(mistmcp_bin):
    env = server_env("http://127.0.0.1:9", token="bad token with spaces")
    run = subprocess.run([mistmcp_bin], input="", capture_output=True, text=True, env=env, timeout=30)
    assert run.returncode != 0 and "MIST_APITOKEN" in run.stderr and run.stdout == ""
    assert "bad token" not in run.stderr

    server = RawServer(mistmcp_bin, ["--timeout", "2"], server_env("http://127.0.0.1:9"))
    server.initialize()
    answer = server.call("getSelf")
    assert answer["result"]["isError"] is True and "connect" in text_of(answer)
    server.close()
    server.assert_stdout_pure()


def test_env_file_supplies_the_token(mistmcp_bin, fault_server, tmp_path):
    env_file = tmp_path / "mist.env"
    env_file.write_text(f"MIST_APITOKEN={TOKEN}\nMIST_API_URL={fault_server}\n")
    server = RawServer(mistmcp_bin, ["-e", str(env_file)], server_env(token=None))
    server.initialize()
    text = text_of(server.call("getSelf"))
    assert "401" in text  # the request went out with the token, to the URL of the file
    server.close()
