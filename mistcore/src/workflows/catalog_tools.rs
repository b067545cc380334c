//! Account, org/site, constants, licenses and paging workflows.

use super::props::*;
use super::{Plan, Source, Workflow};
use serde_json::Map;

/// The workflows of this module.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "mist_get_self",
        title: "Get self",
        description: "Information about the current user and token, by `action_type`: `account_info` (the account and the orgs and sites it can access, with their ids and privileges), `api_usage` (API calls made in the current hour and the limit), `login_failures` (recent failed logins).",
        write: None,
        schema: || {
            object(
                vec![(
                    "action_type",
                    choice(
                        &["account_info", "api_usage", "login_failures"],
                        "What to retrieve: account_info, api_usage or login_failures",
                    ),
                )],
                &["action_type"],
            )
        },
        source: Source::Api(|a| {
            Ok(Plan::call(
                match a.selector("action_type") {
                    "api_usage" => "getSelfApiUsage",
                    "login_failures" => "getSelfLoginFailures",
                    _ => "getSelf",
                },
                Map::new(),
            ))
        }),
    },
    Workflow {
        name: "mist_get_org_or_site_info",
        title: "Get org or site info",
        description: "Information about an organization (`info_type=org`) or one of its sites (`info_type=site`, with `site_id`).",
        write: None,
        schema: || {
            object(
                vec![
                    (
                        "info_type",
                        choice(&["org", "site"], "Type of information: `org` or `site`"),
                    ),
                    ("org_id", uuid("Organization ID")),
                    ("site_id", opt_uuid("Site ID")),
                ],
                &["info_type", "org_id"],
            )
        },
        source: Source::Api(|a| match a.selector("info_type") {
            "site" => {
                a.require("site_id", "when info_type is site")?;
                Ok(Plan::call("getSiteInfo", a.pick(&[("site_id", "site_id")])))
            }
            _ => Ok(Plan::call("getOrg", a.pick(&[("org_id", "org_id")]))),
        }),
    },
    Workflow {
        name: "mist_get_constants",
        title: "Get constants",
        description: "Mist platform constants: insight metrics, webhook topics, alarm definitions, device models, event definitions, license types, fingerprint types. Use them to find valid values for other tools.",
        write: None,
        schema: || {
            object(
                vec![(
                    "object_type",
                    choice(
                        &[
                            "fingerprint_types",
                            "insight_metrics",
                            "license_types",
                            "webhook_topics",
                            "device_models",
                            "device_events",
                            "mxedge_models",
                            "alarm_definitions",
                            "client_events",
                            "mxedge_events",
                            "nac_events",
                        ],
                        "Type of constant to retrieve",
                    ),
                )],
                &["object_type"],
            )
        },
        source: Source::Api(|a| {
            let op = match a.selector("object_type") {
                "fingerprint_types" => "listFingerprintTypes",
                "insight_metrics" => "listInsightMetrics",
                "license_types" => "listLicenseTypes",
                "webhook_topics" => "listWebhookTopics",
                "device_models" => "listDeviceModels",
                "device_events" => "listDeviceEventsDefinitions",
                "mxedge_models" => "listMxEdgeModels",
                "alarm_definitions" => "listAlarmDefinitions",
                "client_events" => "listClientEventsDefinitions",
                "mxedge_events" => "listMxEdgeEventsDefinitions",
                _ => "listNacEventsDefinitions",
            };
            Ok(Plan::call(op, Map::new()))
        }),
    },
    Workflow {
        name: "mist_get_org_licenses",
        title: "Get org licenses",
        description: "Licenses of an organization: `summary` (counts by license type), `by_site` (licenses used by each site) or `claim_status` (status of an asynchronous license claim).",
        write: None,
        schema: || {
            object(
                vec![
                    ("org_id", uuid("Organization ID")),
                    (
                        "response_type",
                        choice(
                            &["claim_status", "by_site", "summary"],
                            "Type of license information: claim_status, by_site or summary",
                        ),
                    ),
                ],
                &["org_id", "response_type"],
            )
        },
        source: Source::Api(|a| {
            let op = match a.selector("response_type") {
                "claim_status" => "GetOrgLicenseAsyncClaimStatus",
                "by_site" => "getOrgLicensesBySite",
                _ => "getOrgLicensesSummary",
            };
            Ok(Plan::call(op, a.pick(&[("org_id", "org_id")])))
        }),
    },
    Workflow {
        name: "mist_get_next_page",
        title: "Get next page",
        description: "The next page of a list or search result: pass the `next` path given in a previous result (`pagination.next`, or the `next` field of search results). Only relative /api/v1/ paths of this session's Mist cloud are accepted.",
        write: None,
        schema: || {
            object(
                vec![(
                    "url",
                    string(
                        "The `next` path from a previous result, e.g. /api/v1/orgs/.../devices/search?...&search_after=...",
                    ),
                )],
                &["url"],
            )
        },
        source: Source::NextPage,
    },
];
