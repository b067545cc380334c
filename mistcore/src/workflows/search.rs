//! Search workflows: devices, clients, guests, NAC user MACs, config history, events, audit logs, alarms.

use super::args::{extend, time, with_limit};
use super::props::*;
use super::{After, Plan, Source, Workflow};
use serde_json::{Value, json};

fn mac_to_device_id(mac: &str) -> Value {
    super::device_id_from_mac(mac).map_or_else(|| json!(mac), Value::String)
}

/// The workflows of this module.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "mist_search_device",
        title: "Search device",
        description: "Search the devices of an organization's inventory, assigned to a site or not, by serial, MAC, firmware version, \
type, connection status or free text (`*` wildcards). Each result gets its `device_id`, derived from its MAC.",
        write: None,
        schema: || {
            object(
                vec![
                    ("org_id", uuid("Organization ID")),
                    ("site_id", opt_uuid("Site ID")),
                    ("serial", opt_string("Serial number of the device")),
                    (
                        "model",
                        opt_string("Device model (not filterable in this API version: use `text`)"),
                    ),
                    (
                        "mac",
                        opt_string("MAC address; partial match with `*` (e.g. `*5b35*`)"),
                    ),
                    ("version", opt_string("Firmware version")),
                    (
                        "device_type",
                        opt_choice(&["ap", "switch", "gateway"], "Type of device"),
                    ),
                    (
                        "status",
                        opt_choice(&["connected", "disconnected"], "Connection status"),
                    ),
                    (
                        "text",
                        opt_string("Text to search in name, serial and MAC; `*` wildcards"),
                    ),
                    ("limit", limit(20)),
                ],
                &["org_id"],
            )
        },
        source: Source::Api(|a| {
            a.refuse(&["model"], "by the inventory search of this API version: search the model with `text` (e.g. `AP43*`)")?;
            let mut args = a.pick(&[
                ("org_id", "org_id"),
                ("site_id", "site_id"),
                ("serial", "serial"),
                ("mac", "mac"),
                ("version", "version"),
                ("device_type", "type"),
                ("status", "status"),
                ("text", "text"),
            ]);
            args = with_limit(args, a, 20);
            Ok(Plan::call("searchOrgInventory", args).then(After::DeviceIds))
        }),
    },
    Workflow {
        name: "mist_search_client",
        title: "Search client",
        description: "Search WAN, wired, wireless or NAC clients of an organization or site by MAC, hostname, IP, SSID, band, \
the AP or switch they use, or free text (`prefix*` and `*substring*` wildcards).",
        write: None,
        schema: || {
            let mut p = vec![
                (
                    "client_type",
                    choice(
                        &["wan", "wired", "wireless", "nac"],
                        "Type of client: WAN, wired, wireless or NAC",
                    ),
                ),
                ("org_id", uuid("Organization ID")),
                ("site_id", opt_uuid("Site ID")),
                (
                    "device_mac",
                    opt_string("MAC of the AP or switch the client uses (wired, wireless)"),
                ),
                (
                    "band",
                    opt_choice(&["24", "5", "6"], "802.11 band (wireless only)"),
                ),
                ("ssid", opt_string("SSID (wireless, NAC)")),
                ("mac", opt_string("Client MAC; `prefix*` or `*substring*`")),
                (
                    "hostname",
                    opt_string("Client hostname (wireless, NAC, WAN)"),
                ),
                ("ip", opt_string("Client IP (not NAC)")),
                ("text", opt_string("Free text search (not WAN)")),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["client_type", "org_id"])
        },
        source: Source::Api(|a| {
            let t = time(a);
            let (op, args) = match a.selector("client_type") {
                "wan" => {
                    a.refuse(&["device_mac", "band", "ssid", "text"], "for WAN clients")?;
                    let (site, scope) = a.org_or_site(a.has_site(), "")?;
                    let filters = a.pick(&[("mac", "mac"), ("hostname", "hostname"), ("ip", "ip")]);
                    (
                        if site {
                            "searchSiteWanClients"
                        } else {
                            "searchOrgWanClients"
                        },
                        extend(extend(scope, filters), t),
                    )
                }
                "wired" => {
                    a.refuse(
                        &["band", "ssid", "hostname"],
                        "for wired clients (use `text`)",
                    )?;
                    let args = a.pick(&[
                        ("org_id", "org_id"),
                        ("site_id", "site_id"),
                        ("device_mac", "device_mac"),
                        ("mac", "mac"),
                        ("ip", "ip"),
                        ("text", "text"),
                    ]);
                    ("searchOrgWiredClients", extend(args, t))
                }
                "wireless" => {
                    let args = a.pick(&[
                        ("org_id", "org_id"),
                        ("site_id", "site_id"),
                        ("device_mac", "ap"),
                        ("band", "band"),
                        ("ssid", "ssid"),
                        ("mac", "mac"),
                        ("hostname", "hostname"),
                        ("ip", "ip"),
                        ("text", "text"),
                    ]);
                    ("searchOrgWirelessClients", extend(args, t))
                }
                _ => {
                    a.refuse(&["device_mac", "band", "ip"], "for NAC clients")?;
                    let args = a.pick(&[
                        ("org_id", "org_id"),
                        ("site_id", "site_id"),
                        ("ssid", "ssid"),
                        ("mac", "mac"),
                        ("hostname", "hostname"),
                        ("text", "text"),
                    ]);
                    ("searchOrgNacClients", extend(args, t))
                }
            };
            Ok(Plan::call(op, with_limit(args, a, 20)))
        }),
    },
    Workflow {
        name: "mist_search_guest_authorization",
        title: "Search guest authorization",
        description: "Search guest authorizations of an organization or site, or get one by the guest's MAC.",
        write: None,
        schema: || {
            let mut p = vec![
                (
                    "scope",
                    choice(
                        &["org", "site"],
                        "Search the whole organization or one site (`site` needs site_id)",
                    ),
                ),
                ("org_id", uuid("Organization ID")),
                ("site_id", opt_uuid("Site ID")),
                (
                    "guest_mac",
                    opt_string("MAC of one guest, to get its authorization"),
                ),
                ("wlan_id", opt_uuid("WLAN ID")),
                ("auth_method", opt_string("Authentication method")),
                ("ssid", opt_string("SSID")),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["scope", "org_id"])
        },
        source: Source::Api(|a| {
            let (_, scope) = a.org_or_site(a.selector("scope") == "site", "when scope is site")?;
            let site = a.selector("scope") == "site";
            if let Some(mac) = a.str("guest_mac") {
                let mut args = scope;
                args.insert("guest_mac".into(), json!(mac));
                return Ok(Plan::call(
                    if site {
                        "getSiteGuestAuthorization"
                    } else {
                        "getOrgGuestAuthorization"
                    },
                    args,
                ));
            }
            let filters = a.pick(&[
                ("wlan_id", "wlan_id"),
                ("auth_method", "auth_method"),
                ("ssid", "ssid"),
            ]);
            let args = with_limit(extend(extend(scope, filters), time(a)), a, 20);
            Ok(Plan::call(
                if site {
                    "searchSiteGuestAuthorization"
                } else {
                    "searchOrgGuestAuthorization"
                },
                args,
            ))
        }),
    },
    Workflow {
        name: "mist_search_nac_user_macs",
        title: "Search NAC user MACs",
        description: "Search the user MACs (NAC endpoints used for MAC authentication) of an organization by MAC and labels, or get one by id.",
        write: None,
        schema: || {
            object(
                vec![
                    ("org_id", uuid("Organization ID")),
                    (
                        "usermac_id",
                        opt_string("ID of one user MAC; other filters are then ignored"),
                    ),
                    ("mac", opt_string("Client MAC; `prefix*` or `*substring*`")),
                    (
                        "labels",
                        json!({"type": "array", "items": {"type": "string"}, "default": null, "description": "Labels the endpoints must all have"}),
                    ),
                    ("limit", limit(20)),
                ],
                &["org_id"],
            )
        },
        source: Source::Api(|a| {
            if a.str("usermac_id").is_some() {
                return Ok(Plan::call(
                    "getOrgUserMac",
                    a.pick(&[("org_id", "org_id"), ("usermac_id", "usermac_id")]),
                ));
            }
            let args = a.pick(&[("org_id", "org_id"), ("mac", "mac"), ("labels", "labels")]);
            Ok(Plan::call("searchOrgUserMacs", with_limit(args, a, 20)))
        }),
    },
    Workflow {
        name: "mist_search_device_config_history",
        title: "Search device config history",
        description: "Configuration history of a site's devices (`history`), or the last configuration of each (`last_configs`): \
to find what changed before a problem started.",
        write: None,
        schema: || {
            let mut p = vec![
                ("site_id", uuid("Site ID")),
                (
                    "query_type",
                    choice(
                        &["history", "last_configs"],
                        "All config history entries, or the last config of each device",
                    ),
                ),
                (
                    "device_type",
                    choice(&["ap", "switch", "gateway"], "Type of device"),
                ),
                ("device_mac", opt_string("MAC of one device")),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["site_id", "query_type", "device_type"])
        },
        source: Source::Api(|a| {
            let (op, type_param) = match a.selector("query_type") {
                "last_configs" => ("searchSiteDeviceLastConfigs", "device_type"),
                _ => ("searchSiteDeviceConfigHistory", "type"),
            };
            let args = a.pick(&[
                ("site_id", "site_id"),
                ("device_type", type_param),
                ("device_mac", "mac"),
            ]);
            Ok(Plan::call(op, with_limit(extend(args, time(a)), a, 20)))
        }),
    },
    Workflow {
        name: "mist_search_events",
        title: "Search events",
        description: "Search events of devices, Mist Edges, WAN, wireless or NAC clients (org or site), or roaming and rogue events (site). \
Give `event_type` (comma-separated) to narrow them: mist_get_constants lists the types (device_events, mxedge_events, \
client_events, nac_events).",
        write: None,
        schema: || {
            let mut p = vec![
                (
                    "event_source",
                    choice(
                        &[
                            "device",
                            "mxedge",
                            "wan_client",
                            "wireless_client",
                            "nac_client",
                            "roaming",
                            "rogue",
                        ],
                        "Source of the events; roaming and rogue need site_id",
                    ),
                ),
                ("org_id", uuid("Organization ID")),
                ("event_type", opt_string("Comma-separated event types")),
                ("site_id", opt_uuid("Site ID")),
                (
                    "mac",
                    opt_string(
                        "MAC to filter by (device, mxedge, WAN client, NAC client, rogue events)",
                    ),
                ),
                (
                    "text",
                    opt_string("Text search (device and NAC client events)"),
                ),
                (
                    "ssid",
                    opt_string("SSID (wireless client, NAC client, rogue events)"),
                ),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["event_source", "org_id"])
        },
        source: Source::Api(|a| {
            let source = a.selector("event_source");
            let site_only = matches!(source, "roaming" | "rogue");
            let (site, scope) =
                a.org_or_site(site_only || a.has_site(), &format!("for {source} events"))?;
            let mut args = extend(scope, a.pick(&[("event_type", "type")]));
            let op = match source {
                "device" => {
                    a.refuse(&["ssid"], "for device events")?;
                    args.extend(a.pick(&[("mac", "mac"), ("text", "text")]));
                    if site {
                        "searchSiteDeviceEvents"
                    } else {
                        "searchOrgDeviceEvents"
                    }
                }
                "mxedge" => {
                    a.refuse(&["text", "ssid"], "for Mist Edge events")?;
                    if let Some(mac) = a.str("mac") {
                        args.insert("mxedge_id".into(), mac_to_device_id(mac));
                    }
                    if site {
                        "searchSiteMistEdgeEvents"
                    } else {
                        "searchOrgMistEdgeEvents"
                    }
                }
                "wan_client" => {
                    a.refuse(&["text", "ssid"], "for WAN client events")?;
                    args.extend(a.pick(&[("mac", "mac")]));
                    if site {
                        "searchSiteWanClientEvents"
                    } else {
                        "searchOrgWanClientEvents"
                    }
                }
                "wireless_client" => {
                    a.refuse(&["mac", "text"], "for wireless client events")?;
                    args.extend(a.pick(&[("ssid", "ssid")]));
                    if site {
                        "searchSiteWirelessClientEvents"
                    } else {
                        "searchOrgWirelessClientEvents"
                    }
                }
                "nac_client" => {
                    args.extend(a.pick(&[("mac", "mac"), ("text", "text"), ("ssid", "ssid")]));
                    if site {
                        "searchSiteNacClientEvents"
                    } else {
                        "searchOrgNacClientEvents"
                    }
                }
                "roaming" => {
                    a.refuse(&["mac", "text", "ssid"], "for roaming events")?;
                    "listSiteRoamingEvents"
                }
                _ => {
                    a.refuse(&["text"], "for rogue events")?;
                    args.extend(a.pick(&[("mac", "ap_mac"), ("ssid", "ssid")]));
                    "searchSiteRogueEvents"
                }
            };
            Ok(Plan::call(op, with_limit(extend(args, time(a)), a, 20)))
        }),
    },
    Workflow {
        name: "mist_search_audit_logs",
        title: "Search audit logs",
        description: "Audit logs (who changed what) of the current account (`self`) or of an organization (`org`, with a message filter).",
        write: None,
        schema: || {
            let mut p = vec![
                (
                    "scope",
                    choice(
                        &["self", "org"],
                        "The account's own logs, or an organization's (needs org_id)",
                    ),
                ),
                ("org_id", opt_uuid("Organization ID")),
            ];
            p.extend(time_range());
            p.push((
                "message",
                opt_string("Message to filter by (partial match, org scope)"),
            ));
            p.push(("limit", limit(20)));
            object(p, &["scope"])
        },
        source: Source::Api(|a| {
            if a.selector("scope") == "org" {
                a.require("org_id", "when scope is org")?;
                let args = extend(
                    a.pick(&[("org_id", "org_id"), ("message", "message")]),
                    time(a),
                );
                return Ok(Plan::call("listOrgAuditLogs", with_limit(args, a, 20)));
            }
            a.refuse(&["message"], "for the account's own logs (scope self)")?;
            Ok(Plan::call("listSelfAuditLogs", with_limit(time(a), a, 20)))
        }),
    },
    Workflow {
        name: "mist_search_alarms",
        title: "Search alarms",
        description: "Alarms raised in an organization or a site, or the suppressed ones. Alarm groups: infrastructure, marvis (AI \
detections such as bad_cable, dns_failure, dhcp_failure, port_flap), security; mist_get_constants with alarm_definitions \
lists the alarm types.",
        write: None,
        schema: || {
            let mut p = vec![
                ("org_id", uuid("Organization ID")),
                (
                    "scope",
                    choice(
                        &["org", "site", "suppressed"],
                        "org, site (needs site_id) or suppressed",
                    ),
                ),
                ("site_id", opt_uuid("Site ID")),
                (
                    "group",
                    opt_string("Alarm group: infrastructure, marvis, security (site scope)"),
                ),
                (
                    "severity",
                    opt_string("critical, major, minor, warn, info (site scope)"),
                ),
                ("alarm_type", opt_string("Comma-separated alarm types")),
                (
                    "acked",
                    json!({"type": "boolean", "default": null, "description": "Acknowledged (true) or not (false) (site scope)"}),
                ),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["org_id", "scope"])
        },
        source: Source::Api(|a| match a.selector("scope") {
            "suppressed" => {
                a.refuse(
                    &["group", "severity", "alarm_type", "acked"],
                    "for suppressed alarms",
                )?;
                Ok(Plan::call(
                    "listOrgSuppressedAlarms",
                    a.pick(&[("org_id", "org_id")]),
                ))
            }
            "site" => {
                a.require("site_id", "when scope is site")?;
                let args = a.pick(&[
                    ("site_id", "site_id"),
                    ("group", "group"),
                    ("severity", "severity"),
                    ("acked", "acked"),
                    ("alarm_type", "type"),
                ]);
                Ok(Plan::call(
                    "searchSiteAlarms",
                    with_limit(extend(args, time(a)), a, 20),
                ))
            }
            _ => {
                a.refuse(
                    &["group", "severity", "acked"],
                    "by the org alarm search of this API version: use scope=site",
                )?;
                let args = a.pick(&[
                    ("org_id", "org_id"),
                    ("site_id", "site_id"),
                    ("alarm_type", "type"),
                ]);
                Ok(Plan::call(
                    "searchOrgAlarms",
                    with_limit(extend(args, time(a)), a, 20),
                ))
            }
        }),
    },
];
