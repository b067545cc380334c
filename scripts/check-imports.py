#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a circle.

For each crate's `src/`, every top-level module (a file `x.rs` or a folder `x/`) is a node, and
every `crate::y` path written in it (in `use` lines or inline) an edge to module `y`. A strongly
connected component of more than one module is a circle: data should flow one way.
Usage: scripts/check-imports.py CRATE_DIR...  (default: every crate of the workspace)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["mistcore/catalog", "mistcore/client", "mistcore/junos", "mistcore", "mistmcp-cli", "mistmcp-wasm"]
PATH_RE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
# `use crate::{a, b::c}` lists several modules at once.
GROUP_RE = re.compile(r"\buse\s+crate::\{([^;]*)\}", re.S)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def graph(src: Path) -> dict[str, set[str]]:
    modules: dict[str, set[str]] = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        top = rel.parts[0].removesuffix(".rs")
        if top in ("lib", "main", "bin"):
            continue
        text = strip_comments(path.read_text())
        targets = set(PATH_RE.findall(text))
        for group in GROUP_RE.findall(text):
            for item in re.split(r",(?![^{]*\})", group):
                name = item.strip().split("::", 1)[0].strip("{} \n")
                if name:
                    targets.add(name)
        modules.setdefault(top, set()).update(t for t in targets if t != top)
    known = set(modules)
    return {m: {t for t in ts if t in known} for m, ts in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one node."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


# mistcli serves shell users through the client and the write gate: no MCP in its code.
NO_MCP = (ROOT / "mistmcp-cli" / "src" / "cli", re.compile(r"\brmcp::|\bmistcore::(mcp|tools|jsonrpc|round_trip|envelope|call|devices)\b"))


def mcp_in_cli() -> list[str]:
    folder, pattern = NO_MCP
    found = []
    for path in sorted(folder.rglob("*.rs")):
        for number, line in enumerate(strip_comments(path.read_text()).splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def main(args: list[str]) -> int:
    failed = False
    if not args:
        for hit in mcp_in_cli():
            failed = True
            print(f"mistcli uses an MCP module: {hit}")
    for crate in args or CRATES:
        src = ROOT / crate / "src"
        edges = graph(src)
        for component in cycles(edges):
            failed = True
            links = [f"{a} -> {b}" for a in component for b in sorted(edges[a]) if b in component]
            print(f"{crate}: modules import each other in a circle: {', '.join(component)} ({'; '.join(links)})")
    if not failed:
        print(f"no import circles in {', '.join(args or CRATES)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
