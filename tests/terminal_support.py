"""A real terminal for mistcli: a private tmux server with one window of a chosen size, keys sent
and the pane read back as a person would see it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
import uuid


class Terminal:
    """One tmux window running a shell command; `close()` (or `with`) kills the private server."""

    def __init__(self, command: list[str], env: dict[str, str], cols: int = 80, rows: int = 40, cwd: str | None = None):
        if not shutil.which("tmux"):
            raise RuntimeError("tmux is missing: run scripts/setup.sh")
        self.socket = f"mistcli-test-{uuid.uuid4().hex[:12]}"
        self.cwd = cwd or tempfile.mkdtemp(prefix="mistcli-term-")
        # tmux passes its own environment to the pane: the command runs under `env -i` with exactly `env`.
        full = {"TERM": "xterm-256color", **env}
        line = "env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in full.items()) + " " + shlex.join(command)
        # After the command, the shell prints its exit code and waits so that the pane stays readable.
        script = f"{line}; echo \"[exit $?]\"; sleep 600"
        self._tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-c", self.cwd, "sh", "-c", script)

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=20, env={**os.environ, "TMUX": ""})
        if out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def screen(self, colours: bool = False) -> str:
        """The visible pane; with `colours`, SGR escapes included (`capture-pane -e`)."""
        args = ["capture-pane", "-p", "-J"] + (["-e"] if colours else []) + ["-t", "0"]
        return self._tmux(*args)

    def send(self, text: str, enter: bool = True) -> None:
        """Types `text` (literally) and, with `enter`, presses Enter."""
        if text:
            self._tmux("send-keys", "-t", "0", "-l", text)
        if enter:
            self._tmux("send-keys", "-t", "0", "Enter")

    def key(self, *names: str) -> None:
        """Presses keys by their tmux names (`Tab`, `C-c`, `Enter`)."""
        self._tmux("send-keys", "-t", "0", *names)

    def wait_for(self, needle: str, seconds: float = 30) -> str:
        """Waits until `needle` is on the screen; returns the screen."""
        deadline = time.monotonic() + seconds
        while True:
            shown = self.screen()
            if needle in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the screen:\n{shown}")
            time.sleep(0.05)

    def finish(self, seconds: float = 60) -> tuple[int, str]:
        """Waits for the command to end; returns its exit code and the screen without the exit line."""
        shown = self.wait_for("[exit ", seconds)
        head, _, tail = shown.rpartition("[exit ")
        return int(tail.split("]")[0]), head

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)

    def __enter__(self) -> "Terminal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
