"""mistcli against Prism and against a mock of our own for paging and faults: stdout carries
only JSON (or the asked format), errors go to stderr, exit codes are the documented ones."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ORG_ID, QuietHandler, ROOT, TOKEN, built_binary, send_json, serve_mock

SITE_ID = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"


@pytest.fixture(scope="session")
def mistcli_bin() -> str:
    return built_binary("mistcli")


def run(binary, args, api_url=None, token=TOKEN, stdin="", **env):
    """Runs mistcli in a scratch directory with a clean environment."""
    e = {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir(), "MISTCLI_CONFIG": "/nonexistent"}
    if token:
        e["MIST_APITOKEN"] = token
    if api_url:
        e["MIST_API_URL"] = api_url
    e.update(env)
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, env=e, cwd=cwd, timeout=60)


def test_sites_list_with_the_default_org(mistcli_bin, prism):
    r = run(mistcli_bin, ["sites", "list"], prism)  # the only org of the token, from /self
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert isinstance(json.loads(r.stdout), list)


def test_devices_search_in_a_site_and_formats(mistcli_bin, prism):
    r = run(mistcli_bin, ["devices", "search", "--site", SITE_ID, "--type", "switch", "--page-size", "5"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    assert "results" in json.loads(r.stdout)
    table = run(mistcli_bin, ["sites", "list", "-o", "table"], prism, MIST_ORG_ID=ORG_ID)
    assert table.returncode == 0 and table.stdout.split()[0] == "NAME" and "Mist Office" in table.stdout
    cols = run(mistcli_bin, ["sites", "list", "-o", "table", "--columns", "id,timezone"], prism, MIST_ORG_ID=ORG_ID)
    assert cols.stdout.split()[:2] == ["ID", "TIMEZONE"]
    nd = run(mistcli_bin, ["sites", "list", "-o", "ndjson"], prism, MIST_ORG_ID=ORG_ID)
    assert all(json.loads(line)["name"] for line in nd.stdout.splitlines())
    before = run(mistcli_bin, ["-o", "table", "--org", ORG_ID, "sites", "list"], prism)  # global flags first
    assert before.returncode == 0 and before.stdout.split()[0] == "NAME", before.stderr
    yaml = run(mistcli_bin, ["self", "get", "-o", "yaml"], prism)
    assert yaml.returncode == 0 and "privileges:" in yaml.stdout


def test_call_and_ops(mistcli_bin, prism):
    r = run(mistcli_bin, ["call", "listOrgSites", f"org_id={ORG_ID}", "limit=2"], prism)
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), list), r.stderr
    s = run(mistcli_bin, ["ops", "search", "site", "devices"])
    assert s.returncode == 0 and "mistcli devices search --site <id>" in s.stdout
    show = run(mistcli_bin, ["ops", "show", "searchOrgDevices"])
    assert "mistcli devices search" in show.stdout and "--type" in show.stdout
    bad = run(mistcli_bin, ["call", "listOrgSite"], prism)
    assert bad.returncode == 2 and "listOrgSites" in bad.stderr and bad.stdout == ""


def test_every_get_operation_has_exactly_one_command(mistcli_bin):
    r = run(mistcli_bin, ["ops", "list"])
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    spec = json.loads((ROOT.parent / "shared" / "mist_openapi" / "mist.openapi.json").read_text())
    gets = {op["operationId"] for item in spec["paths"].values() for m, op in item.items() if m == "get"}
    listed = [row[0] for row in rows if row[1] == "GET"]
    assert sorted(listed) == sorted(gets)  # none missing, none twice
    # No two operations share a command line (the scope flag is part of it).
    assert len({row[2] for row in rows}) == len(rows)


def test_resource_help_lists_verbs_with_operations(mistcli_bin):
    r = run(mistcli_bin, ["devices", "--help"])
    assert r.returncode == 0 and "Search Org Devices (also with --site)" in r.stdout
    assert "--max-pages" not in r.stdout and "mistcli --help" in r.stdout  # global flags are in one place
    r = run(mistcli_bin, ["devices", "search", "--help"])
    assert r.returncode == 0 and "searchOrgDevices" in r.stdout and "searchSiteDevices" in r.stdout
    assert "--page-size" in r.stdout
    same = run(mistcli_bin, ["help", "devices", "search"])
    assert same.returncode == 0 and "searchSiteDevices" in same.stdout


def test_the_overview_is_short(mistcli_bin):
    """Issue 20: `mistcli` alone and `mistcli --help` give one short overview; `help all` the rest."""
    bare, long = run(mistcli_bin, []), run(mistcli_bin, ["--help"])
    assert bare.returncode == 0 and long.returncode == 0 and bare.stdout.strip() == long.stdout.strip()
    lines = bare.stdout.splitlines()
    assert len(lines) < 60, len(lines)
    for words in ["Sites", "Devices", "Clients", "WLANs", "Config objects", "Stats", "Events", "Alarms",
                  "Upgrades", "MSP", "Self", "Global flags", "mistcli help all", "mistcli ops search"]:
        assert words in bare.stdout, words
    assert bare.stdout.count("--max-pages") == 1
    everything = run(mistcli_bin, ["help", "all"])
    ops = run(mistcli_bin, ["ops", "list"])
    resources = {line.split("\t")[2].split()[1] for line in ops.stdout.splitlines()}
    assert everything.returncode == 0 and len(everything.stdout.splitlines()) == len(resources) + 1
    assert all(f"  {r} " in everything.stdout for r in resources)
    bad = run(mistcli_bin, ["help", "nosuch"])
    assert bad.returncode == 2 and "help all" in bad.stderr


def test_limit_counts_items_across_pages(mistcli_bin, mock):
    """--limit N is N items, following pages as needed (as gh); --page-size is the page."""
    r = run(mistcli_bin, ["sites", "list", "--limit", "3", "--page-size", "2"], mock, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    assert [s["name"] for s in json.loads(r.stdout)] == ["site-1-0", "site-1-1", "site-2-0"]
    assert [p for _, p, _ in Mock.seen if "/sites" in p][-1].endswith("page=2")  # page 3 was not fetched
    Mock.seen = []
    r = run(mistcli_bin, ["sites", "list", "--limit", "1"], mock, MIST_ORG_ID=ORG_ID)
    assert [s["name"] for s in json.loads(r.stdout)] == ["site-1-0"]
    assert len(Mock.seen) == 1 and "limit=1" in Mock.seen[0][1]  # one page of exactly what is asked
    r = run(mistcli_bin, ["devices", "search", "--paginate"], mock, MIST_ORG_ID=ORG_ID)
    assert [d["name"] for d in json.loads(r.stdout)] == ["dev-first", "dev-a"]


def test_json_fields_and_jq_in_a_pipe(mistcli_bin, prism):
    r = run(mistcli_bin, ["sites", "list", "--json", "name,id"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    sites = json.loads(r.stdout)
    assert sites and all(set(s) == {"name", "id"} for s in sites)
    r = run(mistcli_bin, ["devices", "search", "--json", "mac,nope", "-o", "ndjson"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and all(set(json.loads(line)) == {"mac", "nope"} for line in r.stdout.splitlines())
    assert "no item has nope" in r.stderr and "mac" in r.stderr
    r = run(mistcli_bin, ["sites", "list", "--json", "name", "--jq", ".[].name"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and r.stdout.strip() == "Mist Office"
    r = run(mistcli_bin, ["--jq", ".[].name", "--limit", "1", "--json", "name", "sites", "list"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and r.stdout.strip() == "Mist Office", r.stderr  # global flags before the command
    # In a pipe the default is JSON, never a table.
    r = run(mistcli_bin, ["sites", "list"], prism, MIST_ORG_ID=ORG_ID)
    assert r.stdout.startswith("[") and "\n" == r.stdout[-1] and r.stdout.count("\n") == 1


def test_api_like_gh(mistcli_bin, prism, mock):
    """mistcli api [METHOD] PATH: any catalog path, placeholders, -f fields, --input, the write gate."""
    r = run(mistcli_bin, ["api", "/api/v1/self", "--json", "email"], prism)
    assert r.returncode == 0 and json.loads(r.stdout) == {"email": "user@example.com"}, r.stderr
    r = run(mistcli_bin, ["api", "orgs/{org_id}/devices/search", "-f", "type=switch", "--jq", ".results | length"],
            prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and int(r.stdout) >= 1, r.stderr
    for args, words in [
        (["api", "PATCH", "/api/v1/self"], "it takes GET"),
        (["api", "-X", "PATCH", "/api/v1/self"], "it takes GET"),
        (["api", "-X", "GET", "GET", "/api/v1/self"], "given twice"),
        (["api", "orgs/{org_id}/devices/search", "-f", "type=swich"], "closest: switch"),
        (["api", "orgs/{org_id}/devices/search", "-f", "typo=1"], "no field `typo`"),
        (["api", "/api/v1/orgs/../self"], "not a plain"),
        (["api", "sites/{site_id}/wlans"], "--site"),
        (["api", "/api/v1/nowhere"], "no Mist operation"),
    ]:
        bad = run(mistcli_bin, args, prism, MIST_ORG_ID=ORG_ID)
        assert bad.returncode == 2 and words in bad.stderr and bad.stdout == "", (args, bad.stderr)
    # A write asks first; in a pipe without --yes nothing is sent.
    r = run(mistcli_bin, ["api", "POST", "orgs/{org_id}/sites", "--input", "-"], mock, stdin='{"name": "x"}',
            MIST_ORG_ID=ORG_ID)
    assert r.returncode == 2 and "--yes" in r.stderr and not [s for s in Mock.seen if s[0] == "POST"]
    r = run(mistcli_bin, ["api", "POST", "orgs/{org_id}/sites", "--input", "-", "--yes"], mock,
            stdin='{"name": "x"}', MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and json.loads(r.stdout) == {"id": "new"}, r.stderr
    r = run(mistcli_bin, ["api", "-X", "POST", "orgs/{org_id}/sites", "--input", "-", "--yes"], mock,
            stdin='{"name": "x"}', MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0 and [s[0] for s in Mock.seen].count("POST") == 2, r.stderr
    r = run(mistcli_bin, ["api", "orgs/{org_id}/sites", "--paginate", "-f", "limit=2"], mock, MIST_ORG_ID=ORG_ID)
    assert len(json.loads(r.stdout)) == 5, r.stderr


def test_bad_input_exit_codes(mistcli_bin, prism):
    unknown = run(mistcli_bin, ["sitez", "list"], prism)
    assert unknown.returncode == 2 and "sites" in unknown.stderr and unknown.stdout == ""
    bad_enum = run(mistcli_bin, ["devices", "search", "--type", "swich"], prism, MIST_ORG_ID=ORG_ID)
    assert bad_enum.returncode == 2 and "switch" in bad_enum.stderr and bad_enum.stdout == ""
    bad_uuid = run(mistcli_bin, ["sites", "list", "--org", "nope"], prism)
    assert bad_uuid.returncode == 2 and "--org" in bad_uuid.stderr and "UUID" in bad_uuid.stderr
    no_token = run(mistcli_bin, ["sites", "list"], prism, token=None)
    assert no_token.returncode == 3 and "MIST_APITOKEN" in no_token.stderr and no_token.stdout == ""


class Mock(QuietHandler):
    """Pages (X-Page-* headers and search `next`) and faults (401, 404, 429)."""

    seen: list[tuple[str, str, str]] = []

    def do_GET(self):  # noqa: N802
        Mock.seen.append(("GET", self.path, self.headers.get("Authorization", "")))
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if path.endswith("/sites"):
            page = int(params.get("page", "1"))
            items = [{"id": f"{page}-{i}", "name": f"site-{page}-{i}"} for i in range(2 if page < 3 else 1)]
            self.reply(200, items, {"X-Page-Total": "5", "X-Page-Limit": "2", "X-Page-Page": str(page)})
        elif path.endswith("/devices/search"):
            after = params.get("search_after")
            nxt = None if after else f"{path}?limit=1&search_after=a"
            self.reply(200, {"results": [{"name": "dev-" + (after or "first")}], "total": 2, "next": nxt})
        elif path.endswith("/self"):
            self.reply(401, {"detail": "Invalid token"})
        elif path.endswith("/wlans"):
            self.reply(429, {"detail": "Too many requests. 5000 per hour"})
        else:
            self.reply(404, {"detail": "not found"})

    def do_POST(self):  # noqa: N802
        Mock.seen.append(("POST", self.path, ""))
        self.reply(200, {"id": "new"})

    def reply(self, status, body, headers=None):
        send_json(self, status, body, headers)


@pytest.fixture
def mock():
    Mock.seen = []
    with serve_mock(Mock) as url:
        yield url


def test_all_follows_pages(mistcli_bin, mock):
    r = run(mistcli_bin, ["sites", "list", "--all", "--page-size", "2"], mock, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    assert [s["name"] for s in json.loads(r.stdout)] == ["site-1-0", "site-1-1", "site-2-0", "site-2-1", "site-3-0"]
    assert [p for _, p, _ in Mock.seen][-1].endswith("page=3")
    r = run(mistcli_bin, ["devices", "search", "--all"], mock, MIST_ORG_ID=ORG_ID)
    assert [d["name"] for d in json.loads(r.stdout)] == ["dev-first", "dev-a"]


def test_http_errors_map_to_exit_codes(mistcli_bin, mock):
    for args, code, words in [
        (["self", "get"], 3, "401"),
        (["sites", "get", "--site", SITE_ID], 4, "404"),
        (["wlans", "list"], 5, "5000 calls per hour"),
    ]:
        r = run(mistcli_bin, args, mock, MIST_ORG_ID=ORG_ID)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert words in r.stderr and r.stdout == ""
        assert TOKEN not in r.stderr


def test_writes_need_yes_outside_a_terminal(mistcli_bin, mock):
    r = run(mistcli_bin, ["sites", "create", "--body", '{"name": "x"}'], mock, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 2 and "--yes" in r.stderr
    assert not [s for s in Mock.seen if s[0] == "POST"]
    r = run(mistcli_bin, ["sites", "create", "--body", "-", "--yes"], mock, stdin='{"name": "x"}', MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    assert [s[0] for s in Mock.seen].count("POST") == 1


def test_profiles_supply_the_token(mistcli_bin, mock, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'default = "lab"\n[profiles.lab]\ntoken = "{TOKEN}"\napi_url = "{mock}"\norg_id = "{ORG_ID}"\n')
    r = run(mistcli_bin, ["sites", "list", "--page-size", "2"], None, token=None, MISTCLI_CONFIG=str(config))
    assert r.returncode == 0, r.stderr
    assert Mock.seen[-1][2] == f"Token {TOKEN}" and ORG_ID in Mock.seen[-1][1]
    r = run(mistcli_bin, ["sites", "list", "--profile", "prod"], None, token=None, MISTCLI_CONFIG=str(config))
    assert r.returncode == 2 and "lab" in r.stderr
    # An explicit profile's token goes only where the profile says, whatever the environment holds.
    Mock.seen = []
    r = run(mistcli_bin, ["sites", "list", "--profile", "lab"], "http://127.0.0.1:9", token="env-token", MISTCLI_CONFIG=str(config))
    assert r.returncode == 0, r.stderr
    assert Mock.seen and Mock.seen[-1][2] == f"Token {TOKEN}"
    # A file others may change could send the token anywhere: refused, as ssh refuses one, and nothing is sent.
    Mock.seen = []
    config.chmod(0o666)
    r = run(mistcli_bin, ["sites", "list"], None, token=None, MISTCLI_CONFIG=str(config))
    assert r.returncode == 2 and "chmod go-w" in r.stderr and not Mock.seen, r.stderr


def test_completions(mistcli_bin):
    # Small registration scripts: mistcli itself answers each Tab (see test_client_expectations).
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"]:
        r = run(mistcli_bin, ["completions", shell])
        assert r.returncode == 0 and "mistcli" in r.stdout and len(r.stdout) < 10_000, shell


def test_readme_pipelines(mistcli_bin, prism, tmp_path):
    """The three pipelines of the README's shell-scripting section, run by bash against Prism."""
    env = {"PATH": f"{Path(mistcli_bin).parent}:{os.environ.get('PATH', '')}", "MIST_APITOKEN": TOKEN,
           "MIST_API_URL": prism, "MISTCLI_CONFIG": "/nonexistent", "HOME": str(tmp_path)}
    scripts = [
        "mistcli devices-stats list --type switch --status disconnected --all -o ndjson"
        " | jq -r '[.name, .mac, .site_id] | @csv'",
        "mistcli inventory get --all -o ndjson | jq -c '{serial, mac, model, site_id}' | sort",
        "mistcli sites list --all -o ndjson | jq -r '.id' | while read -r site; do"
        " mistcli wlans list --site \"$site\" -o ndjson | jq -r --arg site \"$site\" '[$site, .ssid] | @tsv'; done",
    ]
    for script in scripts:
        r = subprocess.run(["bash", "-c", "set -euo pipefail; " + script], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        assert r.returncode == 0, (script, r.stderr)
        assert r.stdout.strip(), script


class EndlessMist(QuietHandler):
    """A search whose `next` never changes, and a list that claims a million pages."""

    calls: list[str] = []

    def do_GET(self):  # noqa: N802
        EndlessMist.calls.append(self.path)
        if "/devices/search" in self.path:
            send_json(self, 200, {"results": [{"mac": "5c5b350e0001"}], "total": 1_000_000, "limit": 1,
                                  "next": f"/api/v1/orgs/{ORG_ID}/devices/search?limit=1&search_after=same"})
        else:
            page = int(self.path.split("page=")[1].split("&")[0]) if "page=" in self.path else 1
            send_json(self, 200, [{"id": str(page), "name": f"site {page}"}],
                      {"X-Page-Total": "1000000", "X-Page-Limit": "1", "X-Page-Page": str(page)})


def test_all_stops_on_a_repeating_next_and_at_its_caps(mistcli_bin):
    """Issue 14: --all never spends the token's budget on a link that leads nowhere new."""
    EndlessMist.calls = []
    with serve_mock(EndlessMist) as url:
        repeat = run(mistcli_bin, ["devices", "search", "--org", ORG_ID, "--all"], url)
        assert repeat.returncode == 1 and repeat.stdout == "" and "same next page" in repeat.stderr, repeat
        assert len(EndlessMist.calls) <= 3, EndlessMist.calls
        EndlessMist.calls = []
        capped = run(mistcli_bin, ["sites", "list", "--org", ORG_ID, "--all", "--max-pages", "3"], url)
        assert capped.returncode == 1 and capped.stdout == "" and "--max-pages" in capped.stderr, capped
        assert len(EndlessMist.calls) == 3, EndlessMist.calls


def test_jq_like_gh(mistcli_bin, prism):
    r = run(mistcli_bin, ["sites", "list", "--jq", ".[] | .name"], prism, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines and all(not line.startswith('"') for line in lines)  # strings raw, one per line
    objects = run(mistcli_bin, ["sites", "list", "--jq", ".[] | {name}"], prism, MIST_ORG_ID=ORG_ID)
    assert all(json.loads(line).keys() == {"name"} for line in objects.stdout.splitlines())
    bad = run(mistcli_bin, ["sites", "list", "--jq", ".[] |"], prism, MIST_ORG_ID=ORG_ID)
    assert bad.returncode == 2 and "line 1" in bad.stderr and bad.stdout == ""
    loop = run(mistcli_bin, ["sites", "list", "--jq", "[.[] as $a | .[] as $b | .[] as $c | .[] as $d | .[] as $e | .[] as $f | 1] | length"], prism, MIST_ORG_ID=ORG_ID)
    assert loop.returncode in (0, 1) and (loop.returncode == 0 or "budget" in loop.stderr), loop.stderr


class HostileMist(QuietHandler):
    """A Mist that answers with terminal escapes in its error messages and echoes the token back."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802
        HostileMist.seen.append(self.path)
        token = self.headers.get("Authorization", "")
        send_json(self, 404, {"detail": f"no \x1b]0;pwned\x07 such \x1b[2J object \u009b31m \u202e for {token}"})


@pytest.fixture
def hostile():
    HostileMist.seen = []
    with serve_mock(HostileMist) as url:
        yield url


def test_errors_from_mist_cannot_command_the_terminal(mistcli_bin, hostile):
    r = run(mistcli_bin, ["sites", "get", "--site", SITE_ID], hostile, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 4 and "such" in r.stderr, r.stderr
    for raw in ("\x1b", "\x07", "\u009b", "\u202e"):
        assert raw not in r.stderr, r.stderr
    assert "\\u{1b}" in r.stderr  # shown, not obeyed
    assert TOKEN not in r.stderr


def test_api_fields_and_placeholders_cannot_change_the_path(mistcli_bin, hostile):
    # -f takes query fields only: a path id given with -f would call another object than the path names.
    r = run(mistcli_bin, ["api", "sites/{site_id}/wlans", "--site", SITE_ID, "-f", f"site_id={ORG_ID}"], hostile)
    assert r.returncode == 2 and "no field `site_id`" in r.stderr, r.stderr
    r = run(mistcli_bin, ["api", f"sites/{SITE_ID}/wlans?site_id={ORG_ID}"], hostile)
    assert r.returncode == 2 and "no field `site_id`" in r.stderr, r.stderr
    # A value that smuggles another field stays one value (refused here: limit is an integer).
    r = run(mistcli_bin, ["api", "orgs/{org_id}/sites", "-f", f"limit=1&org_id={SITE_ID}"], hostile, MIST_ORG_ID=ORG_ID)
    assert r.returncode == 2, r.stderr
    # A placeholder's value is one segment: `--site x/wlans/y` cannot reach getSiteWlan.
    r = run(mistcli_bin, ["api", "sites/{site_id}", "--site", f"{SITE_ID}/wlans/{SITE_ID}"], hostile)
    assert r.returncode == 2 and "not a plain" in r.stderr, r.stderr
    for path in ("//evil.example/api/v1/self", "https://evil.example/api/v1/self", "/api/v1/%2e%2e/self",
                 "/api/v1/self#x", "/api/v1/" + "a/" * 20000):
        r = run(mistcli_bin, ["api", path], hostile)
        assert r.returncode == 2, (path[:80], r.stderr[:300])
    assert HostileMist.seen == []


def test_a_body_is_bounded(mistcli_bin, hostile):
    r = run(mistcli_bin, ["api", "POST", "orgs/{org_id}/sites", "--input", "/dev/zero", "--yes"], hostile,
            MIST_ORG_ID=ORG_ID)
    assert r.returncode == 2 and "larger than" in r.stderr, r.stderr
    assert HostileMist.seen == []
