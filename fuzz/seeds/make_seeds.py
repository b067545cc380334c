#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into seeds/<target>/ (see ../README.md)."""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
UUID = "6748cfa6-4e12-11e6-9188-0242ac110007"


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rpc(method, params=None, id=1):
    m = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        m["id"] = id
    if params is not None:
        m["params"] = params
    return json.dumps(m).encode()


# jsonrpc_dispatch: flags, call, tool index (u16 le), message.
def dispatch(name, flags, call, tool, message):
    write("jsonrpc_dispatch", name, bytes([flags, call]) + struct.pack("<H", tool) + message)


WRITE, TOKEN, ALL, SKIP = 0x04, 0x08, 0x10, 0x40
dispatch("initialize", 0, 0, 0, rpc("initialize", {
    "protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}},
    "clientInfo": {"name": "fuzz", "version": "0"}}))
dispatch("initialized", 0, 0, 0, rpc("notifications/initialized", id=None))
dispatch("ping", 0, 0, 0, rpc("ping"))
dispatch("list_all_writes", ALL | WRITE | SKIP, 0, 0, rpc("tools/list"))
dispatch("call_get_self", TOKEN, 0, 0, rpc("tools/call", {"name": "getSelf", "arguments": {}}))
dispatch("manage", 0, 0x08, 0, rpc("tools/call", {"name": "manageMcpTools", "arguments": {
    "enable_mcp_tools_categories": ["orgs_sites", "sites_*"]}}))
dispatch("search", 0, 0, 0, rpc("tools/call", {"name": "mist_search_operations", "arguments": {
    "query": "site wlans", "method": "GET", "limit": 5}}))
dispatch("describe", 0, 0, 0, rpc("tools/call", {"name": "mist_describe_operation", "arguments": {
    "operation_id": "listOrgSites"}}))
dispatch("call_op", TOKEN | WRITE | SKIP, 0, 0, rpc("tools/call", {"name": "mist_call_operation", "arguments": {
    "operation_id": "listOrgSites", "arguments": {"org_id": UUID, "limit": 10}}}))
dispatch("next_page", ALL | TOKEN, 0, 0, rpc("tools/call", {"name": "mist_get_next_page", "arguments": {
    "url": "/api/v1/orgs/%s/sites?limit=10&page=2" % UUID}}))
dispatch("discover", 1, 0, 0, rpc("server/discover"))
dispatch("stateless_list", 1 | ALL, 0x04, 0, rpc("tools/list"))
for i, tool in enumerate([0, 1, 5, 20, 40, 200, 500, 900]):
    args = {"org_id": UUID, "site_id": UUID, "device_id": UUID, "body": {"name": "x"}}
    dispatch("stateless_call_%d" % i, 1 | ALL | WRITE | TOKEN, 0x01 | 0x02 | 0x04, tool,
             rpc("tools/call", {"name": "x", "arguments": args}))
    dispatch("handshake_call_%d" % i, ALL | WRITE | TOKEN | SKIP, 0x01, tool,
             rpc("tools/call", {"name": "x", "arguments": args}))
site = {"org_id": UUID, "body": {"name": "x"}}
dispatch("round_trip_write", 1 | WRITE | TOKEN | ALL, 0x02 | 0x04, 0,
         rpc("tools/call", {"name": "createOrgSite", "arguments": site}))
dispatch("stateless_write_no_elicitation", 1 | WRITE | TOKEN | ALL, 0, 0,
         rpc("tools/call", {"name": "createOrgSite", "arguments": site}))
dispatch("handshake_write_refused", WRITE | TOKEN | ALL, 0, 0,
         rpc("tools/call", {"name": "createOrgSite", "arguments": site}))
dispatch("handshake_write_skip", WRITE | TOKEN | ALL | SKIP, 0, 0,
         rpc("tools/call", {"name": "createOrgSite", "arguments": site}))
for i, args in enumerate([{}, {"org_id": UUID}, {"site_id": UUID}, {"org_id": UUID, "site_id": UUID},
                          {"org_id": UUID, "object_type": "wlans"}, {"site_id": UUID, "body": {"name": "x"}}]):
    for j, tool in enumerate([3, 12, 25, 60, 300, 700]):
        dispatch("args_%d_%d" % (i, j), 1 | WRITE | TOKEN | ALL, 0x01 | 0x02 | 0x04, tool + i,
                 rpc("tools/call", {"name": "x", "arguments": args}))
dispatch("stateless_raw", 2, 0, 0, rpc("tools/call", {"name": "getSelf", "_meta": {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {}}}))
dispatch("header_lines", 3, 0, 0, b"2026-07-28\ntools/call\ngetSelf\n" + rpc("tools/call", {
    "name": "getSelf", "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}}))

# validate_args: operation (u16 le), flags, JSON arguments.
for i in range(0, 1100, 37):
    args = [UUID, UUID, "10", 1, True, ["a", "b"], {"name": "x"}]
    write("validate_args", "op_%04d" % i, struct.pack("<H", i) + bytes([i & 2]) + json.dumps(args).encode())
    obj = {"org_id": UUID, "site_id": UUID, "limit": 10, "page": 1, "body": {"name": "x"}}
    write("validate_args", "obj_%04d" % i, struct.pack("<H", i) + bytes([0]) + json.dumps(obj).encode())


# pagination: status (u16 le), flags, operation (u16 le), lines, body.
def page(name, status, flags, op, lines, body):
    write("pagination", name, struct.pack("<H", status) + bytes([flags]) + struct.pack("<H", op)
          + b"\n".join(x.encode() for x in lines) + b"\n" + body)


NEXT = "/api/v1/orgs/%s/sites?limit=10&page=2" % UUID
for i, op in enumerate([0, 100, 300, 500, 700, 900]):
    page("list_%d" % i, 200, 0x10 | 0x04, op, ["100", "10", "1", "", NEXT, "10"], b'[{"id": 1}]')
    page("search_%d" % i, 200, 0x04 | 0x02, op, ["", "", "", "", "https://api.mist.com" + NEXT, "5"],
         json.dumps({"results": [], "total": 50, "limit": 5, "next": NEXT}).encode())
page("rate_limited", 429, 0x20 | 0x40, 0, ["", "", "", "Wed, 21 Oct 2026 07:28:00 GMT", "", ""],
     b'{"detail": "too many requests"}')
page("html", 200, 0x08, 0, ["", "", "", "", "//evil.example/api/v1/self", ""], b"<html>502</html>")
page("error", 404, 0x04, 0, ["", "", "", "", "https://api.mist.com:443/api/v1/self", ""], b'{"detail": "not found"}')


# redact: byte 0 even (JSON answer) or odd (device or error text), then the input.
write("redact", "wlan", b"\x00" + json.dumps({
    "id": UUID, "ssid": "corp", "psk": "hunter2hunter2", "auth": {"type": "psk", "keys": ["0123456789"], "key_idx": 1},
    "radius": [{"secret": "s3cret", "host": "10.0.0.1"}], "headers": {"Authorization": "Bearer x"},
    "additional_config_cmds": ["set snmp community public", 'set system radius-server 1.1.1.1 secret "$9$abc"'],
    "req_payload": json.dumps({"psk": "inner"}), "url": "https://u:p@h/x",
    "configuration": {"snmp": {"community": [{"name": "c"}]}}}).encode())
write("redact", "junos_set", b"\x01set snmp community public authorization read-only\n"
      b"edit snmp\nset community two\ntop\nrename snmp community a to community b\n"
      b"set system ntp authentication-key 1 type md5 value PlainNtp\n")
write("redact", "junos_text", b"\x01snmp {\n    community public {\n        authorization read-only;\n    }\n}\n"
      b"system {\n    root-authentication {\n        encrypted-password \"$6$x$y\"; ## SECRET-DATA\n    }\n}\n"
      b"[edit snmp]\n+   community new;\n")
write("redact", "junos_xml", b"\x01<configuration><snmp><community><authorization>ro</authorization>"
      b"<name>public</name></community></snmp><secret>$9$q</secret></configuration>")
write("redact", "error", b'\x03Mist API error 400: {"radius":{"secret":"x"}} psk=HtmlSecret1 \xc2\xabsecret:psk:0\xe2\x80\xa6')
