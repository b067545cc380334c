//! The OAuth configuration file (`--oauth-config`, or the edge's `MISTMCP_OAUTH_CONFIG` binding):
//! this server's resource URI, the issuers it trusts, its two scopes, and the rules that map an
//! identity (a subject or a group) to Mist credentials and a session's limits.

use serde::Deserialize;
use std::path::PathBuf;
use url::Url;

/// The scopes of this server, as they appear in access tokens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scopes {
    /// Needed for any request (`mist:read`).
    #[serde(default = "Scopes::default_read")]
    pub read: String,
    /// Needed for a tool call that may write (`mist:write`).
    #[serde(default = "Scopes::default_write")]
    pub write: String,
}

impl Scopes {
    fn default_read() -> String {
        "mist:read".into()
    }
    fn default_write() -> String {
        "mist:write".into()
    }
}

impl Default for Scopes {
    fn default() -> Self {
        Scopes {
            read: Scopes::default_read(),
            write: Scopes::default_write(),
        }
    }
}

/// One authorization server whose access tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The issuer identifier, exactly as its tokens' `iss` and its metadata say it.
    pub issuer: String,
    /// Its JWKS; read from its metadata when absent.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Audiences accepted besides the resource URI (an IdP that cannot bind tokens to a
    /// resource, e.g. Entra ID's `api://<app id>`).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The claim that lists the user's groups (`groups`; Entra ID app roles: `roles`).
    #[serde(default = "IssuerConfig::default_groups_claim")]
    pub groups_claim: String,
    /// Opaque (non-JWT) access tokens are checked with the issuer's introspection endpoint
    /// (RFC 7662) as this client.
    #[serde(default)]
    pub introspection: Option<IntrospectionConfig>,
}

impl IssuerConfig {
    fn default_groups_claim() -> String {
        "groups".into()
    }
}

/// The client the server introspects opaque tokens as.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionConfig {
    /// The endpoint; read from the issuer's metadata when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The client id.
    pub client_id: String,
    /// The environment variable (a binding on the edge) that holds the client secret: the
    /// configuration file itself holds no secret.
    pub client_secret_env: String,
}

/// What one rule gives the identities it matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Matches this subject (`sub`).
    #[serde(default)]
    pub subject: Option<String>,
    /// Matches a member of this group (the issuer's groups claim).
    #[serde(default)]
    pub group: Option<String>,
    /// Matches only tokens of this issuer (any configured issuer when absent).
    #[serde(default)]
    pub issuer: Option<String>,
    /// An env file with `MIST_APITOKEN` and `MIST_HOST` (natively; relative to the
    /// configuration file).
    #[serde(default)]
    pub mist_env_file: Option<PathBuf>,
    /// The environment variable (a binding on the edge) that holds the Mist token.
    #[serde(default)]
    pub mist_token_env: Option<String>,
    /// The Mist cloud of `mist_token_env` (the server's `MIST_HOST` when absent).
    #[serde(default)]
    pub mist_host: Option<String>,
    /// The tool loading mode of this rule's sessions.
    #[serde(default)]
    pub mode: Option<String>,
    /// The categories of this rule's sessions.
    #[serde(default)]
    pub categories: Option<Vec<String>>,
    /// A devices.json of Junos devices for this rule's sessions (natively).
    #[serde(default)]
    pub junos_devices: Option<PathBuf>,
    /// Write tools for this rule's sessions (with `--enable-write-tools` and the write scope).
    #[serde(default)]
    pub writes: bool,
    /// This rule's sessions see secrets as they are (the operator's choice, never a client's).
    #[serde(default)]
    pub show_secrets: bool,
}

impl Rule {
    /// Whether the rule applies to `subject` of `issuer` with `groups`.
    pub fn matches(&self, issuer: &str, subject: &str, groups: &[String]) -> bool {
        self.issuer.as_deref().is_none_or(|i| i == issuer)
            && self.subject.as_deref().is_none_or(|s| s == subject)
            && self
                .group
                .as_deref()
                .is_none_or(|g| groups.iter().any(|have| have == g))
    }

    /// A name for logs: the subject or group it matches (never a credential).
    pub fn label(&self) -> String {
        match (&self.subject, &self.group) {
            (Some(s), _) => format!("subject {s}"),
            (None, Some(g)) => format!("group {g}"),
            (None, None) => "everyone".into(),
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// This server's MCP endpoint as clients reach it (`https://mcp.example.com/mcp`): the
    /// resource tokens must be bound to (RFC 8707), and where the metadata is served.
    pub resource: String,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    #[serde(default = "OAuthConfig::default_leeway")]
    pub leeway_seconds: u64,
    /// Seconds an introspection answer is trusted before the issuer is asked again.
    #[serde(default = "OAuthConfig::default_introspection_cache")]
    pub introspection_cache_seconds: u64,
    /// The scopes.
    #[serde(default)]
    pub scopes: Scopes,
    /// The issuers trusted (at least one).
    #[serde(rename = "issuers")]
    pub issuers: Vec<IssuerConfig>,
    /// The rules, first match wins; an identity no rule matches is refused.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl OAuthConfig {
    fn default_leeway() -> u64 {
        60
    }
    fn default_introspection_cache() -> u64 {
        30
    }

    /// Reads and checks the TOML text of the file.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: OAuthConfig =
            toml::from_str(text).map_err(|e| ConfigError(e.to_string().trim_end().to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let resource = checked_url("resource", &self.resource)?;
        if resource.fragment().is_some() {
            return Err(ConfigError(
                "`resource` must not have a fragment (RFC 8707)".into(),
            ));
        }
        if self.issuers.is_empty() {
            return Err(ConfigError(
                "no [[issuers]]: name at least one authorization server whose tokens are accepted"
                    .into(),
            ));
        }
        for issuer in &self.issuers {
            checked_url("issuer", &issuer.issuer)?;
            if let Some(jwks) = &issuer.jwks_uri {
                checked_url("jwks_uri", jwks)?;
            }
            if let Some(endpoint) = issuer
                .introspection
                .as_ref()
                .and_then(|i| i.endpoint.as_ref())
            {
                checked_url("introspection endpoint", endpoint)?;
            }
        }
        if self.scopes.read.trim().is_empty() || self.scopes.write.trim().is_empty() {
            return Err(ConfigError(
                "[scopes] read and write must not be empty".into(),
            ));
        }
        if self.scopes.read == self.scopes.write {
            return Err(ConfigError(
                "[scopes] read and write must differ, or every reader could write".into(),
            ));
        }
        if self.rules.is_empty() {
            return Err(ConfigError(
                "no [[rules]]: without one nobody is mapped to Mist credentials; add e.g. `[[rules]] group = \"NOC\"` with `mist_env_file`".into(),
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let n = i + 1;
            if rule.subject.is_none() && rule.group.is_none() {
                return Err(ConfigError(format!(
                    "rule {n} matches everyone: give it a `subject` or a `group`"
                )));
            }
            if rule.mist_env_file.is_some() == rule.mist_token_env.is_some() {
                return Err(ConfigError(format!(
                    "rule {n} ({}) needs exactly one of `mist_env_file` and `mist_token_env`: a user never brings a Mist token",
                    rule.label()
                )));
            }
            if let Some(mode) = &rule.mode {
                mode.parse::<crate::session::ToolMode>()
                    .map_err(|e| ConfigError(format!("rule {n} ({}): {e}", rule.label())))?;
            }
            if let Some(categories) = &rule.categories {
                crate::session::resolve_categories(categories)
                    .map_err(|e| ConfigError(format!("rule {n} ({}): {e}", rule.label())))?;
            }
            if rule.issuer.is_none() && self.issuers.len() > 1 {
                return Err(ConfigError(format!(
                    "rule {n} ({}) names no `issuer`, and {} issuers are trusted: say whose subject or group it means, or a user of one could take the access of another's",
                    rule.label(),
                    self.issuers.len()
                )));
            }
            if let Some(issuer) = &rule.issuer
                && !self.issuers.iter().any(|i| &i.issuer == issuer)
            {
                return Err(ConfigError(format!(
                    "rule {n} names the issuer {issuer}, which is not among [[issuers]]"
                )));
            }
        }
        Ok(())
    }

    /// The first rule that applies to an identity.
    pub fn rule_for(&self, issuer: &str, subject: &str, groups: &[String]) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.matches(issuer, subject, groups))
    }

    /// The URL of the protected resource metadata (RFC 9728 §3.1: the well-known path inserted
    /// before the resource's path).
    pub fn metadata_url(&self) -> String {
        let url = Url::parse(&self.resource).expect("checked when the configuration was read");
        let path = url.path().trim_end_matches('/');
        format!(
            "{}/.well-known/oauth-protected-resource{path}",
            url.origin().ascii_serialization()
        )
    }

    /// The paths this server answers the metadata on: the one of [`Self::metadata_url`], and
    /// the root one that clients of earlier drafts ask.
    pub fn metadata_paths(&self) -> Vec<String> {
        let url = Url::parse(&self.metadata_url()).expect("built from a checked URL");
        let mut paths = vec![url.path().to_string()];
        let root = "/.well-known/oauth-protected-resource".to_string();
        if !paths.contains(&root) {
            paths.push(root);
        }
        paths
    }
}

/// Only `https` URLs, but `http` on loopback (a test IdP).
pub(crate) fn checked_url(what: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value)
        .map_err(|e| ConfigError(format!("`{what}` {value:?} is not a URL: {e}")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(ConfigError(format!(
            "`{what}` {value} must be an https URL (http only on loopback)"
        ))),
    }
}

/// A configuration that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OAuth configuration: {0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
resource = "https://mcp.example.com/mcp"
[[issuers]]
issuer = "https://idp.example.com"
[[rules]]
group = "NetEng"
mist_env_file = "neteng.env"
writes = true
[[rules]]
subject = "alice"
mist_token_env = "NOC_MIST_TOKEN"
mode = "minimal"
"#;

    #[test]
    fn reads_rules_and_metadata_paths() {
        let c = OAuthConfig::parse(GOOD).expect("valid");
        assert_eq!(c.scopes, Scopes::default());
        assert_eq!(c.leeway_seconds, 60);
        assert_eq!(
            c.metadata_url(),
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            c.metadata_paths(),
            [
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-protected-resource"
            ]
        );
        let iss = "https://idp.example.com";
        let groups = vec!["NetEng".to_string()];
        assert!(c.rule_for(iss, "bob", &groups).is_some_and(|r| r.writes));
        assert_eq!(
            c.rule_for(iss, "alice", &[])
                .and_then(|r| r.mode.as_deref()),
            Some("minimal")
        );
        assert!(c.rule_for(iss, "mallory", &[]).is_none());
    }

    #[test]
    fn refuses_what_would_be_unsafe() {
        let cases = [
            (GOOD.replace("https://idp", "http://idp"), "https"),
            (
                GOOD.replace("subject = \"alice\"\n", ""),
                "matches everyone",
            ),
            (
                GOOD.replace("mist_token_env = \"NOC_MIST_TOKEN\"\n", ""),
                "exactly one",
            ),
            (
                GOOD.replace("writes = true", "write = true"),
                "unknown field",
            ),
            (
                format!("{GOOD}[[issuers]]\nissuer = \"https://other.example.com\"\n"),
                "names no `issuer`",
            ),
            (
                format!("{GOOD}[scopes]\nread = \"x\"\nwrite = \"x\"\n"),
                "differ",
            ),
        ];
        for (text, needle) in cases {
            let e = OAuthConfig::parse(&text).expect_err(needle);
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
        assert!(
            OAuthConfig::parse(&GOOD.replace("https://idp.example.com", "http://127.0.0.1:9"))
                .is_ok()
        );
    }
}
