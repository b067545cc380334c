"""mistcli in a real terminal (tmux): a table fitted to the terminal's width by default, colour only
on a terminal and never with NO_COLOR, JSON when asked; in a pipe, JSON (test_mistcli.py)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ORG_ID, TOKEN, built_binary
from terminal_support import Terminal

SITE_ID = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f"
SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def mistcli_bin() -> str:
    return built_binary("mistcli")


def env(prism: str, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "MISTCLI_CONFIG": "/nonexistent", "MIST_APITOKEN": TOKEN,
            "MIST_API_URL": prism, "MIST_ORG_ID": ORG_ID, **extra}


def shown(binary: str, args: list[str], environment: dict[str, str], cols: int, colours: bool = False) -> str:
    with Terminal([binary, *args], environment, cols=cols, rows=50) as t:
        code, _ = t.finish()
        assert code == 0, t.screen()
        screen = t.screen(colours=colours)
    return screen.rpartition("[exit ")[0].rstrip("\n")


@pytest.mark.parametrize("cols", [80, 200])
def test_tables_fit_the_terminal(mistcli_bin, prism, cols):
    # Prism's search example has a long hostname list, a MAC, a site id: 7 columns, wider than 80.
    screen = shown(mistcli_bin, ["devices", "search", "--site", SITE_ID], env(prism), cols)
    lines = screen.splitlines()
    assert lines[0].split()[:2] == ["HOSTNAME", "MAC"], screen
    assert len(lines) == 2, f"a row was wrapped at {cols} columns:\n{screen}"  # header + the one device
    assert all(len(line) <= cols for line in lines)
    assert "5c5b353e5299" in lines[1]  # MACs and ids are never cut while other columns can give room
    if cols == 80:
        # The long hostname list is cut; the site id, last and least identifying, does not fit.
        assert lines[0].split() == ["HOSTNAME", "MAC", "MODEL", "TYPE", "IP", "VERSION"], screen
        assert "…" in lines[1] and "10.2.16.205" in lines[1], screen
    else:
        assert lines[0].split()[-1] == "SITE_ID" and "a8178443-ecb5-461c-b854-f16627619ab3" in lines[1]
        assert "…" not in screen and "AP41-STB-3E5299-WH-2001, AP41-STB-3E5299-WH-50" in screen, screen


def test_colour_only_on_a_terminal_and_never_with_no_color(mistcli_bin, prism):
    coloured = shown(mistcli_bin, ["sites", "list"], env(prism), 100, colours=True)
    assert coloured.startswith("\x1b[1mNAME"), repr(coloured)
    plain = shown(mistcli_bin, ["sites", "list"], env(prism, NO_COLOR="1"), 100, colours=True)
    assert not SGR.search(plain) and plain.startswith("NAME"), repr(plain)
    dumb = shown(mistcli_bin, ["sites", "list"], env(prism, TERM="dumb"), 100, colours=True)
    assert not SGR.search(dumb)


def test_formats_are_forced_with_o(mistcli_bin, prism):
    pretty = shown(mistcli_bin, ["sites", "list", "-o", "json"], env(prism), 120)
    sites = json.loads(pretty)
    assert sites[0]["name"] == "Mist Office" and "\n  " in pretty  # pretty on a terminal
    one = shown(mistcli_bin, ["self", "get"], env(prism), 80)
    assert one.splitlines()[0].split() == ["FIELD", "VALUE"] and "user@example.com" in one
    fields = shown(mistcli_bin, ["sites", "list", "--json", "name,id"], env(prism), 80)
    assert set(json.loads(fields)[0]) == {"name", "id"}  # --json is JSON, as gh


def test_tab_completes_resources_flags_and_enum_values(mistcli_bin, tmp_path):
    """bash asks mistcli itself at each Tab (clap's dynamic completion)."""
    bin_dir = str(Path(mistcli_bin).parent)
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path), "PS1": "$ ", "MISTCLI_CONFIG": "/nonexistent"}
    with Terminal(["bash", "--norc", "--noprofile", "-i"], environment, cols=120, rows=30) as t:
        t.wait_for("$ ")
        t.send("source <(mistcli completions bash); clear")
        t.send("mistcli devices search --type ", enter=False)
        t.key("Tab", "Tab")
        screen = t.wait_for("gateway")
        assert re.search(r"ap\s+gateway\s+switch", screen), screen
        t.key("C-c")
        t.send("mistcli sites list --js", enter=False)
        t.key("Tab")
        t.wait_for("mistcli sites list --json")
        t.key("C-c")
        t.send("mistcli -o ", enter=False)
        t.key("Tab", "Tab")
        screen = t.wait_for("ndjson")
        assert re.search(r"json\s+ndjson\s+yaml\s+table", screen), screen


def test_the_profiles_output_setting_applies_on_a_terminal_only(mistcli_bin, prism, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'default = "lab"\n[profiles.lab]\ntoken = "{TOKEN}"\napi_url = "{prism}"\n'
                      f'org_id = "{ORG_ID}"\noutput = "yaml"\n')
    config.chmod(0o600)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MISTCLI_CONFIG": str(config)}
    screen = shown(mistcli_bin, ["sites", "list"], environment, 100)
    assert screen.startswith("- ") and "name: Mist Office" in screen, screen
    forced = shown(mistcli_bin, ["sites", "list", "-o", "table"], environment, 100)
    assert forced.startswith("NAME"), forced
    piped = subprocess.run([mistcli_bin, "sites", "list"], env=environment, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and json.loads(piped.stdout)[0]["name"] == "Mist Office", piped.stderr
