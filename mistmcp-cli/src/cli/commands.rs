//! The catalog as shell commands: `listOrgSites` is `mistcli sites list`, `searchSiteDevices`
//! is `mistcli devices search --site <id>`.
//!
//! The verb is the first word of the operationId; the scope (org, site, msp) comes from the
//! path; the resource is the rest of the operationId in kebab case, singular names merged into
//! their plural (`getOrgWLAN` is `wlans get`). (resource, verb, scope) is unique: the scope is
//! chosen by `--site`/`--msp` or the default org.

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

/// The words of an operationId: `listOrgWLANs` gives list, Org, WLANs.
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

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Every command, sorted by resource, verb and scope.
pub fn all() -> &'static [Command] {
    static ALL: OnceLock<Vec<Command>> = OnceLock::new();
    ALL.get_or_init(build)
}

fn build() -> Vec<Command> {
    let mut raw: Vec<(String, String, Scope, &'static Operation)> = OPERATIONS
        .iter()
        .map(|op| {
            let w = words(op.id);
            let scope = Scope::of(op.path);
            if w.len() == 1 {
                // A bare name (`login`, the webhook samples' `alarms`): the verb under the
                // first segment of its path (`mistcli webhook-example alarms`).
                let segment = op
                    .path
                    .trim_start_matches("/api/v1")
                    .split('/')
                    .find(|s| !s.is_empty())
                    .unwrap_or("api");
                return (
                    segment.replace('_', "-"),
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
            let segment =
                r.3.path
                    .trim_start_matches("/api/v1")
                    .split('/')
                    .find(|s| !s.is_empty())
                    .unwrap_or("global");
            r.0 = format!("{}-{}", segment.replace('_', "-"), r.0);
        }
    }
    // Singular resources join their plural when that stays unambiguous (`wlan get` -> `wlans get`).
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
    let mut commands: Vec<Command> = raw
        .into_iter()
        .map(|(resource, verb, scope, op)| Command {
            resource: leak(resource),
            verb: leak(verb),
            scope,
            op,
        })
        .collect();
    commands.sort_by(|a, b| (a.resource, a.verb, a.scope).cmp(&(b.resource, b.verb, b.scope)));
    commands
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
        assert_eq!(words("GetOrgLicenseAsyncClaimStatus")[0], "Get");
        assert_eq!(
            name("listApiTokens"),
            ("self-api-tokens", "list", Scope::Global)
        );
        assert_eq!(name("listOrgApiTokens"), ("api-tokens", "list", Scope::Org));
        assert_eq!(name("login"), ("login", "login", Scope::Global));
        assert_eq!(name("getSiteInfo"), ("sites", "get", Scope::Site));
    }
}
