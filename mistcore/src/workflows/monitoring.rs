//! Monitoring workflows: stats, SLEs, insight metrics, RRM, Marvis troubleshooting, rogues, upgrades.

use super::args::{extend, time, with_limit};
use super::props::*;
use super::{Plan, Source, Workflow};
use crate::call::ToolError;
use serde_json::{Map, Value, json};

/// The 12 hex digits of a MAC, or of the device id derived from one.
fn mac_of(value: &str) -> String {
    let hex: String = value
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() >= 12 {
        hex[hex.len() - 12..].to_string()
    } else {
        value.to_string()
    }
}

/// A device id, from a device id or a MAC.
fn device_id_of(value: &str) -> String {
    if crate::schema::is_uuid(value) {
        value.to_string()
    } else {
        super::device_id_from_mac(value).unwrap_or_else(|| value.to_string())
    }
}

fn not_available(what: &str) -> Result<Plan, ToolError> {
    Err(format!(
        "{what} is not available in the Mist API version this server was built from: no such operation in its OpenAPI spec"
    ).into())
}

/// The scopes of a site's SLE data. The official server also offers `mxedge`, which no SLE
/// operation of the spec accepts (mistcore/tests/workflows.rs checks every offered value).
const SLE_SCOPES: &[&str] = &["client", "ap", "gateway", "switch", "site"];

/// The workflows of this module.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "mist_get_stats",
        title: "Get stats",
        description: "Statistics of an organization, its sites, Mist Edges, devices, BGP peers, peer paths and switch/gateway ports, \
or of a site's Mist Edges, wireless clients, devices, BGP peers and ports. `object_id` narrows to one object: a Mist Edge \
id, a device id (or MAC), a MAC for BGP/peer paths/ports, a client MAC, a site id for `sites`.",
        write: None,
        schema: || {
            let mut p = vec![
                (
                    "stats_type",
                    choice(
                        &[
                            "org",
                            "sites",
                            "org_mxedges",
                            "org_devices",
                            "org_bgp",
                            "org_peer_paths",
                            "org_ports",
                            "site_mxedges",
                            "site_wireless_clients",
                            "site_devices",
                            "site_bgp",
                            "site_ports",
                        ],
                        "Type of statistics",
                    ),
                ),
                ("org_id", uuid("Organization ID")),
                ("site_id", opt_uuid("Site ID (site_* types)")),
                (
                    "device_type",
                    opt_choice(
                        &["ap", "switch", "gateway"],
                        "Device type (org_devices, site_devices)",
                    ),
                ),
                (
                    "object_id",
                    opt_string(
                        "One object: Mist Edge id, device id, MAC or site id depending on stats_type",
                    ),
                ),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["stats_type", "org_id"])
        },
        source: Source::Api(|a| {
            let kind = a.selector("stats_type");
            let object = a.str("object_id");
            let org = || a.pick(&[("org_id", "org_id")]);
            let site = || -> Result<Map<String, Value>, ToolError> {
                a.require("site_id", &format!("when stats_type is {kind}"))?;
                Ok(a.pick(&[("site_id", "site_id")]))
            };
            let mac = || {
                object
                    .map(|o| Map::from_iter([("mac".to_string(), json!(mac_of(o)))]))
                    .unwrap_or_default()
            };
            if !matches!(kind, "org_devices" | "site_devices") {
                a.refuse(&["device_type"], &format!("for stats_type {kind}"))?;
            }
            let plan = match (kind, object) {
                ("org", _) => Plan::call("getOrgStats", extend(org(), time(a))),
                ("sites", None) => Plan::call(
                    "listOrgSiteStats",
                    with_limit(extend(org(), time(a)), a, 20),
                ),
                ("sites", Some(id)) => Plan::call(
                    "getSiteStats",
                    Map::from_iter([("site_id".into(), json!(id))]),
                ),
                ("org_mxedges", None) => Plan::call(
                    "listOrgMxEdgesStats",
                    with_limit(extend(org(), time(a)), a, 20),
                ),
                ("org_mxedges", Some(id)) => Plan::call(
                    "getOrgMxEdgeStats",
                    extend(org(), Map::from_iter([("mxedge_id".into(), json!(id))])),
                ),
                ("org_devices", _) => {
                    let args = extend(
                        extend(
                            org(),
                            a.pick(&[("site_id", "site_id"), ("device_type", "type")]),
                        ),
                        mac(),
                    );
                    Plan::call(
                        "listOrgDevicesStats",
                        with_limit(extend(args, time(a)), a, 20),
                    )
                }
                ("org_bgp", _) => Plan::call(
                    "searchOrgBgpStats",
                    with_limit(
                        extend(
                            extend(extend(org(), a.pick(&[("site_id", "site_id")])), mac()),
                            time(a),
                        ),
                        a,
                        20,
                    ),
                ),
                ("org_peer_paths", _) => Plan::call(
                    "searchOrgPeerPathStats",
                    with_limit(
                        extend(
                            extend(extend(org(), a.pick(&[("site_id", "site_id")])), mac()),
                            time(a),
                        ),
                        a,
                        20,
                    ),
                ),
                ("org_ports", _) => Plan::call(
                    "searchOrgSwOrGwPorts",
                    with_limit(extend(extend(org(), mac()), time(a)), a, 20),
                ),
                ("site_mxedges", None) => Plan::call(
                    "listSiteMxEdgesStats",
                    with_limit(extend(site()?, time(a)), a, 20),
                ),
                ("site_mxedges", Some(id)) => Plan::call(
                    "getSiteMxEdgeStats",
                    extend(
                        extend(site()?, time(a)),
                        Map::from_iter([("mxedge_id".into(), json!(id))]),
                    ),
                ),
                ("site_wireless_clients", None) => Plan::call(
                    "listSiteWirelessClientsStats",
                    with_limit(extend(site()?, time(a)), a, 20),
                ),
                ("site_wireless_clients", Some(id)) => Plan::call(
                    "getSiteWirelessClientStats",
                    extend(
                        site()?,
                        Map::from_iter([("client_mac".into(), json!(mac_of(id)))]),
                    ),
                ),
                ("site_devices", None) => {
                    a.refuse(
                        &["start", "end"],
                        "for site_devices stats (current values only)",
                    )?;
                    Plan::call(
                        "listSiteDevicesStats",
                        with_limit(extend(site()?, a.pick(&[("device_type", "type")])), a, 20),
                    )
                }
                ("site_devices", Some(id)) => Plan::call(
                    "getSiteDeviceStats",
                    extend(
                        site()?,
                        Map::from_iter([("device_id".into(), json!(device_id_of(id)))]),
                    ),
                ),
                ("site_bgp", _) => Plan::call(
                    "searchSiteBgpStats",
                    with_limit(extend(extend(site()?, mac()), time(a)), a, 20),
                ),
                ("site_ports", _) => Plan::call(
                    "searchSiteSwOrGwPorts",
                    with_limit(extend(extend(site()?, mac()), time(a)), a, 20),
                ),
                (other, _) => return not_available(&format!("stats_type {other}")),
            };
            Ok(plan)
        }),
    },
    Workflow {
        name: "mist_get_site_sle",
        title: "Get site SLE",
        description: "Service Level Expectation data of a site scope (site, AP, switch, gateway, client): summary, impact summary, \
impacted objects, histogram, threshold, classifier details. mist_list_site_sle_info lists the metrics and classifiers.",
        write: None,
        schema: || {
            let mut p = vec![
                ("site_id", uuid("Site ID")),
                ("scope", choice(SLE_SCOPES, "Scope of the SLE")),
                (
                    "scope_id",
                    string("ID of the scope: site id, device id, or client MAC"),
                ),
                ("metric", string("SLE metric (see mist_list_site_sle_info)")),
                (
                    "object_type",
                    choice(
                        &[
                            "summary",
                            "impact_summary",
                            "summary_trend",
                            "impacted_applications",
                            "impacted_aps",
                            "impacted_gateways",
                            "impacted_interfaces",
                            "impacted_switches",
                            "impacted_wireless_clients",
                            "impacted_wired_clients",
                            "impacted_chassis",
                            "histogram",
                            "classifier_summary_trend",
                            "threshold",
                        ],
                        "What to retrieve",
                    ),
                ),
            ];
            p.extend(time_range());
            p.push((
                "classifier",
                opt_string("Classifier name (classifier_summary_trend)"),
            ));
            p.push((
                "duration",
                opt_string("Time range duration (e.g. 1d, 1h, 10m)"),
            ));
            object(
                p,
                &["site_id", "scope", "scope_id", "metric", "object_type"],
            )
        },
        source: Source::Api(|a| {
            let base = a.pick(&[
                ("site_id", "site_id"),
                ("scope", "scope"),
                ("scope_id", "scope_id"),
                ("metric", "metric"),
            ]);
            let t = extend(time(a), a.pick(&[("duration", "duration")]));
            let classifier = a.pick(&[("classifier", "classifier")]);
            let kind = a.selector("object_type");
            let op = match kind {
                "summary" | "summary_trend" => "getSiteSleSummary",
                "impact_summary" => "getSiteSleImpactSummary",
                "impacted_applications" => "listSiteSleImpactedApplications",
                "impacted_aps" => "listSiteSleImpactedAps",
                "impacted_gateways" => "listSiteSleImpactedGateways",
                "impacted_interfaces" => "listSiteSleImpactedInterfaces",
                "impacted_switches" => "listSiteSleImpactedSwitches",
                "impacted_wireless_clients" => "listSiteSleImpactedWirelessClients",
                "impacted_wired_clients" => "listSiteSleImpactedWiredClients",
                "impacted_chassis" => "listSiteSleImpactedChassis",
                "histogram" => "getSiteSleHistogram",
                "classifier_summary_trend" => {
                    a.require("classifier", "when object_type is classifier_summary_trend")?;
                    return Ok(Plan::call(
                        "getSiteSleClassifierDetails",
                        extend(extend(base, classifier), t),
                    ));
                }
                _ => {
                    a.refuse(
                        &["start", "end", "duration", "classifier"],
                        "for the threshold",
                    )?;
                    return Ok(Plan::call("getSiteSleThreshold", base));
                }
            };
            let takes_classifier = kind == "impact_summary" || kind.starts_with("impacted_");
            if !takes_classifier {
                a.refuse(&["classifier"], &format!("for object_type {kind}"))?;
            }
            let args = extend(base, t);
            Ok(Plan::call(
                op,
                if takes_classifier {
                    extend(args, classifier)
                } else {
                    args
                },
            ))
        }),
    },
    Workflow {
        name: "mist_list_site_sle_info",
        title: "List site SLE info",
        description: "The SLE metrics of a site scope (`metrics`), or the classifiers of one metric (`classifiers`).",
        write: None,
        schema: || {
            object(
                vec![
                    ("site_id", uuid("Site ID")),
                    (
                        "query_type",
                        choice(
                            &["metrics", "classifiers"],
                            "metrics, or classifiers of `metric`",
                        ),
                    ),
                    (
                        "scope",
                        choice(
                            &["ap", "client", "gateway", "site", "switch"],
                            "Scope of the SLE data",
                        ),
                    ),
                    (
                        "scope_id",
                        string(
                            "site_id for site; device id for ap, switch, gateway; MAC for client",
                        ),
                    ),
                    ("metric", opt_string("SLE metric (classifiers)")),
                ],
                &["site_id", "query_type", "scope", "scope_id"],
            )
        },
        source: Source::Api(|a| {
            let base = a.pick(&[
                ("site_id", "site_id"),
                ("scope", "scope"),
                ("scope_id", "scope_id"),
            ]);
            if a.selector("query_type") == "classifiers" {
                a.require("metric", "when query_type is classifiers")?;
                return Ok(Plan::call(
                    "listSiteSleMetricClassifiers",
                    extend(base, a.pick(&[("metric", "metric")])),
                ));
            }
            Ok(Plan::call("listSiteSlesMetrics", base))
        }),
    },
    Workflow {
        name: "mist_get_org_sle",
        title: "Get org SLE",
        description: "Org-wide SLE insight of a metric (all or worst sites, Mist Edges...).",
        write: None,
        schema: || {
            let mut p = vec![
                ("org_id", uuid("Organization ID")),
                ("metric", string("Metric to look at")),
                ("sle", opt_string("Type of SLE data")),
            ];
            p.extend(time_range());
            object(p, &["org_id", "metric"])
        },
        source: Source::Api(|a| {
            Ok(Plan::call(
                "getOrgSle",
                extend(
                    a.pick(&[("org_id", "org_id"), ("metric", "metric"), ("sle", "sle")]),
                    time(a),
                ),
            ))
        }),
    },
    Workflow {
        name: "mist_get_org_sites_sle",
        title: "Get org sites SLE",
        description: "SLE summary of every site of an organization, for wifi, wired or wan.",
        write: None,
        schema: || {
            let mut p = vec![
                ("org_id", uuid("Organization ID")),
                (
                    "sle",
                    choice(&["wifi", "wired", "wan"], "wifi, wired or wan"),
                ),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["org_id", "sle"])
        },
        source: Source::Api(|a| {
            Ok(Plan::call(
                "getOrgSitesSle",
                with_limit(
                    extend(a.pick(&[("org_id", "org_id"), ("sle", "sle")]), time(a)),
                    a,
                    20,
                ),
            ))
        }),
    },
    Workflow {
        name: "mist_get_insight_metrics",
        title: "Get insight metrics",
        description: "Insight metrics of a site, a client (by MAC) or a device (AP, switch, Mist Edge by MAC; gateway by device id). \
mist_get_constants with insight_metrics lists the metrics.",
        write: None,
        schema: || {
            let mut p = vec![
                ("site_id", uuid("Site ID")),
                (
                    "object_type",
                    choice(
                        &["site", "client", "ap", "gateway", "mxedge", "switch"],
                        "Type of object",
                    ),
                ),
                ("metric", string("Metric name")),
                (
                    "mac",
                    opt_string("MAC of the client or device (client, ap, mxedge, switch)"),
                ),
                ("device_id", opt_uuid("Device id of the gateway (gateway)")),
            ];
            p.extend(time_range());
            p.extend([
                (
                    "duration",
                    opt_string("Time range duration (e.g. 1d, 1h, 10m)"),
                ),
                ("interval", opt_string("Aggregation interval (e.g. 1h, 1d)")),
                ("page", int(Value::Null, "Page number")),
                ("limit", limit(20)),
            ]);
            object(p, &["site_id", "object_type", "metric"])
        },
        source: Source::Api(|a| {
            let common = with_limit(
                extend(
                    a.pick(&[
                        ("site_id", "site_id"),
                        ("metric", "metric"),
                        ("duration", "duration"),
                        ("interval", "interval"),
                        ("page", "page"),
                    ]),
                    time(a),
                ),
                a,
                20,
            );
            let kind = a.selector("object_type");
            match kind {
                "site" => Ok(Plan::call("getSiteInsightMetrics", common)),
                "client" => {
                    let mac = a.require("mac", "when object_type is client")?;
                    Ok(Plan::call(
                        "getSiteInsightMetricsForClient",
                        extend(
                            common,
                            Map::from_iter([("client_mac".into(), json!(mac_of(mac)))]),
                        ),
                    ))
                }
                "gateway" => {
                    let id = a
                        .str("device_id")
                        .or_else(|| a.str("mac"))
                        .ok_or("`device_id` is required when object_type is gateway")?;
                    Ok(Plan::call(
                        "getSiteInsightMetricsForDevice",
                        extend(
                            common,
                            Map::from_iter([("device_mac".into(), json!(mac_of(id)))]),
                        ),
                    ))
                }
                _ => {
                    let mac = a.require("mac", &format!("when object_type is {kind}"))?;
                    Ok(Plan::call(
                        "getSiteInsightMetricsForDevice",
                        extend(
                            common,
                            Map::from_iter([("device_mac".into(), json!(mac_of(mac)))]),
                        ),
                    ))
                }
            }
        }),
    },
    Workflow {
        name: "mist_get_site_rrm_info",
        title: "Get site RRM info",
        description: "Radio Resource Management of a site: the current channel plan, one AP's RRM considerations for a band \
(device_id, band), the RRM neighbors on a band, or RRM events over a time range.",
        write: None,
        schema: || {
            let mut p = vec![
                ("site_id", uuid("Site ID")),
                (
                    "rrm_info_type",
                    choice(
                        &[
                            "current_channel_planning",
                            "current_rrm_considerations",
                            "current_rrm_neighbors",
                            "events",
                        ],
                        "What to retrieve",
                    ),
                ),
                ("device_id", opt_uuid("AP id (current_rrm_considerations)")),
                (
                    "band",
                    opt_choice(
                        &[
                            "24",
                            "5",
                            "5_dedicated",
                            "5_selectable",
                            "6",
                            "6_dedicated",
                            "6_selectable",
                        ],
                        "802.11 band",
                    ),
                ),
            ];
            p.extend(time_range());
            p.extend([
                (
                    "duration",
                    opt_string("Time range duration (e.g. 1d, 1h, 10m)"),
                ),
                ("limit", limit(200)),
                ("page", int(json!(1), "Page number")),
            ]);
            object(p, &["site_id", "rrm_info_type"])
        },
        source: Source::Api(|a| {
            let site = a.pick(&[("site_id", "site_id")]);
            let paging = extend(
                Map::from_iter([("limit".to_string(), a.limit_or(200))]),
                a.pick(&[("page", "page")]),
            );
            match a.selector("rrm_info_type") {
                "current_channel_planning" => Ok(Plan::call("getSiteCurrentChannelPlanning", site)),
                "current_rrm_considerations" => {
                    a.require(
                        "device_id",
                        "when rrm_info_type is current_rrm_considerations",
                    )?;
                    a.require("band", "when rrm_info_type is current_rrm_considerations")?;
                    Ok(Plan::call(
                        "getSiteCurrentRrmConsiderations",
                        extend(
                            site,
                            a.pick(&[("device_id", "device_id"), ("band", "band")]),
                        ),
                    ))
                }
                "current_rrm_neighbors" => {
                    a.require("band", "when rrm_info_type is current_rrm_neighbors")?;
                    Ok(Plan::call(
                        "listSiteCurrentRrmNeighbors",
                        extend(extend(site, a.pick(&[("band", "band")])), paging),
                    ))
                }
                "events" => Ok(Plan::call(
                    "listSiteRrmEvents",
                    extend(
                        extend(
                            extend(site, a.pick(&[("band", "band"), ("duration", "duration")])),
                            time(a),
                        ),
                        paging,
                    ),
                )),
                other => not_available(&format!("rrm_info_type {other}")),
            }
        }),
    },
    Workflow {
        name: "mist_troubleshoot",
        title: "Troubleshoot",
        description: "Marvis troubleshooting of a site (site_id) or of a client or device (mac), for wan, wired or wireless, over \
at most the last 7 days. Needs a Marvis subscription.",
        write: None,
        schema: || {
            let mut p = vec![
                ("org_id", uuid("Organization ID")),
                (
                    "troubleshoot_type",
                    choice(&["wan", "wired", "wireless"], "wan, wired or wireless"),
                ),
                ("site_id", opt_uuid("Site ID, to troubleshoot a whole site")),
                (
                    "mac",
                    opt_string("MAC of the client or device to troubleshoot"),
                ),
            ];
            p.extend(time_range());
            object(p, &["org_id", "troubleshoot_type"])
        },
        source: Source::Api(|a| {
            if a.str("mac").is_none() && a.str("site_id").is_none() {
                return Err("give `mac` (a client or device) or `site_id` (a whole site)".into());
            }
            let args = a.pick(&[
                ("org_id", "org_id"),
                ("site_id", "site_id"),
                ("mac", "mac"),
                ("troubleshoot_type", "type"),
            ]);
            Ok(Plan::call("troubleshootOrg", extend(args, time(a))))
        }),
    },
    Workflow {
        name: "mist_list_rogue_devices",
        title: "List rogue devices",
        description: "Rogue APs (optionally of one type: honeypot, lan, others, spoof) or rogue clients seen by a site.",
        write: None,
        schema: || {
            let mut p = vec![
                ("site_id", uuid("Site ID")),
                (
                    "rogue_type",
                    choice(&["ap", "client"], "Rogue APs or rogue clients"),
                ),
                (
                    "rogue_ap_type",
                    opt_choice(
                        &["honeypot", "lan", "others", "spoof"],
                        "Type of rogue AP (rogue_type ap)",
                    ),
                ),
            ];
            p.extend(time_range());
            p.push(("limit", limit(20)));
            object(p, &["site_id", "rogue_type"])
        },
        source: Source::Api(|a| {
            if a.selector("rogue_type") == "client" {
                a.refuse(&["rogue_ap_type"], "for rogue clients")?;
                return Ok(Plan::call(
                    "listSiteRogueClients",
                    with_limit(extend(a.pick(&[("site_id", "site_id")]), time(a)), a, 20),
                ));
            }
            let args = extend(
                a.pick(&[("site_id", "site_id"), ("rogue_ap_type", "type")]),
                time(a),
            );
            Ok(Plan::call("listSiteRogueAPs", with_limit(args, a, 20)))
        }),
    },
    Workflow {
        name: "mist_list_upgrades",
        title: "List upgrades",
        description: "Firmware upgrade jobs (`upgrades`, or one by upgrade_id) or available firmware versions (`versions`) of devices \
(AP, switch, gateway), Session Smart Routers or Mist Edges, at org or site level.",
        write: None,
        schema: || {
            object(
                vec![
                    ("org_id", uuid("Organization ID")),
                    (
                        "upgrade_type",
                        choice(
                            &["device", "ssr", "mxedge"],
                            "Devices, Session Smart Routers or Mist Edges",
                        ),
                    ),
                    (
                        "query_type",
                        choice(
                            &["upgrades", "versions"],
                            "Upgrade jobs, or available versions",
                        ),
                    ),
                    (
                        "scope",
                        json!({"type": "string", "enum": ["org", "site"], "default": "org", "description": "org, or site (needs site_id)"}),
                    ),
                    ("site_id", opt_uuid("Site ID")),
                    ("upgrade_id", opt_uuid("One upgrade job")),
                    (
                        "device_type",
                        opt_choice(
                            &["ap", "switch", "gateway"],
                            "Device type (device versions)",
                        ),
                    ),
                    ("model", opt_string("Device model (device versions)")),
                    (
                        "status",
                        opt_choice(
                            &[
                                "cancelled",
                                "completed",
                                "created",
                                "downloaded",
                                "downloading",
                                "failed",
                                "queued",
                                "upgrading",
                            ],
                            "Upgrade status (site device upgrades)",
                        ),
                    ),
                    (
                        "channel",
                        opt_choice(
                            &["stable", "beta", "alpha"],
                            "Release channel (ssr, mxedge versions)",
                        ),
                    ),
                    (
                        "mac",
                        opt_string("Router MAC(s), comma-separated (ssr versions)"),
                    ),
                    (
                        "distro",
                        opt_string("Distribution, e.g. bullseye (mxedge versions)"),
                    ),
                ],
                &["org_id", "upgrade_type", "query_type"],
            )
        },
        source: Source::Api(|a| {
            let site = a.selector("scope") == "site";
            let (_, scope) = a.org_or_site(site, "when scope is site")?;
            let upgrade = a.pick(&[("upgrade_id", "upgrade_id")]);
            let one = a.str("upgrade_id").is_some();
            let plan = match (a.selector("upgrade_type"), a.selector("query_type"), site, one) {
                ("device", "upgrades", false, false) => Plan::call("listOrgDeviceUpgrades", scope),
                ("device", "upgrades", false, true) => Plan::call("getOrgDeviceUpgrade", extend(scope, upgrade)),
                ("device", "upgrades", true, false) => Plan::call("listSiteDeviceUpgrades", extend(scope, a.pick(&[("status", "status")]))),
                ("device", "upgrades", true, true) => Plan::call("getSiteDeviceUpgrade", extend(scope, upgrade)),
                ("device", _, false, _) => Plan::call("listOrgAvailableDeviceVersions", extend(scope, a.pick(&[("device_type", "type"), ("model", "model")]))),
                ("device", _, true, _) => Plan::call("listSiteAvailableDeviceVersions", extend(scope, a.pick(&[("device_type", "type"), ("model", "model")]))),
                ("ssr", "upgrades", false, false) => Plan::call("listOrgSsrUpgrades", scope),
                ("ssr", "upgrades", true, true) => Plan::call("getSiteSsrUpgrade", extend(scope, upgrade)),
                ("ssr", "upgrades", true, false) => return Err("site-level SSR upgrades are read one at a time: give `upgrade_id`, or use scope=org".into()),
                ("ssr", "upgrades", false, true) => return Err("one SSR upgrade is read at site level: give scope=site and site_id".into()),
                ("ssr", _, false, _) => Plan::call("listOrgAvailableSsrVersions", extend(scope, a.pick(&[("channel", "channel"), ("mac", "mac")]))),
                ("mxedge", "upgrades", false, false) => Plan::call("listOrgMxEdgeUpgrades", scope),
                ("mxedge", "upgrades", false, true) => Plan::call("getOrgMxEdgeUpgrade", extend(scope, upgrade)),
                ("mxedge", _, false, _) => Plan::call("getOrgMxEdgeUpgradeInfo", extend(scope, a.pick(&[("channel", "channel"), ("distro", "distro")]))),
                (kind, _, true, _) => return Err(format!("{kind} versions and Mist Edge upgrades exist at org level only: use scope=org").into()),
                (kind, query, ..) => return Err(format!("unsupported combination upgrade_type={kind}, query_type={query}").into()),
            };
            Ok(plan)
        }),
    },
];
