//! The HTTP frontends as an OAuth 2.1 protected resource (MCP authorization, 2025-11-25):
//! the resource metadata (RFC 9728), the challenges of a refused request (RFC 6750), access
//! tokens checked locally against the issuer's keys or by introspection (RFC 7662), scopes,
//! and the rules that map an identity to Mist credentials. A user's access token is never
//! sent anywhere but to its own issuer's introspection endpoint: Mist gets the rule's token.
//!
//! The frontends ask [`Authority::authenticate`] with the `Authorization` header, turn a
//! [`Denied`] into its [`Challenge`], and ask [`Grant::may_call`] before a call that may write.
//! A JWT's signature is checked through the frontend's [`SignatureCheck`] (RustCrypto natively,
//! feature `rust-crypto`; the host's WebCrypto on the edge); everything else of it here.

pub mod config;
mod discovery;
mod signature;
mod token;

pub use config::{ConfigError, IntrospectionConfig, IssuerConfig, OAuthConfig, Rule, Scopes};
pub use discovery::{UNKNOWN_KID_COOLDOWN, Unreachable};
#[cfg(feature = "rust-crypto")]
pub use signature::RustCrypto;
pub use signature::{Algorithm, Jwk, SignatureCheck, SignatureError, jwk};
pub use token::{Identity, MAX_TOKEN_BYTES, TokenError};

use crate::api::HttpTransport;
use serde_json::{Value, json};

/// Who a request comes from and what it may do.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Who the token names.
    pub identity: Identity,
    /// The rule that maps them.
    pub rule: Rule,
    /// The token carries the write scope.
    pub write_scope: bool,
}

impl Grant {
    /// A string that names the caller for session ownership: issuer and subject.
    pub fn caller(&self) -> String {
        format!("oauth:{}#{}", self.identity.issuer, self.identity.subject)
    }

    /// Whether a call that `writes` may go on; else the refusal that asks for the write scope.
    pub fn may_call(&self, writes: bool, scopes: &Scopes) -> Result<(), Denied> {
        if writes && !self.write_scope {
            return Err(Denied::InsufficientScope {
                needed: scopes.write.clone(),
                why: "this tool may write, which needs the write scope".into(),
            });
        }
        Ok(())
    }

    /// What the grant gives the sessions of its requests, the same on every frontend. The rule's
    /// Mist token goes to `rule_cloud` (its env file's `MIST_HOST` or its `mist_host`), else to
    /// the server's `default_cloud`, else to `api.mist.com`: never to a cloud the user names.
    pub fn session_limits(
        &self,
        scopes: &Scopes,
        rule_cloud: Option<String>,
        default_cloud: Option<&str>,
    ) -> SessionLimits {
        let rule = &self.rule;
        SessionLimits {
            caller: self.caller(),
            cloud: rule_cloud
                .filter(|c| !c.trim().is_empty())
                .or_else(|| {
                    default_cloud
                        .filter(|c| !c.trim().is_empty())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| DEFAULT_CLOUD.to_string()),
            mode: rule.mode.clone(),
            categories: rule.categories.as_ref().map(|c| c.join(",")),
            writes: rule.writes,
            show_secrets: rule.show_secrets,
            missing_write_scope: (!self.write_scope).then(|| scopes.write.clone()),
        }
    }
}

/// The cloud of a rule that names none, on a server that names none.
const DEFAULT_CLOUD: &str = "api.mist.com";

/// What a [`Grant`]'s rule gives the sessions of its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLimits {
    /// Names the caller in the identity of its sessions ([`Grant::caller`]).
    pub caller: String,
    /// The cloud the rule's Mist token is bound to.
    pub cloud: String,
    /// The rule's tool loading mode (the URL's is ignored when set).
    pub mode: Option<String>,
    /// The rule's categories, comma-separated (the URL's are ignored when set).
    pub categories: Option<String>,
    /// Write tools are not withheld by the rule.
    pub writes: bool,
    /// The rule's sessions see secrets as they are.
    pub show_secrets: bool,
    /// The write scope the access token lacks.
    pub missing_write_scope: Option<String>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No access token.
    #[error("this server needs an OAuth access token (Authorization: Bearer)")]
    NoToken,
    /// The token is not valid here.
    #[error("invalid access token: {0}")]
    InvalidToken(String),
    /// The token lacks a scope.
    #[error("the access token lacks the scope {needed}: {why}")]
    InsufficientScope {
        /// The scope needed.
        needed: String,
        /// What needs it.
        why: String,
    },
    /// A valid token of someone no rule maps.
    #[error(
        "signed in as {subject}, but this server maps no Mist credentials to you: ask its operator to add a rule for your subject or group"
    )]
    NotMapped {
        /// The token's subject.
        subject: String,
    },
    /// The identity provider could not be asked.
    #[error("{0}; retry later")]
    Unavailable(String),
}

/// How a refusal is answered: a status and its `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// 401, 403 or 503.
    pub status: u16,
    /// The `WWW-Authenticate` value, when the status has one.
    pub www_authenticate: Option<String>,
    /// What the client is told, in the body.
    pub message: String,
}

/// A quoted-string parameter of a challenge: printable ASCII, without `"` and `\`.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '\'',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '?',
        })
        .collect()
}

/// The longest a verified JWT's identity is kept without verifying the token again (seconds).
pub const VERIFIED_KEPT: u64 = 300;

/// The configured resource server: the file, its issuers and what was learnt of them.
///
/// JWTs that verified are kept, by SHA-256 of the token, until their `exp` and at most
/// [`VERIFIED_KEPT`] seconds (at most 4096 of them): a session's requests with the same token
/// pay for one verification. The claims and times are those checked then; the rules and
/// scopes are applied again at each request. A consequence: a token signed with a key the
/// issuer has since withdrawn from its JWKS is still accepted until that bound, when it was
/// verified before the withdrawal (an issuer's revocation of keys takes up to
/// [`VERIFIED_KEPT`] seconds to show, as its JWKS already takes up to an hour when no unknown
/// key id asks for a refetch).
pub struct Authority {
    config: OAuthConfig,
    issuers: Vec<discovery::Issuer>,
    introspected: token::Introspected,
    verified: token::KnownTokens,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("resource", &self.config.resource)
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// The authority of a checked configuration.
    pub fn new(config: OAuthConfig) -> Self {
        let issuers = config
            .issuers
            .iter()
            .cloned()
            .map(discovery::Issuer::new)
            .collect();
        Authority {
            config,
            issuers,
            introspected: token::Introspected::default(),
            verified: token::KnownTokens::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The protected resource metadata (RFC 9728).
    pub fn metadata(&self) -> Value {
        json!({
            "resource": self.config.resource,
            "authorization_servers": self.config.issuers.iter().map(|i| &i.issuer).collect::<Vec<_>>(),
            "scopes_supported": [self.config.scopes.read, self.config.scopes.write],
            "bearer_methods_supported": ["header"],
            "resource_name": "mistmcp: the Juniper Mist API",
        })
    }

    /// Reads the issuers' metadata and keys now (at start, so that a wrong issuer shows at once).
    pub async fn prefetch(
        &self,
        transport: &dyn HttpTransport,
        now: u64,
    ) -> Result<(), Unreachable> {
        for issuer in &self.issuers {
            if issuer.endpoints(transport, now).await?.jwks_uri.is_some() {
                issuer.prefetch(transport, now).await?;
            }
        }
        Ok(())
    }

    /// Checks the `Authorization` header of a request: a valid token, of a mapped identity,
    /// with the read or the write scope. `transport` reaches the issuers, `verifier` checks
    /// JWT signatures, `secret` reads a variable (or binding) by name, for the introspection
    /// client's secret; `now` is seconds since the epoch (expiry and `nbf` are checked against
    /// it, with the configured leeway). A JWT verified before is answered from the cache (see
    /// [`Authority`]).
    pub async fn authenticate(
        &self,
        transport: &dyn HttpTransport,
        verifier: &dyn SignatureCheck,
        authorization: Option<&str>,
        secret: &(dyn Fn(&str) -> Option<String> + Sync),
        now: u64,
    ) -> Result<Grant, Denied> {
        let token = bearer(authorization).ok_or(Denied::NoToken)?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Denied::InvalidToken(format!(
                "the token is over {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let checked = if token::looks_like_jwt(token) {
            match self.verified.get(token, now) {
                Some(known) => Ok(known),
                None => {
                    let checked = token::verify_jwt(
                        &self.config,
                        &self.issuers,
                        transport,
                        verifier,
                        token,
                        now,
                    )
                    .await;
                    if let Ok(identity) = &checked {
                        let until = identity.expires.min(now.saturating_add(VERIFIED_KEPT));
                        self.verified.put(token, identity, until, now);
                    }
                    checked
                }
            }
        } else {
            token::introspect(
                &self.config,
                &self.issuers,
                &self.introspected,
                transport,
                secret,
                token,
                now,
            )
            .await
        };
        let identity = checked.map_err(|e| match e {
            TokenError::Invalid(why) => Denied::InvalidToken(why),
            TokenError::Unreachable(u) => Denied::Unavailable(u.to_string()),
        })?;
        let scopes = &self.config.scopes;
        let write_scope = has_scope(&identity.scopes, &scopes.write);
        if !write_scope && !has_scope(&identity.scopes, &scopes.read) {
            return Err(Denied::InsufficientScope {
                needed: scopes.read.clone(),
                why: "every request needs the read scope".into(),
            });
        }
        let rule = self
            .config
            .rule_for(&identity.issuer, &identity.subject, &identity.groups)
            .cloned()
            .ok_or_else(|| Denied::NotMapped {
                subject: identity.subject.clone(),
            })?;
        Ok(Grant {
            identity,
            rule,
            write_scope,
        })
    }

    /// The answer to a refusal, as the MCP authorization spec asks: 401 with the metadata's URL
    /// (and the scopes to ask for) when the token is missing or invalid, 403 `insufficient_scope`
    /// naming the scopes needed.
    pub fn challenge(&self, denied: &Denied) -> Challenge {
        let metadata = self.config.metadata_url();
        let scopes = &self.config.scopes;
        let message = match denied {
            // Where the server looked for the IdP is the operator's business (it is logged).
            Denied::Unavailable(_) => {
                "the identity provider cannot be reached to check your token; retry later".into()
            }
            other => other.to_string(),
        };
        // Both scopes are asked for at sign-in: the identity provider grants each user what its
        // policy allows (clients that cannot step up on a 403 get the write scope at once).
        let all = format!("{} {}", scopes.read, scopes.write);
        let (status, header) = match denied {
            Denied::NoToken => (
                401,
                Some(format!(
                    "Bearer resource_metadata=\"{metadata}\", scope=\"{}\"",
                    quoted(&all)
                )),
            ),
            Denied::InvalidToken(why) => (
                401,
                Some(format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\", resource_metadata=\"{metadata}\", scope=\"{}\"",
                    quoted(why),
                    quoted(&all)
                )),
            ),
            Denied::InsufficientScope { needed, why } => {
                let wanted = if *needed == scopes.write {
                    format!("{} {}", scopes.read, scopes.write)
                } else {
                    needed.clone()
                };
                (
                    403,
                    Some(format!(
                        "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{metadata}\", error_description=\"{}\"",
                        quoted(&wanted),
                        quoted(why)
                    )),
                )
            }
            // Signing in again would not help: no challenge a client would act on.
            Denied::NotMapped { .. } => (403, None),
            Denied::Unavailable(_) => (503, None),
        };
        Challenge {
            status,
            www_authenticate: header,
            message,
        }
    }
}

/// Whether a token's scopes hold `wanted`: as it is, or by its last path segment, as identity
/// providers write the scopes of an API in tokens (`api://mist/mist.read` asked, `mist.read`
/// granted: Entra ID).
fn has_scope(granted: &[String], wanted: &str) -> bool {
    let short = wanted.rsplit_once('/').map(|(_, s)| s);
    granted
        .iter()
        .any(|g| g == wanted || short.is_some_and(|s| !s.is_empty() && g == s))
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive).
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(all(test, feature = "rust-crypto"))]
mod tests;
