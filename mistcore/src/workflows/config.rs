//! Configuration objects: read them, read their schema, create, update and delete them.

use super::props::*;
use super::{After, Args, Destructive, Plan, Source, Workflow};
use crate::call::ToolError;
use crate::catalog::{CONFIG_SCHEMAS, config_schema_components};
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// One readable object type: its list and get operations.
struct Readable {
    object_type: &'static str,
    list: &'static str,
    get: &'static str,
    id: &'static str,
    /// The list operation takes `limit` and `page`.
    paged: bool,
    /// The attribute holding the name (`ssid` for WLANs); `None` when names are not filterable.
    name_attr: Option<&'static str>,
    /// Lists are cut to name and id, as the official server does.
    summary: bool,
}

const N: Option<&str> = Some("name");

/// The object types with a plain list/get pair (org_sites, site_devices and org are special).
const READABLE: &[Readable] = &[
    Readable {
        object_type: "org_alarmtemplates",
        list: "listOrgAlarmTemplates",
        get: "getOrgAlarmTemplate",
        id: "alarmtemplate_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_wlans",
        list: "listOrgWlans",
        get: "getOrgWLAN",
        id: "wlan_id",
        paged: true,
        name_attr: Some("ssid"),
        summary: true,
    },
    Readable {
        object_type: "org_sitegroups",
        list: "listOrgSiteGroups",
        get: "getOrgSiteGroup",
        id: "sitegroup_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_avprofiles",
        list: "listOrgAntivirusProfiles",
        get: "getOrgAntivirusProfile",
        id: "avprofile_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_deviceprofiles",
        list: "listOrgDeviceProfiles",
        get: "getOrgDeviceProfile",
        id: "deviceprofile_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_evpn_topologies",
        list: "listOrgEvpnTopologies",
        get: "getOrgEvpnTopology",
        id: "evpn_topology_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_gatewaytemplates",
        list: "listOrgGatewayTemplates",
        get: "getOrgGatewayTemplate",
        id: "gatewaytemplate_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_idpprofiles",
        list: "listOrgIdpProfiles",
        get: "getOrgIdpProfile",
        id: "idpprofile_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_aamwprofiles",
        list: "listOrgAAMWProfiles",
        get: "getOrgAAMWProfile",
        id: "aamwprofile_id",
        paged: false,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_mxclusters",
        list: "listOrgMxEdgeClusters",
        get: "getOrgMxEdgeCluster",
        id: "mxcluster_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_mxedges",
        list: "listOrgMxEdges",
        get: "getOrgMxEdge",
        id: "mxedge_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_mxtunnels",
        list: "listOrgMxTunnels",
        get: "getOrgMxTunnel",
        id: "mxtunnel_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_nactags",
        list: "listOrgNacTags",
        get: "getOrgNacTag",
        id: "nactag_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_nacrules",
        list: "listOrgNacRules",
        get: "getOrgNacRule",
        id: "nacrule_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_networktemplates",
        list: "listOrgNetworkTemplates",
        get: "getOrgNetworkTemplate",
        id: "networktemplate_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_networks",
        list: "listOrgNetworks",
        get: "getOrgNetwork",
        id: "network_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_psks",
        list: "listOrgPsks",
        get: "getOrgPsk",
        id: "psk_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_rftemplates",
        list: "listOrgRfTemplates",
        get: "getOrgRfTemplate",
        id: "rftemplate_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_services",
        list: "listOrgServices",
        get: "getOrgService",
        id: "service_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_servicepolicies",
        list: "listOrgServicePolicies",
        get: "getOrgServicePolicy",
        id: "servicepolicy_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_sitetemplates",
        list: "listOrgSiteTemplates",
        get: "getOrgSiteTemplate",
        id: "sitetemplate_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_vpns",
        list: "listOrgVpns",
        get: "getOrgVpn",
        id: "vpn_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "org_webhooks",
        list: "listOrgWebhooks",
        get: "getOrgWebhook",
        id: "webhook_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_wlantemplates",
        list: "listOrgTemplates",
        get: "getOrgTemplate",
        id: "template_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "org_wxrules",
        list: "listOrgWxRules",
        get: "getOrgWxRule",
        id: "wxrule_id",
        paged: true,
        name_attr: None,
        summary: false,
    },
    Readable {
        object_type: "org_wxtags",
        list: "listOrgWxTags",
        get: "getOrgWxTag",
        id: "wxtag_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "site_evpn_topologies",
        list: "listSiteEvpnTopologies",
        get: "getSiteEvpnTopology",
        id: "evpn_topology_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "site_maps",
        list: "listSiteMaps",
        get: "getSiteMap",
        id: "map_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "site_mxedges",
        list: "listSiteMxEdges",
        get: "getSiteMxEdge",
        id: "mxedge_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "site_psks",
        list: "listSitePsks",
        get: "getSitePsk",
        id: "psk_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
    Readable {
        object_type: "site_webhooks",
        list: "listSiteWebhooks",
        get: "getSiteWebhook",
        id: "webhook_id",
        paged: true,
        name_attr: N,
        summary: true,
    },
    Readable {
        object_type: "site_wlans",
        list: "listSiteWlans",
        get: "getSiteWlan",
        id: "wlan_id",
        paged: true,
        name_attr: Some("ssid"),
        summary: true,
    },
    Readable {
        object_type: "site_wxrules",
        list: "listSiteWxRules",
        get: "getSiteWxRule",
        id: "wxrule_id",
        paged: true,
        name_attr: None,
        summary: false,
    },
    Readable {
        object_type: "site_wxtags",
        list: "listSiteWxTags",
        get: "getSiteWxTag",
        id: "wxtag_id",
        paged: true,
        name_attr: N,
        summary: false,
    },
];

const READ_TYPES: &[&str] = &[
    "org",
    "org_alarmtemplates",
    "org_wlans",
    "org_sitegroups",
    "org_avprofiles",
    "org_deviceprofiles",
    "org_evpn_topologies",
    "org_gatewaytemplates",
    "org_idpprofiles",
    "org_aamwprofiles",
    "org_mxclusters",
    "org_mxedges",
    "org_mxtunnels",
    "org_nactags",
    "org_nacrules",
    "org_networktemplates",
    "org_networks",
    "org_psks",
    "org_rftemplates",
    "org_services",
    "org_servicepolicies",
    "org_sites",
    "org_sitetemplates",
    "org_vpns",
    "org_webhooks",
    "org_wlantemplates",
    "org_wxrules",
    "org_wxtags",
    "site_evpn_topologies",
    "site_maps",
    "site_mxedges",
    "site_psks",
    "site_webhooks",
    "site_wlans",
    "site_wxrules",
    "site_wxtags",
    "site_devices",
];

/// One writable object type: create, update and delete operations, the id parameter.
struct Writable {
    object_type: &'static str,
    create: Option<&'static str>,
    update: &'static str,
    delete: Option<&'static str>,
    id: Option<&'static str>,
}

const fn w(
    object_type: &'static str,
    create: Option<&'static str>,
    update: &'static str,
    delete: Option<&'static str>,
    id: Option<&'static str>,
) -> Writable {
    Writable {
        object_type,
        create,
        update,
        delete,
        id,
    }
}

/// Create/update/delete of each object type (singletons and devices are update-only; an org
/// itself can never be deleted from here).
const WRITABLE: &[Writable] = &[
    w("org_info", None, "updateOrg", None, None),
    w("org_settings", None, "updateOrgSettings", None, None),
    w(
        "org_alarmtemplates",
        Some("createOrgAlarmTemplate"),
        "updateOrgAlarmTemplate",
        Some("deleteOrgAlarmTemplate"),
        Some("alarmtemplate_id"),
    ),
    w(
        "org_wlans",
        Some("createOrgWlan"),
        "updateOrgWlan",
        Some("deleteOrgWlan"),
        Some("wlan_id"),
    ),
    w(
        "org_sitegroups",
        Some("createOrgSiteGroup"),
        "updateOrgSiteGroup",
        Some("deleteOrgSiteGroup"),
        Some("sitegroup_id"),
    ),
    w(
        "org_avprofiles",
        Some("createOrgAntivirusProfile"),
        "updateOrgAntivirusProfile",
        Some("deleteOrgAntivirusProfile"),
        Some("avprofile_id"),
    ),
    w(
        "org_deviceprofiles",
        Some("createOrgDeviceProfile"),
        "updateOrgDeviceProfile",
        Some("deleteOrgDeviceProfile"),
        Some("deviceprofile_id"),
    ),
    w(
        "org_gatewaytemplates",
        Some("createOrgGatewayTemplate"),
        "updateOrgGatewayTemplate",
        Some("deleteOrgGatewayTemplate"),
        Some("gatewaytemplate_id"),
    ),
    w(
        "org_idpprofiles",
        Some("createOrgIdpProfile"),
        "updateOrgIdpProfile",
        Some("deleteOrgIdpProfile"),
        Some("idpprofile_id"),
    ),
    w(
        "org_aamwprofiles",
        Some("createOrgAAMWProfile"),
        "updateOrgAAMWProfile",
        Some("deleteOrgAAMWProfile"),
        Some("aamwprofile_id"),
    ),
    w(
        "org_nactags",
        Some("createOrgNacTag"),
        "updateOrgNacTag",
        Some("deleteOrgNacTag"),
        Some("nactag_id"),
    ),
    w(
        "org_nacrules",
        Some("createOrgNacRule"),
        "updateOrgNacRule",
        Some("deleteOrgNacRule"),
        Some("nacrule_id"),
    ),
    w(
        "org_networktemplates",
        Some("createOrgNetworkTemplate"),
        "updateOrgNetworkTemplate",
        Some("deleteOrgNetworkTemplate"),
        Some("networktemplate_id"),
    ),
    w(
        "org_networks",
        Some("createOrgNetwork"),
        "updateOrgNetwork",
        Some("deleteOrgNetwork"),
        Some("network_id"),
    ),
    w(
        "org_psks",
        Some("createOrgPsk"),
        "updateOrgPsk",
        Some("deleteOrgPsk"),
        Some("psk_id"),
    ),
    w(
        "org_rftemplates",
        Some("createOrgRfTemplate"),
        "updateOrgRfTemplate",
        Some("deleteOrgRfTemplate"),
        Some("rftemplate_id"),
    ),
    w(
        "org_services",
        Some("createOrgService"),
        "updateOrgService",
        Some("deleteOrgService"),
        Some("service_id"),
    ),
    w(
        "org_servicepolicies",
        Some("createOrgServicePolicy"),
        "updateOrgServicePolicy",
        Some("deleteOrgServicePolicy"),
        Some("servicepolicy_id"),
    ),
    w(
        "org_sites",
        Some("createOrgSite"),
        "updateSiteInfo",
        Some("deleteSite"),
        Some("site_id"),
    ),
    w(
        "org_sitetemplates",
        Some("createOrgSiteTemplate"),
        "updateOrgSiteTemplate",
        Some("deleteOrgSiteTemplate"),
        Some("sitetemplate_id"),
    ),
    w(
        "org_vpns",
        Some("createOrgVpn"),
        "updateOrgVpn",
        Some("deleteOrgVpn"),
        Some("vpn_id"),
    ),
    w(
        "org_webhooks",
        Some("createOrgWebhook"),
        "updateOrgWebhook",
        Some("deleteOrgWebhook"),
        Some("webhook_id"),
    ),
    w(
        "org_wlantemplates",
        Some("createOrgTemplate"),
        "updateOrgTemplate",
        Some("deleteOrgTemplate"),
        Some("template_id"),
    ),
    w(
        "org_wxrules",
        Some("createOrgWxRule"),
        "updateOrgWxRule",
        Some("deleteOrgWxRule"),
        Some("wxrule_id"),
    ),
    w(
        "org_wxtags",
        Some("createOrgWxTag"),
        "updateOrgWxTag",
        Some("deleteOrgWxTag"),
        Some("wxtag_id"),
    ),
    w("site_settings", None, "updateSiteSettings", None, None),
    w(
        "site_devices",
        None,
        "updateSiteDevice",
        None,
        Some("device_id"),
    ),
    w(
        "site_psks",
        Some("createSitePsk"),
        "updateSitePsk",
        Some("deleteSitePsk"),
        Some("psk_id"),
    ),
    w(
        "site_webhooks",
        Some("createSiteWebhook"),
        "updateSiteWebhook",
        Some("deleteSiteWebhook"),
        Some("webhook_id"),
    ),
    w(
        "site_wlans",
        Some("createSiteWlan"),
        "updateSiteWlan",
        Some("deleteSiteWlan"),
        Some("wlan_id"),
    ),
    w(
        "site_wxrules",
        Some("createSiteWxRule"),
        "updateSiteWxRule",
        Some("deleteSiteWxRule"),
        Some("wxrule_id"),
    ),
    w(
        "site_wxtags",
        Some("createSiteWxTag"),
        "updateSiteWxTag",
        Some("deleteSiteWxTag"),
        Some("wxtag_id"),
    ),
];

fn write_types() -> Vec<&'static str> {
    WRITABLE.iter().map(|w| w.object_type).collect()
}

/// The workflows of this module.
pub const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "mist_get_configuration_objects",
        title: "Get configuration objects",
        description: "Configuration objects of an org or a site (WLANs, templates, profiles, networks, sites, devices...). \
All objects of a type (names and ids for most types), one by `object_id`, or those whose name matches `name` \
(case-insensitive, `*` wildcards). `computed=true` gives the configuration a site inherits: org_sites (site \
settings), site_wlans (derived WLANs), site_devices with object_id (the generated CLI configuration).",
        write: None,
        schema: || {
            object(
                vec![
                    ("org_id", uuid("Organization ID")),
                    (
                        "object_type",
                        choice(READ_TYPES, "Type of configuration object"),
                    ),
                    (
                        "site_id",
                        opt_uuid(
                            "Site ID. Required when object_type starts with `site_`; for org_sites, the site to get",
                        ),
                    ),
                    ("object_id", opt_uuid("ID of one object to retrieve")),
                    (
                        "name",
                        opt_string(
                            "Name of the objects to retrieve: case-insensitive, `prefix*`, `*substring*`; not for site_devices' computed view",
                        ),
                    ),
                    (
                        "computed",
                        json!({"type": "boolean", "default": null, "description": "Retrieve the computed configuration with inherited settings (org_sites, site_wlans, site_devices)"}),
                    ),
                    (
                        "limit",
                        int(
                            json!(20),
                            "Max number of results per page. Default is 20, Max is 1000",
                        ),
                    ),
                ],
                &["org_id", "object_type"],
            )
        },
        source: Source::Api(plan_get),
    },
    Workflow {
        name: "mist_get_configuration_object_schema",
        title: "Get configuration object schema",
        description: "The JSON schema of a configuration object type, from the Mist OpenAPI spec, to prepare a create or update. \
Compact by default (required fields in full, optional ones as name, type and description); `verbose=true` gives the \
whole schema with the schemas it references under `$defs`.",
        write: None,
        schema: || {
            let names: Vec<&str> = CONFIG_SCHEMAS.iter().map(|(n, _)| *n).collect();
            object(
                vec![
                    (
                        "schema_name",
                        choice(
                            &names,
                            "Name of the configuration object schema to retrieve",
                        ),
                    ),
                    (
                        "verbose",
                        boolean(
                            json!(false),
                            "Return the full schema with all constraints and nested sub-schemas",
                        ),
                    ),
                ],
                &["schema_name"],
            )
        },
        source: Source::Local(object_schema),
    },
    Workflow {
        name: "mist_update_configuration_objects",
        title: "Update configuration objects",
        description: "Create or update a configuration object of an org or a site. To update, first read the object with \
mist_get_configuration_objects and send it whole with your changes (Mist replaces the root attributes it is sent; \
`\"-attr\": true` removes one). To create, read its schema with mist_get_configuration_object_schema. Every change \
is shown to the user for confirmation before it is sent.",
        write: Some(Destructive(false)),
        schema: || {
            object(
                vec![
                    (
                        "action_type",
                        choice(
                            &["create", "update"],
                            "Create a new object, or update the one given by object_id",
                        ),
                    ),
                    (
                        "object_type",
                        choice(&write_types(), "Type of configuration object"),
                    ),
                    (
                        "payload",
                        json!({"type": "object", "additionalProperties": true, "description": "JSON of the object to create, or the whole updated object"}),
                    ),
                    (
                        "org_id",
                        opt_uuid("Organization ID. Required when object_type starts with 'org_'"),
                    ),
                    (
                        "site_id",
                        opt_uuid("Site ID. Required when object_type starts with 'site_'"),
                    ),
                    (
                        "object_id",
                        opt_uuid(
                            "ID of the object to update. Required when action_type is 'update'",
                        ),
                    ),
                ],
                &["action_type", "object_type", "payload"],
            )
        },
        source: Source::Api(plan_write),
    },
    Workflow {
        name: "mist_change_configuration_objects",
        title: "Change configuration objects",
        description: "Create, update or delete a configuration object of an org or a site (delete needs object_id). \
Every change is shown to the user for confirmation before it is sent.",
        write: Some(Destructive(true)),
        schema: || {
            object(
                vec![
                    (
                        "action_type",
                        choice(&["create", "update", "delete"], "Create, update or delete"),
                    ),
                    (
                        "object_type",
                        choice(&write_types(), "Type of configuration object"),
                    ),
                    (
                        "payload",
                        json!({"type": "object", "additionalProperties": true, "default": null, "description": "JSON of the object (create and update)"}),
                    ),
                    (
                        "org_id",
                        opt_uuid("Organization ID. Required when object_type starts with 'org_'"),
                    ),
                    (
                        "site_id",
                        opt_uuid("Site ID. Required when object_type starts with 'site_'"),
                    ),
                    (
                        "object_id",
                        opt_uuid("ID of the object. Required for update and delete"),
                    ),
                ],
                &["action_type", "object_type"],
            )
        },
        source: Source::Api(plan_write),
    },
];

fn scope_args(a: &Args, object_type: &str) -> Result<Map<String, Value>, ToolError> {
    if object_type.starts_with("site_") {
        a.require("site_id", &format!("when object_type is {object_type}"))?;
        Ok(a.pick(&[("site_id", "site_id")]))
    } else {
        a.require("org_id", &format!("when object_type is {object_type}"))?;
        Ok(a.pick(&[("org_id", "org_id")]))
    }
}

fn limit_of(a: &Args) -> usize {
    a.value("limit")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .map_or(20, |l| l.clamp(1, 1000) as usize)
}

fn computed(a: &Args) -> bool {
    a.value("computed")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
}

fn plan_get(a: &Args) -> Result<Plan, ToolError> {
    let object_type = a.selector("object_type");
    let limit = limit_of(a);
    let name = a.str("name").map(str::to_string);
    match object_type {
        "org" => Ok(Plan::call(
            "getOrgSettings",
            a.pick(&[("org_id", "org_id")]),
        )),
        "org_sites" => {
            if let Some(site) = a.str("object_id").or_else(|| a.str("site_id")) {
                // The site itself, or with `computed` the settings it inherits.
                let op = if computed(a) {
                    "getSiteSettingDerived"
                } else {
                    "getSiteInfo"
                };
                return Ok(Plan::call(
                    op,
                    Map::from_iter([("site_id".into(), json!(site))]),
                ));
            }
            let mut args = a.pick(&[("org_id", "org_id")]);
            args.insert("limit".into(), json!(limit));
            match name {
                Some(n) => {
                    args.insert("name".into(), json!(n));
                    Ok(Plan::call("searchOrgSites", args))
                }
                None => Ok(Plan::call("listOrgSites", args).then(After::Filter {
                    attr: "name",
                    pattern: None,
                    limit: None,
                    summary: true,
                })),
            }
        }
        "site_devices" => {
            let mut args = scope_args(a, object_type)?;
            if let Some(id) = a.str("object_id") {
                args.insert("device_id".into(), json!(id));
                let op = if computed(a) {
                    "getSiteDeviceConfigCmd"
                } else {
                    "getSiteDevice"
                };
                return Ok(Plan::call(op, args));
            }
            // Every device type (the spec's default is APs only); a name is matched here, over
            // one page of up to 1000 devices, with the same wildcards as the other types.
            args.insert("type".into(), json!("all"));
            args.insert(
                "limit".into(),
                json!(if name.is_some() { 1000 } else { limit }),
            );
            args.insert("page".into(), json!(1));
            Ok(Plan::call("listSiteDevices", args).then(After::Filter {
                attr: "name",
                pattern: name,
                limit: Some(limit),
                summary: false,
            }))
        }
        "site_wlans" if computed(a) => {
            let mut args = scope_args(a, object_type)?;
            if let Some(id) = a.str("object_id") {
                args.insert("wlan_id".into(), json!(id));
            }
            Ok(
                Plan::call("listSiteWlansDerived", args).then(After::Filter {
                    attr: "ssid",
                    pattern: name,
                    limit: Some(limit),
                    summary: false,
                }),
            )
        }
        other => {
            let t = READABLE
                .iter()
                .find(|t| t.object_type == other)
                .ok_or_else(|| format!("unknown object_type `{other}`"))?;
            let mut args = scope_args(a, other)?;
            if let Some(id) = a.str("object_id") {
                args.insert(t.id.into(), json!(id));
                return Ok(Plan::call(t.get, args));
            }
            let name = name.filter(|_| t.name_attr.is_some());
            if t.paged {
                // With a name, one page of up to 1000 objects is searched.
                args.insert(
                    "limit".into(),
                    json!(if name.is_some() { 1000 } else { limit }),
                );
                args.insert("page".into(), json!(1));
            }
            let attr = t.name_attr.unwrap_or("name");
            let summary = t.summary && name.is_none();
            Ok(Plan::call(t.list, args).then(After::Filter {
                attr,
                pattern: name,
                limit: Some(limit),
                summary,
            }))
        }
    }
}

fn plan_write(a: &Args) -> Result<Plan, ToolError> {
    let action = a.selector("action_type");
    let object_type = a.selector("object_type");
    let t = WRITABLE
        .iter()
        .find(|t| t.object_type == object_type)
        .ok_or_else(|| format!("unknown object_type `{object_type}`"))?;
    let op = match action {
        "create" => t.create.ok_or_else(|| {
            format!("`{object_type}` cannot be created, only updated: use action_type=update")
        })?,
        "delete" => t
            .delete
            .ok_or_else(|| format!("`{object_type}` cannot be deleted, only updated"))?,
        _ => t.update,
    };
    let mut args = Map::new();
    // org_sites are changed through their site-level path; singletons need only their scope.
    if object_type == "org_sites" && action != "create" {
        let id = a.require("object_id", &format!("to {action} an object"))?;
        args.insert("site_id".into(), json!(id));
    } else {
        args = scope_args(a, object_type)?;
        if action != "create"
            && let Some(id_param) = t.id
        {
            let id = a.require("object_id", &format!("to {action} an object"))?;
            args.insert(id_param.into(), json!(id));
        }
    }
    if action != "delete" {
        let payload = a
            .value("payload")
            .ok_or("`payload` is required to create or update an object")?;
        args.insert("body".into(), payload.clone());
    }
    let mut plan = Plan::call(op, args);
    plan.object_type = Some(object_type.to_string());
    Ok(plan)
}

fn components() -> Result<&'static Map<String, Value>, ToolError> {
    static PARSED: OnceLock<Map<String, Value>> = OnceLock::new();
    if let Some(m) = PARSED.get() {
        return Ok(m);
    }
    let text = config_schema_components().map_err(|e| e.to_string())?;
    let parsed: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| format!("embedded schemas: {e}"))?;
    Ok(PARSED.get_or_init(|| parsed))
}

/// `$ref`s of the spec rewritten to `$defs` of the answer.
fn rewrite_refs(v: &mut Value, used: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/").map(str::to_string)
            {
                *r = format!("#/$defs/{name}");
                used.push(name);
            }
            o.values_mut().for_each(|x| rewrite_refs(x, used));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, used)),
        _ => {}
    }
}

fn object_schema(a: &Args) -> Result<Value, ToolError> {
    let name = a.selector("schema_name");
    let component = CONFIG_SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .ok_or_else(|| format!("unknown schema_name `{name}`"))?;
    let all = components()?;
    let mut root = all
        .get(component)
        .cloned()
        .ok_or_else(|| format!("schema {component} is missing"))?;
    let verbose = a
        .value("verbose")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
    if verbose {
        let mut todo = Vec::new();
        rewrite_refs(&mut root, &mut todo);
        let mut defs = Map::new();
        while let Some(n) = todo.pop() {
            if defs.contains_key(&n) {
                continue;
            }
            let mut s = all.get(&n).cloned().unwrap_or(Value::Null);
            rewrite_refs(&mut s, &mut todo);
            defs.insert(n, s);
        }
        root["$defs"] = Value::Object(defs);
        root["x-schema-name"] = json!(component);
        return Ok(root);
    }
    let required: Vec<String> = root["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let mut compact = Map::new();
    let mut optional = 0;
    if let Some(props) = root["properties"].as_object() {
        for (k, v) in props {
            if required.contains(k) {
                compact.insert(k.clone(), v.clone());
            } else {
                optional += 1;
                let ty = v.get("type").cloned().or_else(|| {
                    v.get("$ref")
                        .and_then(Value::as_str)
                        .map(|r| json!(format!("object ({})", r.rsplit('/').next().unwrap_or(r))))
                });
                let mut entry = Map::new();
                if let Some(t) = ty {
                    entry.insert("type".into(), t);
                }
                if let Some(d) = v.get("description") {
                    entry.insert("description".into(), d.clone());
                }
                compact.insert(k.clone(), Value::Object(entry));
            }
        }
    }
    Ok(json!({
        "x-schema-name": component,
        "type": root.get("type").cloned().unwrap_or(json!("object")),
        "description": root.get("description").cloned().unwrap_or(Value::Null),
        "required": required,
        "properties": compact,
        "x-hint": format!("{optional} optional field(s) shown in compact form (name, type, description). Pass verbose=true for the full schema."),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deflated_schemas_hold_every_named_component() {
        let all = components().expect("the embedded schemas inflate and parse");
        for (name, component) in CONFIG_SCHEMAS {
            assert!(
                all.contains_key(*component),
                "{name}: {component} is missing"
            );
        }
    }
}
