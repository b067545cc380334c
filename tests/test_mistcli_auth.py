"""`mistcli auth` and `mistcli config` as a person and a script use them: the login prompt in a
real terminal (tmux) with the token not shown, tokens in a REAL Secret Service (Debian's
gnome-keyring on a private D-Bus session bus, unlocked with a password on stdin) or in the config
file (mode 0600), `auth status`, `switch`, `logout`, the settings, and refusals that store nothing.

Prism answers /api/v1/self for any token; a mock of ours refuses all but one token (401) and
plays two clouds for the detection, which `MISTCLI_LOGIN_CLOUDS` points `auth login` at (the
test hook that replaces the spec's Mist clouds, which a test cannot reach)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import tomllib
from pathlib import Path

import pytest

from conftest import ORG_ID, QuietHandler, built_binary, send_json, serve_mock
from terminal_support import Terminal

GOOD = "auth-token-5d1c9e7b3a"  # distinctive: any appearance in an output is a leak
BAD = "auth-wrong-8e2f4a6c1d"
ME = {
    "email": "jane@example.com",
    "first_name": "Jane",
    "last_name": "Doe",
    "privileges": [{"scope": "org", "org_id": ORG_ID, "name": "Acme Networks", "role": "admin"}],
}


@pytest.fixture(scope="module")
def mistcli_bin() -> str:
    return built_binary("mistcli")


@contextlib.contextmanager
def secret_service():
    """A private D-Bus session bus with gnome-keyring's Secret Service on it, its login keyring
    created and unlocked with a password on stdin; yields the environment that reaches it."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "secret-tool"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: run scripts/setup.sh")
    home = Path(tempfile.mkdtemp(prefix="mistcli-keyring-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    address = f"unix:path={runtime}/bus"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile", f"--address={address}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "DBUS_SESSION_BUS_ADDRESS": address}
    try:
        deadline = time.monotonic() + 10
        while not (runtime / "bus").exists():
            assert time.monotonic() < deadline, "dbus-daemon did not start"
            time.sleep(0.02)
        # Daemonizes; it ends by itself when the bus goes away.
        subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"], input="keyring-pass",
                       text=True, env=env, capture_output=True, timeout=20, check=True)
        while True:
            owner = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                    "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                    "string:org.freedesktop.secrets"], env=env, capture_output=True, text=True)
            if "boolean true" in owner.stdout:
                break
            assert time.monotonic() < deadline, f"no Secret Service on the bus: {owner.stderr}"
            time.sleep(0.05)
        yield env
    finally:
        bus.terminate()
        bus.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def keyring_lookup(env: dict, profile: str) -> str | None:
    """The token the Secret Service holds for a profile, read by libsecret's own client."""
    r = subprocess.run(["secret-tool", "lookup", "service", "mistcli", "username", profile],
                       env=env, capture_output=True, text=True, timeout=20)
    return r.stdout if r.returncode == 0 else None


@pytest.fixture
def keyring_env():
    with secret_service() as env:
        yield env


@pytest.fixture
def no_keyring_env(tmp_path):
    """No Secret Service: the bus address leads nowhere."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}


class Mist(QuietHandler):
    """/api/v1/self for GOOD only; everything else is refused with 401."""

    def do_GET(self):  # noqa: N802
        if self.headers.get("Authorization") != f"Token {GOOD}":
            send_json(self, 401, {"detail": "Authentication credentials were not provided."})
        elif self.path.startswith("/api/v1/self"):
            send_json(self, 200, ME)
        else:
            send_json(self, 200, [{"id": "site-1", "name": "HQ"}])


class Refusing(QuietHandler):
    """A cloud that knows no token."""

    def do_GET(self):  # noqa: N802
        send_json(self, 401, {"detail": "Invalid token"})


@pytest.fixture(scope="module")
def mist():
    with serve_mock(Mist) as url:
        yield url


@pytest.fixture(scope="module")
def refusing():
    with serve_mock(Refusing) as url:
        yield url


def run(binary, args, env, config, stdin=""):
    e = {**env, "MISTCLI_CONFIG": str(config)}
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([binary, *args], input=stdin, capture_output=True, text=True, env=e, cwd=cwd, timeout=60)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def no_leak(*texts: str) -> None:
    for text in texts:
        assert GOOD not in text and BAD not in text, text


def test_login_at_a_terminal_keeps_the_token_in_the_keyring(mistcli_bin, prism, keyring_env, tmp_path):
    config = tmp_path / "mistcli" / "config.toml"
    env = {**keyring_env, "MISTCLI_CONFIG": str(config)}
    with Terminal([mistcli_bin, "auth", "login", "--profile", "prod", "--api-url", prism], env, cols=160) as term:
        term.wait_for("Paste your Mist API token")
        term.send(GOOD)
        code, screen = term.finish()
    assert code == 0, screen
    assert GOOD not in screen, screen  # typed without echo
    assert f"Logged in to {prism} as user@example.com (profile prod), token stored in the OS keyring (Secret Service)" in screen
    assert mode(config) == 0o600 and mode(config.parent) == 0o700
    text = config.read_text()
    no_leak(text)
    saved = tomllib.loads(text)
    assert saved["default"] == "prod"
    assert saved["profiles"]["prod"] == {"token_keyring": True, "api_url": prism, "org_id": "b069b358-4c97-5319-1f8c-7c5ca64d6ab1"}
    assert keyring_lookup(keyring_env, "prod") == GOOD

    with Terminal([mistcli_bin, "auth", "status"], env, cols=120) as term:
        code, screen = term.finish()
    assert code == 0, screen
    for line in ["Profile prod (default)", f"Cloud:  {prism}", "User:   string string <user@example.com>",
                 "Token:  in the OS keyring (Secret Service)", "Risk:   none beyond the configured limits",
                 "Org:    b069b358-4c97-5319-1f8c-7c5ca64d6ab1 (the profile's default)", "Access:",
                 "org   string (b069b358-4c97-5319-1f8c-7c5ca64d6ab1) in msp b069b358-4c97-5319-1f8c-7c5ca64d6ab1: admin", "Profiles: prod (active, default)"]:
        assert line in screen, screen
    no_leak(screen)

    status = run(mistcli_bin, ["auth", "status", "-o", "json"], keyring_env, config)
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["profile"] == "prod" and shown["token_stored_in"] == "keyring" and shown["risk_level"] is None
    assert shown["user"] == {"email": "user@example.com", "name": "string string"}
    assert shown["access"][0]["role"] == "admin" and shown["profiles"] == [{"name": "prod", "default": True, "active": True}]
    no_leak(status.stdout, status.stderr)


def test_every_command_uses_the_token_from_the_keyring(mistcli_bin, mist, keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    login = run(mistcli_bin, ["auth", "login", "--with-token", "--api-url", mist], keyring_env, config, stdin=GOOD + "\n")
    assert login.returncode == 0, login.stderr
    assert "as jane@example.com (profile default), token stored in the OS keyring (Secret Service)" in login.stderr
    assert f"Default org: Acme Networks ({ORG_ID})" in login.stderr
    saved = tomllib.loads(config.read_text())["profiles"]["default"]
    assert saved == {"token_keyring": True, "api_url": mist, "org_id": ORG_ID}
    # The mock answers only GOOD: the token reaches it from the keyring, through the default profile.
    me = run(mistcli_bin, ["self", "get"], keyring_env, config)
    assert me.returncode == 0 and json.loads(me.stdout)["email"] == "jane@example.com", me.stderr
    sites = run(mistcli_bin, ["sites", "list", "--profile", "default"], keyring_env, config)
    assert sites.returncode == 0 and json.loads(sites.stdout)[0]["name"] == "HQ", sites.stderr
    no_leak(login.stdout, login.stderr, me.stdout, me.stderr, sites.stdout, sites.stderr)
    # A keyring that lost the entry: exit 3 with the way out, nothing sent.
    subprocess.run(["secret-tool", "clear", "service", "mistcli", "username", "default"], env=keyring_env, check=True)
    gone = run(mistcli_bin, ["self", "get"], keyring_env, config)
    assert gone.returncode == 3 and gone.stdout == "", gone.stderr
    assert "is in the OS keyring (Secret Service), but the keyring has no token for it" in gone.stderr
    assert "mistcli auth login --profile default" in gone.stderr


def test_without_a_keyring_the_token_goes_to_a_0600_file(mistcli_bin, mist, no_keyring_env, keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--profile", "lab", "--api-url", mist], no_keyring_env, config, stdin=GOOD)
    assert r.returncode == 0, r.stderr
    assert "the token goes to the config file (mode 0600)" in r.stderr
    assert f"token stored in {config} (mode 0600)" in r.stderr
    assert mode(config) == 0o600
    assert tomllib.loads(config.read_text())["profiles"]["lab"]["token"] == GOOD
    me = run(mistcli_bin, ["self", "get", "--profile", "lab"], no_keyring_env, config)
    assert me.returncode == 0, me.stderr
    no_leak(r.stdout, r.stderr, me.stdout, me.stderr)
    # --no-keyring: the file even when a keyring is there, and the keyring is not touched.
    other = tmp_path / "other.toml"
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--no-keyring", "--api-url", mist], keyring_env, other, stdin=GOOD)
    assert r.returncode == 0 and "note:" not in r.stderr, r.stderr
    assert tomllib.loads(other.read_text())["profiles"]["default"]["token"] == GOOD and mode(other) == 0o600
    assert keyring_lookup(keyring_env, "default") is None
    status = run(mistcli_bin, ["auth", "status", "-o", "json"], keyring_env, other)
    assert json.loads(status.stdout)["token_location"] == str(other)
    out = run(mistcli_bin, ["auth", "logout"], keyring_env, other)
    assert out.returncode == 0 and f"Logged out of profile default: token and profile removed from {other}" in out.stderr
    assert GOOD not in other.read_text() and mode(other) == 0o600


def test_a_pipe_without_with_token_is_refused(mistcli_bin, mist, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    r = run(mistcli_bin, ["auth", "login", "--api-url", mist], no_keyring_env, config, stdin=GOOD)
    assert r.returncode == 2 and "--with-token" in r.stderr, r.stderr
    assert not config.exists()
    empty = run(mistcli_bin, ["auth", "login", "--with-token", "--api-url", mist], no_keyring_env, config, stdin="\n")
    assert empty.returncode == 2 and "no token on stdin" in empty.stderr
    both = run(mistcli_bin, ["auth", "login", "--with-token", "--host", "api.mist.com", "--api-url", mist], no_keyring_env, config, stdin=GOOD)
    assert both.returncode == 2 and "give one" in both.stderr
    bad_host = run(mistcli_bin, ["auth", "login", "--with-token", "--host", "api.eu.mist.co"], no_keyring_env, config, stdin=GOOD)
    assert bad_host.returncode == 2 and "api.eu.mist.com" in bad_host.stderr
    assert not config.exists()


def test_a_refused_token_stores_nothing(mistcli_bin, mist, keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--profile", "prod", "--api-url", mist], keyring_env, config, stdin=BAD)
    assert r.returncode == 3, r.stderr
    assert f"{mist} refused the token (401 Unauthorized), nothing was stored" in r.stderr
    assert not config.exists() and keyring_lookup(keyring_env, "prod") is None
    no_leak(r.stdout, r.stderr)
    # At the terminal too: the prompt, then the refusal.
    env = {**keyring_env, "MISTCLI_CONFIG": str(config)}
    with Terminal([mistcli_bin, "auth", "login", "--api-url", mist], env, cols=160) as term:
        term.wait_for("Paste your Mist API token")
        term.send(BAD)
        code, screen = term.finish()
    assert code == 3 and "refused the token" in screen and BAD not in screen, screen
    assert not config.exists() and keyring_lookup(keyring_env, "default") is None


def test_the_cloud_is_found_by_asking_each(mistcli_bin, mist, refusing, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    env = {**no_keyring_env, "MISTCLI_LOGIN_CLOUDS": f"{refusing},{mist}"}
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--no-keyring"], env, config, stdin=GOOD)
    assert r.returncode == 0, r.stderr
    assert f"Logged in to {mist} as jane@example.com" in r.stderr
    assert tomllib.loads(config.read_text())["profiles"]["default"]["api_url"] == mist
    # A token no cloud accepts: exit 3, each refusal named, nothing stored.
    config.unlink()
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--no-keyring"], env, config, stdin=BAD)
    assert r.returncode == 3 and f"refused by {refusing}, {mist}" in r.stderr and "--host" in r.stderr, r.stderr
    assert not config.exists()
    no_leak(r.stdout, r.stderr)
    # Without the test hook the clouds are the spec's, api.mist.com first (not reachable here).
    r = run(mistcli_bin, ["auth", "login", "--with-token", "--no-keyring", "--request-timeout", "2"], no_keyring_env, config, stdin=BAD)
    assert r.returncode in (1, 3) and "api.mist.com" in r.stderr and not config.exists(), r.stderr


def test_status_switch_and_logout(mistcli_bin, prism, mist, keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    not_yet = run(mistcli_bin, ["auth", "status"], keyring_env, config)
    assert not_yet.returncode == 3 and "not logged in" in not_yet.stderr and "mistcli auth login" in not_yet.stderr
    for name, url in (("prod", mist), ("lab", prism)):
        r = run(mistcli_bin, ["auth", "login", "--with-token", "--profile", name, "--api-url", url], keyring_env, config, stdin=GOOD)
        assert r.returncode == 0, r.stderr
    assert "The default profile is still `prod`" in r.stderr and "mistcli auth switch lab" in r.stderr
    assert tomllib.loads(config.read_text())["default"] == "prod"

    pipe = run(mistcli_bin, ["auth", "switch"], keyring_env, config)
    assert pipe.returncode == 2 and "profiles: lab, prod" in pipe.stderr
    unknown = run(mistcli_bin, ["auth", "switch", "qa"], keyring_env, config)
    assert unknown.returncode == 2 and "lab, prod" in unknown.stderr
    env = {**keyring_env, "MISTCLI_CONFIG": str(config)}
    with Terminal([mistcli_bin, "auth", "switch"], env, cols=120) as term:
        screen = term.wait_for("Profile to use by default [1-2]")
        assert "1) lab" in screen and "2) prod" in screen and f"{mist} (default)" in screen, screen
        term.send("1")
        code, screen = term.finish()
    assert code == 0 and "Default profile: lab" in screen, screen
    assert tomllib.loads(config.read_text())["default"] == "lab"
    status = json.loads(run(mistcli_bin, ["auth", "status", "-o", "json"], keyring_env, config).stdout)
    assert status["profile"] == "lab" and {p["name"]: p["default"] for p in status["profiles"]} == {"lab": True, "prod": False}
    prod = run(mistcli_bin, ["auth", "status", "--profile", "prod", "-o", "table"], keyring_env, config)
    assert prod.returncode == 0 and "Profile prod\n" in prod.stdout and "User:   Jane Doe <jane@example.com>" in prod.stdout
    assert "Profiles: lab (default), prod (active)" in prod.stdout
    # The environment's token wins over the default profile: status says so.
    env_token = run(mistcli_bin, ["auth", "status"], {**keyring_env, "MIST_APITOKEN": "x"}, config)
    assert "MIST_APITOKEN is set" in env_token.stderr

    out = run(mistcli_bin, ["auth", "logout"], keyring_env, config)  # the default one, lab
    assert out.returncode == 0, out.stderr
    assert "Logged out of profile lab: token removed from the OS keyring (Secret Service), profile removed from" in out.stderr
    assert "No default profile now (profiles: prod): `mistcli auth switch NAME` chooses one" in out.stderr
    assert keyring_lookup(keyring_env, "lab") is None and keyring_lookup(keyring_env, "prod") == GOOD
    out = run(mistcli_bin, ["auth", "logout"], keyring_env, config)
    assert out.returncode == 2 and "give --profile NAME (profiles: prod)" in out.stderr
    out = run(mistcli_bin, ["auth", "logout", "--profile", "prod"], keyring_env, config)
    assert out.returncode == 0 and "Logged out of profile prod" in out.stderr and "No default" not in out.stderr, out.stderr
    saved = tomllib.loads(config.read_text())
    assert saved.get("profiles", {}) == {} and "default" not in saved and mode(config) == 0o600
    assert keyring_lookup(keyring_env, "prod") is None
    gone = run(mistcli_bin, ["auth", "status"], keyring_env, config)
    assert gone.returncode == 3


def test_status_of_a_refused_token_is_exit_3(mistcli_bin, mist, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'default = "old"\n[profiles.old]\ntoken = "{BAD}"\napi_url = "{mist}"\n')
    config.chmod(0o600)
    r = run(mistcli_bin, ["auth", "status"], no_keyring_env, config)
    assert r.returncode == 3 and r.stdout == "", r.stderr
    assert f"{mist} refused the token of profile `old` (401 Unauthorized; kept in {config})" in r.stderr
    no_leak(r.stderr)


def test_config_get_set_list(mistcli_bin, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    hand = f'# written by hand\ndefault = "lab"\n\n[profiles.lab]\ntoken = "{GOOD}"  # keep this comment\napi_url = "http://127.0.0.1:9"\n'
    config.write_text(hand)
    config.chmod(0o644)
    # A token in a file others may read: a warning with the fix (not refused: it worked before).
    r = run(mistcli_bin, ["config", "list", "-o", "table"], no_keyring_env, config)
    assert r.returncode == 0 and r.stdout == "api_url=http://127.0.0.1:9\n", r.stderr
    assert f"others may read it (mode 644): chmod 600 {config}" in r.stderr

    for key, value, shown in (("org", ORG_ID.upper(), ORG_ID), ("output", "TABLE", "table"), ("ws_url", "wss://ws.example", "wss://ws.example")):
        s = run(mistcli_bin, ["config", "set", key, value], no_keyring_env, config)
        assert s.returncode == 0 and f"Profile lab: {key} = {shown}" in s.stderr, s.stderr
        g = run(mistcli_bin, ["config", "get", key], no_keyring_env, config)
        assert g.returncode == 0 and g.stdout == shown + "\n"
    assert mode(config) == 0o600
    text = config.read_text()
    assert "# written by hand" in text and "# keep this comment" in text
    host = run(mistcli_bin, ["config", "set", "host", "manage.eu.mist.com"], no_keyring_env, config)
    assert host.returncode == 0 and "host = api.eu.mist.com (api_url removed: host replaces it)" in host.stderr
    listed = run(mistcli_bin, ["config", "list", "-o", "json"], no_keyring_env, config)
    assert json.loads(listed.stdout) == {"profile": "lab", "settings": {
        "org": ORG_ID, "host": "api.eu.mist.com", "api_url": None, "ws_url": "wss://ws.example", "output": "table"}}
    saved = tomllib.loads(config.read_text())
    assert saved["profiles"]["lab"]["token"] == GOOD and saved["default"] == "lab"

    unknown = run(mistcli_bin, ["config", "get", "colour"], no_keyring_env, config)
    assert unknown.returncode == 2 and "known keys: org, host, api_url, ws_url, output" in unknown.stderr
    for key, value, hint in (("output", "csv", "json, yaml, table or ndjson"), ("host", "api.evil.example", "not a Mist cloud host"),
                             ("org", "nope", "UUID"), ("api_url", "ftp://x", "http or https"), ("token", "x", "auth login")):
        bad = run(mistcli_bin, ["config", "set", key, value], no_keyring_env, config)
        assert bad.returncode == 2 and hint in bad.stderr, bad.stderr
    assert tomllib.loads(config.read_text()) == saved  # nothing changed
    unset = run(mistcli_bin, ["config", "unset", "ws_url"], no_keyring_env, config)
    assert unset.returncode == 0 and "ws_url removed" in unset.stderr
    missing = run(mistcli_bin, ["config", "get", "ws_url"], no_keyring_env, config)
    assert missing.returncode == 1 and missing.stdout == "" and "not set in profile `lab`" in missing.stderr
    # Another profile, by name; a fresh file's first profile becomes the default.
    other = run(mistcli_bin, ["config", "set", "output", "yaml", "--profile", "qa"], no_keyring_env, config)
    assert other.returncode == 0 and tomllib.loads(config.read_text())["profiles"]["qa"] == {"output": "yaml"}
    fresh = tmp_path / "fresh.toml"
    r = run(mistcli_bin, ["config", "set", "host", "api.gc1.mist.com"], no_keyring_env, fresh)
    assert r.returncode == 0 and tomllib.loads(fresh.read_text()) == {"default": "default", "profiles": {"default": {"host": "api.gc1.mist.com"}}}
    assert mode(fresh) == 0o600
    no_leak(r.stdout, r.stderr, listed.stdout, listed.stderr)


ESC_ME = {
    "email": "jane@example.com\x1b]0;pwned\x07",
    "first_name": "Jane\x1b[2J",
    "last_name": "Doe\r",
    "privileges": [{"scope": "org", "org_id": ORG_ID, "name": "Acme\x1b[31m Networks\u202e", "role": "admin\u009b1m"}],
}
RAW = ("\x1b", "\x07", "\r", "\u009b", "\u202e")


class HostileSelf(QuietHandler):
    """/api/v1/self with escape sequences in every name; other paths echo the token in a 500."""

    def do_GET(self):  # noqa: N802
        if self.headers.get("Authorization") != f"Token {GOOD}":
            send_json(self, 401, {"detail": f"bad token {self.headers.get('Authorization')}"})
        elif self.path.startswith("/api/v1/self"):
            send_json(self, 200, ESC_ME)
        else:
            send_json(self, 500, {"detail": f"failed for {self.headers.get('Authorization')}"})


def test_names_from_mist_and_the_file_cannot_command_the_terminal(mistcli_bin, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    with serve_mock(HostileSelf) as url:
        login = run(mistcli_bin, ["auth", "login", "--with-token", "--api-url", url], no_keyring_env, config, stdin=GOOD)
        assert login.returncode == 0 and "Logged in to" in login.stderr, login.stderr
        # Shown in a table-like text (-o table in a pipe is the text a terminal gets).
        text = run(mistcli_bin, ["auth", "status", "-o", "table"], no_keyring_env, config)
        assert text.returncode == 0 and "Acme" in text.stdout and "jane@example.com" in text.stdout, text.stderr
        # In a pipe, status is JSON as every command is; the values are there as Mist gave them.
        piped = run(mistcli_bin, ["auth", "status"], no_keyring_env, config)
        assert json.loads(piped.stdout)["user"]["email"] == ESC_ME["email"], piped.stdout
        refused = run(mistcli_bin, ["auth", "login", "--with-token", "--api-url", url, "--profile", "x"],
                      no_keyring_env, config, stdin=BAD)
        assert refused.returncode == 3, refused.stderr
        echoed = run(mistcli_bin, ["sites", "list"], {**no_keyring_env, "MIST_ORG_ID": ORG_ID}, config)
        assert echoed.returncode == 1, echoed.stderr
    for out in (login.stderr, text.stdout, text.stderr, refused.stderr, echoed.stderr):
        for raw in RAW:
            assert raw not in out, out
    no_leak(login.stdout, login.stderr, text.stdout, piped.stdout, refused.stderr, echoed.stderr)

    # A hand-edited file: its values and profile names are shown, not obeyed.
    config.write_text(f'default = "a\\u001b[2J"\n[profiles."a\\u001b[2J"]\ntoken = "{GOOD}"\napi_url = "http://127.0.0.1:9/\\u001b[31m"\n')
    config.chmod(0o600)
    listed = run(mistcli_bin, ["config", "list", "-o", "table"], no_keyring_env, config)
    assert listed.returncode == 0 and "api_url=http://127.0.0.1:9/" in listed.stdout, listed.stderr
    got = run(mistcli_bin, ["config", "get", "api_url"], no_keyring_env, config)
    assert got.returncode == 0, got.stderr
    assert json.loads(run(mistcli_bin, ["config", "list"], no_keyring_env, config).stdout)["profile"] == "a\x1b[2J"
    for out in (listed.stdout, listed.stderr, got.stdout):
        assert "\x1b" not in out, out


def test_config_names_only_a_plain_profile(mistcli_bin, no_keyring_env, tmp_path):
    config = tmp_path / "config.toml"
    for name in ("../x", '"]\n[profiles.x]', "a b"):
        r = run(mistcli_bin, ["config", "set", "output", "json", "--profile", name], no_keyring_env, config)
        assert r.returncode == 2 and "cannot name a profile" in r.stderr, r.stderr
    assert not config.exists()
