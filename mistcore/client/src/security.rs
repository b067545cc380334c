//! What a Mist token can reach, and how risky that is: from the `/api/v1/self` answer, the
//! MSPs, orgs and sites with their roles, and the risks that break the configured limits.

use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// How bad a risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Worth knowing.
    High,
    /// The token should not be used as it is (strict mode refuses writes).
    Critical,
}

/// The limits a token should stay within (environment variables of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `MIST_MAX_ADMIN_ORGS`: orgs with the admin role (CRITICAL beyond).
    pub max_admin_orgs: usize,
    /// `MIST_MAX_ADMIN_MSPS`: MSPs with the admin role (CRITICAL beyond).
    pub max_admin_msps: usize,
    /// `MIST_MAX_WRITE_MSPS`: MSPs with write access (CRITICAL beyond).
    pub max_write_msps: usize,
    /// `MIST_MAX_WRITE_ORGS`: orgs with write access (HIGH beyond).
    pub max_write_orgs: usize,
    /// `MIST_MAX_ORGS_PER_MSP`: orgs reached under one MSP (HIGH beyond).
    pub max_orgs_per_msp: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_admin_orgs: 1,
            max_admin_msps: 1,
            max_write_msps: 1,
            max_write_orgs: 3,
            max_orgs_per_msp: 5,
        }
    }
}

/// Limit variables that are not whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .unreadable.join("; "))]
pub struct LimitsError {
    /// One entry per unreadable variable: its name, its value and what it must be.
    pub unreadable: Vec<String>,
}

impl Limits {
    /// The limits from variables read by `get` (`MIST_MAX_ADMIN_ORGS`, ...); unset or unreadable
    /// ones keep their defaults, and the error names the unreadable ones.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        let mut limits = Limits::default();
        let mut bad = Vec::new();
        for (name, slot) in [
            ("MIST_MAX_ADMIN_ORGS", &mut limits.max_admin_orgs),
            ("MIST_MAX_ADMIN_MSPS", &mut limits.max_admin_msps),
            ("MIST_MAX_WRITE_MSPS", &mut limits.max_write_msps),
            ("MIST_MAX_WRITE_ORGS", &mut limits.max_write_orgs),
            ("MIST_MAX_ORGS_PER_MSP", &mut limits.max_orgs_per_msp),
        ] {
            if let Some(v) = get(name).filter(|v| !v.trim().is_empty()) {
                match v.trim().parse() {
                    Ok(n) => *slot = n,
                    Err(_) => bad.push(format!("{name}={v} is not a whole number")),
                }
            }
        }
        if bad.is_empty() {
            Ok(limits)
        } else {
            Err(LimitsError { unreadable: bad })
        }
    }
}

/// One broken limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// How bad.
    pub level: Level,
    /// Which rule (the variable that sets its limit).
    pub rule: &'static str,
    /// What was found, in words.
    pub message: String,
    /// How many were found.
    pub actual: usize,
    /// The limit.
    pub limit: usize,
}

/// Something the token reaches, with its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// `msp`, `org` or `site`.
    pub scope: String,
    /// The object's id.
    pub id: String,
    /// Its name, when `/self` gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `admin`, `write`, `read`, `helpdesk`, `installer`...
    pub role: String,
    /// The org a site belongs to, or the MSP an org belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// The analysis of one token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Who the token belongs to (`/self` email or name).
    pub identity: String,
    /// What it reaches.
    pub grants: Vec<Grant>,
    /// The limits broken, worst first.
    pub risks: Vec<Risk>,
    /// The worst level, if any risk.
    pub highest: Option<Level>,
    /// The limits applied.
    pub limits: Value,
}

impl Report {
    /// Whether a CRITICAL risk exists.
    pub fn is_critical(&self) -> bool {
        self.highest == Some(Level::Critical)
    }

    /// A short text for terminals.
    pub fn text(&self) -> String {
        let mut lines = vec![format!("Token of {}", self.identity)];
        for g in &self.grants {
            let name = g
                .name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            lines.push(format!("  {:<5} {}{name}: {}", g.scope, g.id, g.role));
        }
        if self.risks.is_empty() {
            lines.push("No risk beyond the configured limits.".into());
        }
        for r in &self.risks {
            lines.push(format!("{}: {}", r.level, r.message));
        }
        lines.join("\n")
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::High => "HIGH",
            Level::Critical => "CRITICAL",
        })
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Analyses the `/api/v1/self` answer of a token against `limits`.
pub fn analyze(me: &Value, limits: &Limits) -> Report {
    let identity = text(me, "email")
        .or_else(|| text(me, "name"))
        .unwrap_or_else(|| "an unnamed token".into());
    let mut grants = Vec::new();
    for p in me
        .get("privileges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let scope = text(p, "scope").unwrap_or_default();
        let role = text(p, "role").unwrap_or_default();
        let (id, name, parent) = match scope.as_str() {
            "msp" => (
                text(p, "msp_id"),
                text(p, "msp_name").or(text(p, "name")),
                None,
            ),
            "org" => (
                text(p, "org_id"),
                text(p, "org_name").or(text(p, "name")),
                text(p, "msp_id"),
            ),
            "site" => (
                text(p, "site_id"),
                text(p, "site_name").or(text(p, "name")),
                text(p, "org_id"),
            ),
            _ => (
                text(p, "org_id").or(text(p, "site_id")),
                text(p, "name"),
                None,
            ),
        };
        grants.push(Grant {
            scope,
            id: id.unwrap_or_default(),
            name,
            role,
            parent,
        });
    }
    let count = |scope: &str, roles: &[&str]| -> usize {
        grants
            .iter()
            .filter(|g| g.scope == scope && roles.contains(&g.role.as_str()))
            .map(|g| g.id.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let mut risks = Vec::new();
    let mut rule = |level, rule, what: String, actual: usize, limit: usize| {
        if actual > limit {
            risks.push(Risk {
                level,
                rule,
                message: format!("{what}: {actual} (limit {limit}, {rule})"),
                actual,
                limit,
            });
        }
    };
    let admin = ["admin"];
    let write = ["admin", "write"];
    rule(
        Level::Critical,
        "MIST_MAX_ADMIN_ORGS",
        "orgs with the admin role".into(),
        count("org", &admin),
        limits.max_admin_orgs,
    );
    rule(
        Level::Critical,
        "MIST_MAX_ADMIN_MSPS",
        "MSPs with the admin role".into(),
        count("msp", &admin),
        limits.max_admin_msps,
    );
    rule(
        Level::Critical,
        "MIST_MAX_WRITE_MSPS",
        "MSPs with write access".into(),
        count("msp", &write),
        limits.max_write_msps,
    );
    rule(
        Level::High,
        "MIST_MAX_WRITE_ORGS",
        "orgs with write access".into(),
        count("org", &write),
        limits.max_write_orgs,
    );
    let mut per_msp: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for g in grants.iter().filter(|g| g.scope == "org") {
        if let Some(msp) = g.parent.as_deref() {
            per_msp.entry(msp).or_default().insert(g.id.as_str());
        }
    }
    for (msp, orgs) in &per_msp {
        rule(
            Level::High,
            "MIST_MAX_ORGS_PER_MSP",
            format!("orgs reached under MSP {msp}"),
            orgs.len(),
            limits.max_orgs_per_msp,
        );
    }
    risks.sort_by_key(|r| std::cmp::Reverse(r.level));
    let highest = risks.first().map(|r| r.level);
    Report {
        identity,
        grants,
        risks,
        highest,
        limits: json!({
            "MIST_MAX_ADMIN_ORGS": limits.max_admin_orgs,
            "MIST_MAX_ADMIN_MSPS": limits.max_admin_msps,
            "MIST_MAX_WRITE_MSPS": limits.max_write_msps,
            "MIST_MAX_WRITE_ORGS": limits.max_write_orgs,
            "MIST_MAX_ORGS_PER_MSP": limits.max_orgs_per_msp,
        }),
    }
}
