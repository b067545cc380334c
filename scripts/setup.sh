#!/usr/bin/env bash
# Installs what the tests need, idempotently: the wasm32 target, a Python venv with the
# official MCP SDK and pytest, and Prism (npm). Fast when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target" >&2
  rustup target add wasm32-unknown-unknown >&2
fi

# Debian packages the tests run: jq (the README's shell pipelines), openssl (a test certificate
# for HTTPS), prlimit from util-linux (a server with 256 file descriptors), and for the Junos
# NETCONF tests a private sshd (openssh-server) whose netconf subsystem is yuma123's netconfd or
# our own Junos-reply responder (Debian has no netopeer2); tmux drives mistcli in a real terminal;
# a real Secret Service for `mistcli auth login`'s keyring: gnome-keyring on a private D-Bus
# session bus (dbus-daemon, dbus-send), read back by libsecret's secret-tool.
missing=""
command -v jq >/dev/null 2>&1 || missing="$missing jq"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v dbus-daemon >/dev/null 2>&1 || missing="$missing dbus-daemon"
command -v dbus-send >/dev/null 2>&1 || missing="$missing dbus-bin"
command -v gnome-keyring-daemon >/dev/null 2>&1 || missing="$missing gnome-keyring"
command -v secret-tool >/dev/null 2>&1 || missing="$missing libsecret-tools"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v prlimit >/dev/null 2>&1 || missing="$missing util-linux"
command -v /usr/sbin/sshd >/dev/null 2>&1 || missing="$missing openssh-server"
command -v /usr/sbin/netconfd >/dev/null 2>&1 || missing="$missing netconfd"
# The responder runs as the test login, which cannot enter /root where the venv's Python lives.
command -v /usr/bin/python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2; }
fi

# sshd refuses to start without its privilege separation directory (normally made by systemd).
mkdir -p /run/sshd
# The throwaway login of the NETCONF test devices: sshd only lets this user in (AllowUsers), with
# the tests' key or this password. Created once; the check keeps reruns fast.
if ! id -u mistmcp-nc >/dev/null 2>&1; then
  echo "setup: creating the NETCONF test user mistmcp-nc" >&2
  useradd --system --shell /bin/sh --home-dir /nonexistent --no-create-home mistmcp-nc >&2
  echo 'mistmcp-nc:nc-test-pass-4d2f' | chpasswd >&2
fi

stamp=.venv/.requirements
if [ ! -x .venv/bin/python ] || ! cmp -s tests/requirements.txt "$stamp"; then
  echo "setup: creating .venv with tests/requirements.txt" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt >&2
  cp tests/requirements.txt "$stamp"
fi

if [ ! -x tests/node_modules/.bin/prism ] || [ tests/package.json -nt tests/node_modules/.stamp ]; then
  echo "setup: installing the npm test parts (Prism, MCP SDK, conformance suite, workerd, wrangler, oidc-provider)" >&2
  (cd tests && npm install --no-audit --no-fund --loglevel=error >&2)
  touch tests/node_modules/.stamp
fi
