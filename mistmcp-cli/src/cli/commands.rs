//! The catalog as shell commands: `listOrgSites` is `mistcli sites list`, `searchSiteDevices`
//! is `mistcli devices search --site <id>`.
//!
//! How a name is made:
//!
//! 1. The operationId is cut into words (`words`): at a lowercase-to-uppercase step and at the
//!    end of an acronym; an acronym keeps its plural `s` (`RogueAPs` is rogue, aps) and a number
//!    stays with the letters it touches (`Dot1x`, `Oauth2`, `128T`).
//! 2. The verb is the first word; the scope (org, site, msp) comes from the path; the resource is
//!    the rest in kebab case, without the scope word. A global operation named like a scoped one
//!    takes its path's first segment as a prefix (`self-api-tokens`), and singular names join
//!    their plural when the verb is free there (`getOrgWLAN` is `wlans get`). These are the
//!    *base* names: the names of mistcli before issue 20, with the words of step 1.
//! 3. Qualifiers move to the verb: `X-derived list` is `X list-derived`, and a bulk operation is
//!    a verb of its collection: `-all` for every item (`all-alarms ack` is `alarms ack-all`),
//!    `-many` for the items listed in the body (`multiple-devices restart` is
//!    `devices restart-many`).
//! 4. A reviewed table names what still reads badly: whole resources (`RENAMES`) and single
//!    operations (`PLACES`): compound verbs, names that start with a preposition, the webhook
//!    samples, login, typos.
//!
//! (resource, verb, scope) is unique: the scope is chosen by `--site`/`--msp` or the default org.
//! Every earlier name still works, hidden: the base names, and the spellings of the word rules
//! before issue 20 (`SPELLINGS`); [`renamed`] says where they lead.

use mistcore::catalog::{OPERATIONS, Operation};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Where an operation lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `/api/v1/orgs/{org_id}/...`
    Org,
    /// `/api/v1/sites/{site_id}/...`
    Site,
    /// `/api/v1/msps/{msp_id}/...`
    Msp,
    /// Anything else (`/api/v1/self`, `/api/v1/const/...`).
    Global,
}

impl Scope {
    /// The scope of a path template.
    pub fn of(path: &str) -> Scope {
        match path.split('/').nth(3) {
            Some("orgs") if path.starts_with("/api/v1/orgs/{org_id}") => Scope::Org,
            Some("sites") if path.starts_with("/api/v1/sites/{site_id}") => Scope::Site,
            Some("msps") if path.starts_with("/api/v1/msps/{msp_id}") => Scope::Msp,
            _ => Scope::Global,
        }
    }

    /// The flag that selects the scope, if any.
    pub fn flag(self) -> Option<&'static str> {
        match self {
            Scope::Org => Some("--org"),
            Scope::Site => Some("--site"),
            Scope::Msp => Some("--msp"),
            Scope::Global => None,
        }
    }
}

/// One command: `mistcli <resource> <verb>` in a scope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Command {
    /// The resource, kebab case (`device-profiles`).
    pub resource: &'static str,
    /// The verb (`list`, `get`, `search`, ...).
    pub verb: &'static str,
    /// The scope.
    pub scope: Scope,
    /// The operation it calls.
    pub op: &'static Operation,
}

/// The words of an operationId: `listOrgWLANs` gives list, Org, WLANs; `listSiteRogueAPs` gives
/// list, Site, Rogue, APs; `reauthOrgDot1xWiredClient` gives reauth, Org, Dot1x, Wired, Client;
/// `getOrg128TRegistrationCommands` gives get, Org, 128T, Registration, Commands.
fn words(id: &str) -> Vec<String> {
    let chars: Vec<char> = id.chars().collect();
    let is = |i: usize, f: fn(&char) -> bool| chars.get(i).is_some_and(f);
    let upper = |i| is(i, char::is_ascii_uppercase);
    let lower = |i| is(i, char::is_ascii_lowercase);
    let digit = |i| is(i, char::is_ascii_digit);
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = i > 0
            && if upper(i) && lower(i - 1) {
                true
            } else if upper(i) && upper(i - 1) && lower(i + 1) {
                // An acronym ends before a capitalized word, but keeps its plural: `APs`.
                chars[i + 1] != 's' || lower(i + 2)
            } else if upper(i) && digit(i - 1) {
                // After a number, a capitalized word starts (`Oauth2Authorization`); an acronym
                // belongs to the number (`128T`).
                lower(i + 1)
            } else if digit(i) && !digit(i - 1) {
                // A number stays with the letters before it (`Dot1x`, `Oauth2`), unless an
                // acronym follows it (`Org128T`).
                let end = (i..=chars.len())
                    .find(|&j| !digit(j))
                    .unwrap_or(chars.len());
                upper(end) && !lower(end + 1)
            } else {
                false
            };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The plural of a resource name: `policy` gives `policies`, `wlan` gives `wlans`.
fn plural(name: &str) -> String {
    match name.strip_suffix('y') {
        Some(stem) if !name.ends_with("ey") => format!("{stem}ies"),
        _ => format!("{name}s"),
    }
}

/// The first segment of a path after `/api/v1` (`self`, `webhook_example`), in kebab case.
fn first_segment(path: &str, otherwise: &str) -> String {
    path.trim_start_matches("/api/v1")
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or(otherwise)
        .replace('_', "-")
}

/// One operation's name in the making: resource, verb, scope and the operation.
type Draft = (String, String, Scope, &'static Operation);

/// The base names (steps 1 and 2 of the module's rules), in the order of [`OPERATIONS`].
fn base_names() -> Vec<Draft> {
    let mut raw: Vec<Draft> = OPERATIONS
        .iter()
        .map(|op| {
            let w = words(op.id);
            let scope = Scope::of(op.path);
            if w.len() == 1 {
                // A bare name (`login`, the webhook samples' `alarms`): the verb under the
                // first segment of its path (`mistcli webhook-example alarms`).
                return (
                    first_segment(op.path, "api"),
                    op.id.to_lowercase().replace('_', "-"),
                    scope,
                    op,
                );
            }
            let verb = w.first().map(|v| v.to_lowercase()).unwrap_or_default();
            let mut rest: &[String] = w.get(1..).unwrap_or(&[]);
            let scope_word = match scope {
                Scope::Org => "org",
                Scope::Site => "site",
                Scope::Msp => "msp",
                Scope::Global => "",
            };
            if rest
                .first()
                .is_some_and(|x| x.eq_ignore_ascii_case(scope_word))
                && rest.len() > 1
            {
                rest = &rest[1..];
            }
            // `getSiteInfo` reads the site itself: `sites get --site <id>`.
            if rest.len() == 1 && rest[0] == "Info" && scope != Scope::Global {
                return (format!("{scope_word}s"), verb, scope, op);
            }
            let resource = rest
                .iter()
                .map(|x| x.to_lowercase())
                .collect::<Vec<_>>()
                .join("-");
            let resource = if resource.is_empty() {
                scope_word.to_string()
            } else {
                resource
            };
            (resource, verb, scope, op)
        })
        .collect();
    // A global operation named like a scoped one (`listApiTokens` of /self beside
    // `listOrgApiTokens`) takes its path's first segment as a prefix: `self-api-tokens list`.
    let scoped: BTreeSet<(String, String)> = raw
        .iter()
        .filter(|r| r.2 != Scope::Global)
        .map(|r| (r.0.clone(), r.1.clone()))
        .collect();
    for r in raw.iter_mut().filter(|r| r.2 == Scope::Global) {
        if scoped.contains(&(r.0.clone(), r.1.clone())) {
            r.0 = format!("{}-{}", first_segment(r.3.path, "global"), r.0);
        }
    }
    // Singular resources join their plural when that stays unambiguous (`wlan get` -> `wlans get`).
    let names: BTreeSet<String> = raw.iter().map(|r| r.0.clone()).collect();
    let mut taken: BTreeSet<(String, String, Scope)> = raw
        .iter()
        .map(|r| (r.0.clone(), r.1.clone(), r.2))
        .collect();
    for r in raw.iter_mut() {
        let plural = plural(&r.0);
        if !r.0.ends_with('s')
            && names.contains(&plural)
            && !taken.contains(&(plural.clone(), r.1.clone(), r.2))
        {
            taken.remove(&(r.0.clone(), r.1.clone(), r.2));
            taken.insert((plural.clone(), r.1.clone(), r.2));
            r.0 = plural;
        }
    }
    raw
}

/// A resource renamed as a whole: every command of the base name `from` is under `to`.
struct Rename {
    /// The base name.
    from: &'static str,
    /// The name shown.
    to: &'static str,
}

/// One operation named by hand: compound verbs (`moveOrDelete...`), bare or odd operationIds
/// (`login`, the webhook samples), names that start with a preposition (`arpFromDevice`), and
/// operations that join a resource under a verb of their own (`getSiteDeviceVirtualChassis` is
/// `virtual-chassis get`).
struct Place {
    /// The operationId.
    operation: &'static str,
    /// Its resource.
    resource: &'static str,
    /// Its verb.
    verb: &'static str,
}

/// A resource as mistcli spelled it before the word rules kept acronyms and numbers whole, and
/// its base name now; the old spelling keeps working.
struct Spelling {
    /// The old spelling (`rogue-a-ps`).
    old: &'static str,
    /// The base name now (`rogue-aps`).
    now: &'static str,
}

/// Resources renamed as a whole (step 4): run-together or misspelled words, leftovers that join
/// the collection they belong to, prefixes that read oddly.
#[rustfmt::skip] // one entry a line: a table to read
const RENAMES: &[Rename] = &[
    Rename { from: "alarms-reports", to: "alarm-reports" },
    Rename { from: "all-clients-stats-by-device", to: "wireless-clients-stats-by-device" },
    Rename { from: "all-learned-macs-from-port-on-switch", to: "switch-learned-macs" },
    Rename { from: "ap-auto-orient", to: "ap-auto-orientation" },
    Rename { from: "ap-autoplacement", to: "ap-auto-placement" },
    Rename { from: "ap-l-esl-versions", to: "ap-esl-versions" },
    Rename { from: "ap-led-definition", to: "ap-led-definitions" },
    Rename { from: "aps-macs", to: "ap-radio-macs" },
    Rename { from: "aptemplates", to: "ap-templates" },
    Rename { from: "asset-stats", to: "assets-stats" },
    Rename { from: "bpdu-errors-from-ports-on-switch", to: "switch-bpdu-errors" },
    Rename { from: "cradlepoint-connection-to-mist", to: "cradlepoint-connection" },
    Rename { from: "device-ha-cluster-node", to: "device-ha-cluster" },
    Rename { from: "device-stats", to: "devices-stats" },
    Rename { from: "discovered-asset-by-map", to: "discovered-assets-by-map" },
    Rename { from: "installer-device-virtual-chassis", to: "installer-virtual-chassis" },
    Rename { from: "installer-list-of-recently-claimed-devices", to: "installer-recently-claimed-devices" },
    Rename { from: "installer-recently-claimed-device", to: "installer-recently-claimed-devices" },
    Rename { from: "installer-rf-templates-names", to: "installer-rf-template-names" },
    Rename { from: "installer-virtual-chassis-member", to: "installer-virtual-chassis" },
    Rename { from: "licenses-by-site", to: "license-usage" },
    Rename { from: "logo", to: "msp-logo" },
    Rename { from: "map-auto-zone-status", to: "map-auto-zone" },
    Rename { from: "msp", to: "msps" },
    Rename { from: "msps-marvis-actions", to: "marvis-actions" },
    Rename { from: "mx-edge-from-site", to: "mx-edges" },
    Rename { from: "mx-edge-stats", to: "mx-edges-stats" },
    Rename { from: "mx-edge-to-site", to: "mx-edges" },
    Rename { from: "oauth-app-authorization", to: "oauth-app-accounts" },
    Rename { from: "org-client-fingerprints", to: "client-fingerprints" },
    Rename { from: "rfdiag-recording", to: "rfdiag-recordings" },
    Rename { from: "rssi-zone-stats", to: "rssi-zones-stats" },
    Rename { from: "sdk-client", to: "sdk-clients" },
    Rename { from: "site-mx-edge-events", to: "mx-edge-events" },
    Rename { from: "skyatp-events", to: "sky-atp-events" },
    Rename { from: "sles-metrics", to: "sle-metrics" },
    Rename { from: "ssr-and-srx-routes", to: "gateway-routes" },
    Rename { from: "ssr-and-srx-sessions", to: "gateway-sessions" },
    Rename { from: "sw-or-gw-ports", to: "ports" },
    Rename { from: "v-beacons", to: "vbeacons" },
    Rename { from: "webhooks-deliveries", to: "webhook-deliveries" },
    Rename { from: "wireless-client-stats", to: "wireless-clients-stats" },
    Rename { from: "wireless-clients-sessions", to: "wireless-client-sessions" },
    Rename { from: "zone-stats", to: "zones-stats" },
];

/// Single operations (step 4). A bulk operation is a verb of its collection with `-many` (the
/// items listed in the body) or `-all` (every item), as in rule 3.
#[rustfmt::skip] // one entry a line: a table to read
const PLACES: &[Place] = &[
    // Compound verbs
    Place { operation: "moveOrDeleteOrgLicenseToAnotherOrg", resource: "licenses", verb: "move" },
    Place { operation: "moveOrDeleteMspLicenseToAnotherOrg", resource: "licenses", verb: "move" },
    Place { operation: "createOrUpdateInstallerSites", resource: "installer-sites", verb: "set" },
    // Typos in operationIds
    Place { operation: "udpateOrgAtpAllowedList", resource: "atp-allowed-list", verb: "update" },
    Place { operation: "udpateOrgAtpBlockedList", resource: "atp-blocked-list", verb: "update" },
    Place { operation: "udpateOrgAtpIntegration", resource: "atp-integration", verb: "update" },
    // Login, 2FA, OAuth2, admins' registration, MSPs
    Place { operation: "login", resource: "session", verb: "login" },
    Place { operation: "logout", resource: "session", verb: "logout" },
    Place { operation: "lookup", resource: "session", verb: "lookup" },
    Place { operation: "twoFactor", resource: "session", verb: "login-2fa" },
    Place { operation: "getOauth2AuthorizationUrlForLogin", resource: "oauth2", verb: "get-login-url" },
    Place { operation: "unlinkOauth2Provider", resource: "oauth2", verb: "unlink" },
    Place { operation: "linkOauth2MistAccount", resource: "oauth2", verb: "link" },
    Place { operation: "getOauth2UrlForLinking", resource: "oauth2", verb: "get-link-url" },
    Place { operation: "generateSecretFor2faVerification", resource: "self-2fa", verb: "generate-secret" },
    Place { operation: "verifyTwoFactor", resource: "self-2fa", verb: "verify" },
    Place { operation: "verifyRecoverPassword", resource: "password", verb: "verify-recovery" },
    Place { operation: "registerNewAdmin", resource: "admins", verb: "register" },
    Place { operation: "verifyRegistration", resource: "admins", verb: "verify-registration" },
    Place { operation: "getAdminRegistrationInfo", resource: "admins", verb: "get-registration-info" },
    Place { operation: "updateOrgAdminInvite", resource: "admins", verb: "update-invite" },
    Place { operation: "updateMspAdminInvite", resource: "admins", verb: "update-invite" },
    Place { operation: "verifyAdminInvite", resource: "admins", verb: "verify-invite" },
    Place { operation: "createOrg", resource: "orgs", verb: "create" },
    Place { operation: "getMspDetails", resource: "msps", verb: "get" },
    Place { operation: "postMspLogo", resource: "msp-logo", verb: "upload" },
    // Webhook samples
    Place { operation: "nacAccounting", resource: "webhook-example", verb: "nac-accounting" },
    Place { operation: "occupancyAlerts", resource: "webhook-example", verb: "occupancy-alerts" },
    Place { operation: "guestAuthorization", resource: "webhook-example", verb: "guest-authorization" },
    Place { operation: "clientInfo", resource: "webhook-example", verb: "client-info" },
    Place { operation: "clientJoin", resource: "webhook-example", verb: "client-join" },
    Place { operation: "clientSessions", resource: "webhook-example", verb: "client-sessions" },
    Place { operation: "sdkclientScanData", resource: "webhook-example", verb: "sdkclient-scan-data" },
    Place { operation: "deviceEvents", resource: "webhook-example", verb: "device-events" },
    Place { operation: "deviceUpDown", resource: "webhook-example", verb: "device-up-down" },
    // Bulk operations and singular leftovers
    Place { operation: "resetSiteAllApsToUseRrm", resource: "rrm", verb: "reset" },
    Place { operation: "zeroizeSiteFipsAllAps", resource: "devices", verb: "zeroize-fips" },
    Place { operation: "disconnectSiteMultipleClients", resource: "wireless-clients", verb: "disconnect-many" },
    Place { operation: "unauthorizeSiteMultipleClients", resource: "wireless-clients", verb: "unauthorize-many" },
    Place { operation: "listSiteAllGuestAuthorizations", resource: "guest-authorizations", verb: "list" },
    Place { operation: "listSiteAllGuestAuthorizationsDerived", resource: "guest-authorizations", verb: "list-derived" },
    Place { operation: "upgradeDevice", resource: "device-firmware", verb: "upgrade" },
    Place { operation: "upgradeSiteDevicesBios", resource: "device-bios", verb: "upgrade-many" },
    Place { operation: "upgradeSiteDevicesFpga", resource: "device-fpga", verb: "upgrade-many" },
    Place { operation: "sendSiteDevicesArbitraryBleBeacon", resource: "devices", verb: "send-ble-beacon" },
    Place { operation: "deleteOrgPskList", resource: "psks", verb: "delete-many" },
    Place { operation: "deleteOrgPskOldPassphrase", resource: "psks", verb: "delete-old-passphrase" },
    // Device utilities whose name starts with a preposition
    Place { operation: "arpFromDevice", resource: "device-arp", verb: "run" },
    Place { operation: "pingFromDevice", resource: "device-ping", verb: "run" },
    Place { operation: "tracerouteFromDevice", resource: "device-traceroute", verb: "run" },
    Place { operation: "cableTestFromSwitch", resource: "switch-cable-test", verb: "run" },
    Place { operation: "servicePingFromSsr", resource: "ssr-service-ping", verb: "run" },
    // Virtual chassis (`toogle...` is a typo too)
    Place { operation: "getSiteDeviceVirtualChassis", resource: "virtual-chassis", verb: "get" },
    Place { operation: "updateSiteVirtualChassisMember", resource: "virtual-chassis", verb: "update" },
    Place { operation: "convertSiteVirtualChassisToVirtualMac", resource: "virtual-chassis", verb: "convert-to-virtual-mac" },
    Place { operation: "toogleSiteDeviceVcRoutingEnginesRole", resource: "virtual-chassis", verb: "switch-master" },
    Place { operation: "setSiteVcPort", resource: "virtual-chassis", verb: "set-port" },
    // Maps, location
    Place { operation: "importOrgMapToSite", resource: "maps", verb: "import-to-site" },
    Place { operation: "bulkAssignSiteApsToMap", resource: "maps", verb: "assign-aps" },
    Place { operation: "getSiteMachineLearningCurrentStat", resource: "location-ml", verb: "get-current" },
    Place { operation: "getSiteDefaultPlfForModels", resource: "location-ml", verb: "get-defaults" },
    Place { operation: "overwriteSiteMlForDevice", resource: "location-ml", verb: "overwrite-device" },
    Place { operation: "overwriteSiteMlForMap", resource: "location-ml", verb: "overwrite-map" },
    Place { operation: "clearSiteMlOverwriteForDevice", resource: "location-ml", verb: "clear-device-overwrite" },
    Place { operation: "clearSiteMlOverwriteForMap", resource: "location-ml", verb: "clear-map-overwrite" },
    Place { operation: "resetSiteMlStatsByMap", resource: "location-ml", verb: "reset-map-stats" },
    // RF diagnostics
    Place { operation: "initiateSiteAnalyzeSpectrum", resource: "spectrum-analysis", verb: "start" },
    Place { operation: "getSiteRunningSpectrumAnalysis", resource: "spectrum-analysis", verb: "get-running" },
    Place { operation: "startSiteRecording", resource: "rfdiag-recordings", verb: "start" },
    Place { operation: "getSiteSiteRfdiagRecording", resource: "rfdiag-recordings", verb: "list" },
    // Sub-resources that read better as a verb of their resource
    Place { operation: "getOrgCurrentMatchingClientsOfAWxTag", resource: "wx-tags", verb: "list-clients" },
    Place { operation: "deauthSiteWirelessClientsConnectedToARogue", resource: "rogue-aps", verb: "deauth-clients" },
    Place { operation: "unlinkOrgFromJuniperCustomerId", resource: "juniper-account", verb: "unlink" },
    Place { operation: "linkOrgToJuniperJuniperAccount", resource: "juniper-account", verb: "link" },
    Place { operation: "GetOrgLicenseAsyncClaimStatus", resource: "licenses", verb: "get-claim-status" },
    Place { operation: "getOrgCapturingStatus", resource: "packet-captures", verb: "get-status" },
    Place { operation: "getSiteCapturingStatus", resource: "packet-captures", verb: "get-status" },
    Place { operation: "getOrgMxEdgeUpgradeInfo", resource: "mx-edge-upgrades", verb: "get-info" },
    Place { operation: "preemptSitesMxTunnel", resource: "mx-tunnels", verb: "preempt-aps" },
    Place { operation: "GetOrgTicketAttachment", resource: "tickets", verb: "get-attachment" },
    Place { operation: "UploadOrgTicketAttachment", resource: "tickets", verb: "upload-attachment" },
    Place { operation: "addOrgTicketComment", resource: "tickets", verb: "add-comment" },
    Place { operation: "sendSdkInviteEmail", resource: "sdk-invites", verb: "send-email" },
    Place { operation: "sendSdkInviteSms", resource: "sdk-invites", verb: "send-sms" },
    Place { operation: "getSdkInviteQrCode", resource: "sdk-invites", verb: "get-qr-code" },
    Place { operation: "testSiteWlanSmsGlobal", resource: "sms-providers", verb: "test-smsglobal" },
    Place { operation: "testSiteWlanTelstraSetup", resource: "sms-providers", verb: "test-telstra" },
    Place { operation: "testSiteWlanTwilioSetup", resource: "sms-providers", verb: "test-twilio" },
    Place { operation: "getOrgOauthAppLinkedStatus", resource: "oauth-app-accounts", verb: "list" },
    Place { operation: "countOrgAssetsByDistanceField", resource: "assets", verb: "count-by-distance-field" },
];

/// Spellings of the word rules before issue 20 (`oauth-2`), accepted as their base name.
#[rustfmt::skip] // one entry a line: a table to read
const SPELLINGS: &[Spelling] = &[
    Spelling { old: "128-t-registration-commands", now: "128t-registration-commands" },
    Spelling { old: "device-dot-1-x-session", now: "device-dot1x-session" },
    Spelling { old: "device-dot-1-x-table", now: "device-dot1x-table" },
    Spelling { old: "dot-1-x-wired-client", now: "dot1x-wired-client" },
    Spelling { old: "dot-1-x-wireless-client", now: "dot1x-wireless-client" },
    Spelling { old: "oauth-2", now: "oauth2" },
    Spelling { old: "oauth-2-authorization-url-for-login", now: "oauth2-authorization-url-for-login" },
    Spelling { old: "oauth-2-mist-account", now: "oauth2-mist-account" },
    Spelling { old: "oauth-2-provider", now: "oauth2-provider" },
    Spelling { old: "oauth-2-url-for-linking", now: "oauth2-url-for-linking" },
    Spelling { old: "rogue-a-ps", now: "rogue-aps" },
    Spelling { old: "rogue-ap", now: "rogue-aps" },
    Spelling { old: "secret-for-2-fa-verification", now: "secret-for2fa-verification" },
];

/// The names of rule 3 and the table for one base name; `known` holds the resources there are.
fn refine(resource: &str, verb: &str, known: &BTreeSet<&str>) -> (String, String) {
    let renamed = |r: &str| {
        RENAMES
            .iter()
            .find(|x| x.from == r)
            .map_or(r.to_string(), |x| x.to.to_string())
    };
    let (mut resource, mut verb) = (resource.to_string(), verb.to_string());
    if let Some(collection) = resource.strip_suffix("-derived") {
        let collection = renamed(collection);
        let collection = [collection.clone(), plural(&collection)]
            .into_iter()
            .find(|c| known.contains(c.as_str()));
        if let Some(c) = collection {
            resource = c;
            verb.push_str("-derived");
        }
    }
    for (prefix, suffix) in [("all-", "-all"), ("multiple-", "-many")] {
        if let Some(collection) = resource.strip_prefix(prefix)
            && known.contains(collection)
        {
            resource = collection.to_string();
            verb.push_str(suffix);
        }
    }
    (renamed(&resource), verb)
}

/// The commands, and where the names of earlier versions lead.
struct Names {
    /// Every command, sorted by resource, verb and scope.
    commands: Vec<Command>,
    /// A base (resource, verb) that is not a command any more, and the command it names now.
    earlier: BTreeMap<(&'static str, &'static str), (&'static str, &'static str)>,
    /// A base resource that is not a resource any more, and the resource of its first command.
    earlier_resources: BTreeMap<&'static str, &'static str>,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(build)
}

fn build() -> Names {
    let base = base_names();
    let mut known: BTreeSet<&str> = base.iter().map(|b| b.0.as_str()).collect();
    known.extend(RENAMES.iter().map(|r| r.to));
    let places: BTreeMap<&str, &Place> = PLACES.iter().map(|p| (p.operation, p)).collect();
    let mut commands = Vec::with_capacity(base.len());
    let mut renamed = Vec::new();
    for (resource, verb, scope, op) in &base {
        let (r, v) = match places.get(op.id) {
            Some(p) => (p.resource.to_string(), p.verb.to_string()),
            None => refine(resource, verb, &known),
        };
        let command = Command {
            resource: leak(r),
            verb: leak(v),
            scope: *scope,
            op,
        };
        if (command.resource, command.verb) != (resource.as_str(), verb.as_str()) {
            renamed.push((resource, verb, command));
        }
        commands.push(command);
    }
    commands.sort_by(|a, b| (a.resource, a.verb, a.scope).cmp(&(b.resource, b.verb, b.scope)));
    let current: BTreeSet<&str> = commands.iter().map(|c| c.resource).collect();
    let mut earlier = BTreeMap::new();
    let mut earlier_resources = BTreeMap::new();
    for (resource, verb, c) in renamed {
        let resource = leak(resource.clone());
        earlier.insert((resource, leak(verb.clone())), (c.resource, c.verb));
        if !current.contains(resource) {
            earlier_resources.entry(resource).or_insert(c.resource);
        }
    }
    Names {
        commands,
        earlier,
        earlier_resources,
    }
}

/// Every command, sorted by resource, verb and scope.
pub fn all() -> &'static [Command] {
    &names().commands
}

/// The resources, each with its commands.
pub fn resources() -> &'static BTreeMap<&'static str, Vec<Command>> {
    static MAP: OnceLock<BTreeMap<&'static str, Vec<Command>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: BTreeMap<&'static str, Vec<Command>> = BTreeMap::new();
        for c in all() {
            m.entry(c.resource).or_default().push(*c);
        }
        m
    })
}

/// The command of an operation.
pub fn for_operation(id: &str) -> Option<&'static Command> {
    all().iter().find(|c| c.op.id == id)
}

/// The command line that calls an operation, e.g. `mistcli devices search --site <site_id>`.
pub fn usage(c: &Command) -> String {
    match c.scope.flag() {
        Some("--org") => format!("mistcli {} {}", c.resource, c.verb),
        Some(flag) => format!("mistcli {} {} {flag} <id>", c.resource, c.verb),
        None => format!("mistcli {} {}", c.resource, c.verb),
    }
}

/// Where the first words of a command line lead when they are names of an earlier mistcli.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renamed {
    /// The resource now.
    pub resource: &'static str,
    /// The verb now, when a verb was given and is known.
    pub verb: Option<&'static str>,
}

/// Where `resource [verb]` leads when it is an earlier name (`multiple-devices restart` is
/// `devices restart-many`, `rogue-a-ps` is `rogue-aps`); `None` for today's names and for
/// words that name nothing.
pub fn renamed(resource: &str, verb: Option<&str>) -> Option<Renamed> {
    let n = names();
    let spelled = SPELLINGS
        .iter()
        .find(|s| s.old == resource)
        .map_or(resource, |s| s.now);
    let command = verb.and_then(|v| {
        let now = resources()
            .get(spelled)
            .and_then(|cmds| cmds.iter().find(|c| c.verb == v))
            .map(|c| (c.resource, c.verb));
        now.or_else(|| n.earlier.get(&(spelled, v)).copied())
    });
    let found = match command {
        Some((resource, verb)) => Renamed {
            resource,
            verb: Some(verb),
        },
        None => {
            let resource = resources()
                .get_key_value(spelled)
                .map(|(r, _)| *r)
                .or_else(|| n.earlier_resources.get(spelled).copied())?;
            Renamed {
                resource,
                verb: None,
            }
        }
    };
    let unchanged = found.resource == resource && found.verb.is_none_or(|v| Some(v) == verb);
    (!unchanged).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mistcore::catalog::Method;

    #[test]
    fn every_operation_has_exactly_one_command() {
        let mut seen = BTreeSet::new();
        for c in all() {
            assert!(
                seen.insert((c.resource, c.verb, c.scope)),
                "collision: {} {} {:?}",
                c.resource,
                c.verb,
                c.scope
            );
        }
        assert_eq!(all().len(), OPERATIONS.len());
        let lines: BTreeSet<String> = all().iter().map(usage).collect();
        assert_eq!(
            lines.len(),
            all().len(),
            "two operations share a command line"
        );
        let gets = all().iter().filter(|c| c.op.method == Method::Get).count();
        assert_eq!(gets, 490);
    }

    #[test]
    fn words_keep_acronyms_and_numbers_whole() {
        let cut = |id: &str| words(id).join(" ");
        assert_eq!(cut("listSiteRogueAPs"), "list Site Rogue APs");
        assert_eq!(cut("listOrgWLANs"), "list Org WLANs");
        assert_eq!(cut("getOrgWLAN"), "get Org WLAN");
        assert_eq!(cut("createOrgAAMWProfile"), "create Org AAMW Profile");
        assert_eq!(cut("loginOauth2"), "login Oauth2");
        assert_eq!(
            cut("getOauth2AuthorizationUrlForLogin"),
            "get Oauth2 Authorization Url For Login"
        );
        assert_eq!(
            cut("reauthOrgDot1xWiredClient"),
            "reauth Org Dot1x Wired Client"
        );
        assert_eq!(
            cut("getOrg128TRegistrationCommands"),
            "get Org 128T Registration Commands"
        );
        assert_eq!(cut("upgradeDeviceFPGA"), "upgrade Device FPGA");
        assert_eq!(cut("GetOrgLicenseAsyncClaimStatus")[..3], *"Get");
    }

    /// The top-level commands of mistcli that are not resources (and `help`, clap's).
    const RESERVED: &[&str] = &[
        "auth",
        "config",
        "api",
        "help",
        "ops",
        "call",
        "junos",
        "completions",
    ];

    #[test]
    fn names_follow_the_rules() {
        let root = crate::cli::command_for(None, None, resources());
        for c in root.get_subcommands() {
            let name = c.get_name();
            assert!(
                RESERVED.contains(&name) || resources().contains_key(name),
                "a top-level command `{name}` is neither a resource nor reserved: add it to RESERVED"
            );
        }
        for c in all() {
            for name in [c.resource, c.verb] {
                assert!(!name.is_empty(), "{}: empty name", c.op.id);
                for segment in name.split('-') {
                    assert!(
                        segment.len() > 1
                            && segment
                                .chars()
                                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()),
                        "{}: `{} {}`: the segment `{segment}` is empty, a single letter or not lowercase ASCII",
                        c.op.id,
                        c.resource,
                        c.verb
                    );
                    assert!(
                        !segment.chars().all(|ch| ch.is_ascii_digit()),
                        "{}: `{name}`: a number split from its letters",
                        c.op.id
                    );
                }
            }
            assert!(
                !c.resource.split('-').any(|s| s == c.verb),
                "{}: `{} {}` repeats the verb",
                c.op.id,
                c.resource,
                c.verb
            );
            assert!(
                !RESERVED.contains(&c.resource),
                "{}: `{}` is a top-level command",
                c.op.id,
                c.resource
            );
        }
    }

    #[test]
    fn the_names_users_expect() {
        let name = |id: &str| {
            for_operation(id)
                .map(|c| (c.resource, c.verb, c.scope))
                .expect(id)
        };
        assert_eq!(name("listOrgSites"), ("sites", "list", Scope::Org));
        assert_eq!(
            name("searchSiteDevices"),
            ("devices", "search", Scope::Site)
        );
        assert_eq!(name("searchOrgDevices"), ("devices", "search", Scope::Org));
        assert_eq!(name("getOrgInventory"), ("inventory", "get", Scope::Org));
        assert_eq!(name("getOrgWLAN"), ("wlans", "get", Scope::Org));
        assert_eq!(name("getSelf"), ("self", "get", Scope::Global));
        assert_eq!(
            name("listDeviceModels"),
            ("device-models", "list", Scope::Global)
        );
        assert_eq!(
            name("listApiTokens"),
            ("self-api-tokens", "list", Scope::Global)
        );
        assert_eq!(name("listOrgApiTokens"), ("api-tokens", "list", Scope::Org));
        assert_eq!(name("getSiteInfo"), ("sites", "get", Scope::Site));
        assert_eq!(
            name("listOrgDeviceProfiles"),
            ("device-profiles", "list", Scope::Org)
        );
        assert_eq!(name("searchOrgAlarms"), ("alarms", "search", Scope::Org));
        // Acronyms and numbers kept whole.
        assert_eq!(name("listSiteRogueAPs"), ("rogue-aps", "list", Scope::Site));
        assert_eq!(name("getSiteRogueAP"), ("rogue-aps", "get", Scope::Site));
        assert_eq!(name("loginOauth2"), ("oauth2", "login", Scope::Global));
        assert_eq!(
            name("reauthOrgDot1xWiredClient"),
            ("dot1x-wired-client", "reauth", Scope::Org)
        );
        assert_eq!(
            name("showSiteDeviceDot1xTable"),
            ("device-dot1x-table", "show", Scope::Site)
        );
        assert_eq!(
            name("getOrg128TRegistrationCommands"),
            ("128t-registration-commands", "get", Scope::Org)
        );
        assert_eq!(name("listSiteVBeacons"), ("vbeacons", "list", Scope::Site));
        // Rule 3: qualifiers and bulk operations are verbs of their collection.
        assert_eq!(
            name("listSiteWlansDerived"),
            ("wlans", "list-derived", Scope::Site)
        );
        assert_eq!(name("ackOrgAllAlarms"), ("alarms", "ack-all", Scope::Org));
        assert_eq!(
            name("restartSiteMultipleDevices"),
            ("devices", "restart-many", Scope::Site)
        );
        // The table.
        assert_eq!(name("login"), ("session", "login", Scope::Global));
        assert_eq!(name("createOrg"), ("orgs", "create", Scope::Global));
        assert_eq!(name("createMspOrg"), ("orgs", "create", Scope::Msp));
        assert_eq!(
            name("moveOrDeleteOrgLicenseToAnotherOrg"),
            ("licenses", "move", Scope::Org)
        );
        assert_eq!(
            name("createOrUpdateInstallerSites"),
            ("installer-sites", "set", Scope::Global)
        );
        assert_eq!(
            name("generateSecretFor2faVerification"),
            ("self-2fa", "generate-secret", Scope::Global)
        );
        assert_eq!(
            name("clientInfo"),
            ("webhook-example", "client-info", Scope::Global)
        );
        assert_eq!(
            name("udpateOrgAtpAllowedList"),
            ("atp-allowed-list", "update", Scope::Org)
        );
    }

    /// The names of mistcli before issue 20, kept here only to test that they still work.
    mod before {
        use super::super::Scope;
        use mistcore::catalog::{OPERATIONS, Operation};
        use std::collections::BTreeSet;

        fn words(id: &str) -> Vec<String> {
            let chars: Vec<char> = id.chars().collect();
            let mut out = Vec::new();
            let mut cur = String::new();
            for (i, &c) in chars.iter().enumerate() {
                let boundary = i > 0
                    && ((c.is_uppercase() && chars[i - 1].is_lowercase())
                        || (c.is_uppercase()
                            && chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                            && chars[i - 1].is_uppercase())
                        || (c.is_ascii_digit() != chars[i - 1].is_ascii_digit()));
                if boundary && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.push(c);
            }
            if !cur.is_empty() {
                out.push(cur);
            }
            out
        }

        fn segment(path: &str, otherwise: &str) -> String {
            path.trim_start_matches("/api/v1")
                .split('/')
                .find(|s| !s.is_empty())
                .unwrap_or(otherwise)
                .replace('_', "-")
        }

        /// Every command of mistcli before issue 20: resource, verb, scope, operation.
        pub fn commands() -> Vec<(String, String, Scope, &'static Operation)> {
            let mut raw: Vec<(String, String, Scope, &'static Operation)> = OPERATIONS
                .iter()
                .map(|op| {
                    let w = words(op.id);
                    let scope = Scope::of(op.path);
                    if w.len() == 1 {
                        return (
                            segment(op.path, "api"),
                            op.id.to_lowercase().replace('_', "-"),
                            scope,
                            op,
                        );
                    }
                    let verb = w[0].to_lowercase();
                    let mut rest = &w[1..];
                    let scope_word = match scope {
                        Scope::Org => "org",
                        Scope::Site => "site",
                        Scope::Msp => "msp",
                        Scope::Global => "",
                    };
                    if rest[0].eq_ignore_ascii_case(scope_word) && rest.len() > 1 {
                        rest = &rest[1..];
                    }
                    if rest.len() == 1 && rest[0] == "Info" && scope != Scope::Global {
                        return (format!("{scope_word}s"), verb, scope, op);
                    }
                    let resource = rest
                        .iter()
                        .map(|x| x.to_lowercase())
                        .collect::<Vec<_>>()
                        .join("-");
                    (resource, verb, scope, op)
                })
                .collect();
            let scoped: BTreeSet<(String, String)> = raw
                .iter()
                .filter(|r| r.2 != Scope::Global)
                .map(|r| (r.0.clone(), r.1.clone()))
                .collect();
            for r in raw.iter_mut().filter(|r| r.2 == Scope::Global) {
                if scoped.contains(&(r.0.clone(), r.1.clone())) {
                    r.0 = format!("{}-{}", segment(r.3.path, "global"), r.0);
                }
            }
            let names: BTreeSet<String> = raw.iter().map(|r| r.0.clone()).collect();
            let mut taken: BTreeSet<(String, String, Scope)> = raw
                .iter()
                .map(|r| (r.0.clone(), r.1.clone(), r.2))
                .collect();
            for r in raw.iter_mut() {
                let plural = match r.0.strip_suffix('y') {
                    Some(stem) if !r.0.ends_with("ey") => format!("{stem}ies"),
                    _ => format!("{}s", r.0),
                };
                if !r.0.ends_with('s')
                    && names.contains(&plural)
                    && !taken.contains(&(plural.clone(), r.1.clone(), r.2))
                {
                    taken.remove(&(r.0.clone(), r.1.clone(), r.2));
                    taken.insert((plural.clone(), r.1.clone(), r.2));
                    r.0 = plural;
                }
            }
            raw
        }
    }

    /// Where an old command line leads: the command of `resource verb` in `scope`.
    fn resolve(resource: &str, verb: &str, scope: Scope) -> Option<&'static Command> {
        let (resource, verb) = match renamed(resource, Some(verb)) {
            Some(Renamed {
                resource,
                verb: Some(verb),
            }) => (resource, verb),
            Some(Renamed { verb: None, .. }) => return None,
            None => (resource, verb),
        };
        resources()
            .get(resource)?
            .iter()
            .find(|c| c.verb == verb && c.scope == scope)
    }

    #[test]
    fn every_earlier_command_line_calls_the_same_operation() {
        let before = before::commands();
        // The old algorithm is the one of before: a change to it would hide a lost name.
        assert_eq!(before.len(), 1011);
        let old_resources: BTreeSet<&str> = before.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(old_resources.len(), 448);
        for (resource, verb, id) in [
            ("rogue-a-ps", "list", "listSiteRogueAPs"),
            ("oauth-2", "login", "loginOauth2"),
            ("login", "login", "login"),
            ("orgs-org", "create", "createOrg"),
            ("multiple-devices", "restart", "restartSiteMultipleDevices"),
            ("info", "client", "clientInfo"),
        ] {
            assert!(
                before
                    .iter()
                    .any(|b| (b.0.as_str(), b.1.as_str(), b.3.id) == (resource, verb, id)),
                "{resource} {verb}"
            );
        }
        let mut changed = BTreeSet::new();
        for (resource, verb, scope, op) in &before {
            let now = resolve(resource, verb, *scope).unwrap_or_else(|| {
                panic!("`{resource} {verb}` ({scope:?}, {}) leads nowhere", op.id)
            });
            assert_eq!(
                now.op.id, op.id,
                "`{resource} {verb}` ({scope:?}) calls {} instead of {}",
                now.op.id, op.id
            );
            if !resources().contains_key(resource.as_str()) {
                changed.insert(resource.as_str());
            }
        }
        // Renaming more resources is fine: update the count after a review.
        assert_eq!(changed.len(), 155, "{changed:?}");
    }

    #[test]
    fn earlier_names_are_hidden_aliases_of_the_command_tree() {
        let mut lines: Vec<(&str, &str, Scope, &str)> = Vec::new();
        let before = before::commands();
        // Today's names take the path of any command line; the earlier ones are checked here.
        for (resource, verb, scope, op) in &before {
            if renamed(resource, Some(verb)).is_some()
                && !lines
                    .iter()
                    .any(|l| (l.0, l.1) == (resource.as_str(), verb.as_str()))
            {
                lines.push((resource, verb, *scope, op.id));
            }
        }
        assert!(lines.len() > 150, "{}", lines.len());
        for (resource, verb, scope, id) in lines {
            let mut app = crate::cli::command_for(Some(resource), Some(verb), resources());
            // clap's own checks: no name or alias twice.
            app.build();
            let r = app
                .find_subcommand(resource)
                .unwrap_or_else(|| panic!("`{resource}` is no command"));
            let v = r
                .find_subcommand(verb)
                .unwrap_or_else(|| panic!("`{resource} {verb}` is no command"));
            let now = resources()
                .get(r.get_name())
                .and_then(|cmds| {
                    cmds.iter()
                        .find(|c| c.verb == v.get_name() && c.scope == scope)
                })
                .unwrap_or_else(|| panic!("`{resource} {verb}` leads nowhere"));
            assert_eq!(now.op.id, id, "`{resource} {verb}`");
            assert!(
                r.get_name() == resource || !r.get_visible_aliases().any(|a| a == resource),
                "`{resource}` shows in help"
            );
        }
    }

    #[test]
    fn the_tables_are_all_used() {
        let base = base_names();
        let base_resources: BTreeSet<&str> = base.iter().map(|b| b.0.as_str()).collect();
        for r in RENAMES {
            assert!(
                base_resources.contains(r.from),
                "RENAMES: `{}` is no base name",
                r.from
            );
            assert!(
                resources().contains_key(r.to),
                "RENAMES: `{}` ends up nowhere",
                r.from
            );
        }
        for p in PLACES {
            let b = base.iter().find(|b| b.3.id == p.operation);
            let b = b.unwrap_or_else(|| panic!("PLACES: no operation {}", p.operation));
            assert_ne!(
                (b.0.as_str(), b.1.as_str()),
                (p.resource, p.verb),
                "PLACES: {} has this name anyway",
                p.operation
            );
        }
        let old: BTreeSet<String> = before::commands().into_iter().map(|b| b.0).collect();
        for s in SPELLINGS {
            assert!(
                old.contains(s.old) && !base_resources.contains(s.old),
                "SPELLINGS: `{}` is no lost old name",
                s.old
            );
            assert!(
                base_resources.contains(s.now),
                "SPELLINGS: `{}` is no base name",
                s.now
            );
        }
    }

    #[test]
    fn renamed_says_nothing_about_todays_names() {
        assert_eq!(renamed("sites", Some("list")), None);
        assert_eq!(renamed("sites", None), None);
        assert_eq!(renamed("devices", Some("ping")), None);
        assert_eq!(renamed("no-such-thing", Some("list")), None);
        assert_eq!(
            renamed("aptemplates", None),
            Some(Renamed {
                resource: "ap-templates",
                verb: None
            })
        );
        // Today's verb under an earlier resource name: the whole resource, under the old name.
        assert_eq!(
            renamed("all-alarms", Some("ack-all")),
            Some(Renamed {
                resource: "alarms",
                verb: None
            })
        );
        assert_eq!(
            renamed("rogue-a-ps", Some("list")),
            Some(Renamed {
                resource: "rogue-aps",
                verb: Some("list")
            })
        );
    }
}
