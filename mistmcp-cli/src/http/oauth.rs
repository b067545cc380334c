//! The native side of MCP authorization: the configuration file read at start (with the
//! directory its relative paths are read from), the metadata route, a request's access token
//! checked by mistcore's [`Authority`], and a rule's Mist credentials read from its env file
//! or variable.

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use mistcore::api::HttpTransport;
use mistcore::oauth::{Authority, Challenge, Grant, OAuthConfig, Rule, RustCrypto};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time for one request to the identity provider (metadata, keys, introspection).
const IDP_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP server's OAuth side.
pub struct OAuthGate {
    authority: Authority,
    /// The configuration file's directory: a rule's relative paths are read from it.
    base_dir: PathBuf,
    /// The way to the identity provider (trust store and proxy as for Mist).
    transport: Arc<dyn HttpTransport>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl OAuthGate {
    /// Reads and checks the configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the OAuth configuration {}", path.display()))?;
        let config = OAuthConfig::parse(&text).with_context(|| format!("in {}", path.display()))?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(OAuthGate {
            authority: Authority::new(config),
            base_dir,
            transport: Arc::new(crate::transport::ReqwestTransport::new(IDP_TIMEOUT)?),
        })
    }

    /// The checked configuration.
    pub fn config(&self) -> &OAuthConfig {
        self.authority.config()
    }

    /// Reads the issuers' metadata and keys once at start; a failure is logged, not fatal (the
    /// identity provider may come back), and requests try again.
    pub async fn prefetch(&self) {
        match self
            .authority
            .prefetch(self.transport.as_ref(), now())
            .await
        {
            Ok(()) => tracing::info!(
                resource = %self.config().resource,
                issuers = self.config().issuers.len(),
                rules = self.config().rules.len(),
                "OAuth: access tokens of the configured issuers are required"
            ),
            Err(e) => tracing::warn!("OAuth: {e}; requests will try again"),
        }
    }

    /// `--validate-config`: every issuer answers, every rule's Mist credentials can be read.
    pub async fn check(&self) -> anyhow::Result<String> {
        self.authority
            .prefetch(self.transport.as_ref(), now())
            .await
            .map_err(anyhow::Error::msg)?;
        for rule in &self.config().rules {
            self.credentials(rule).map_err(anyhow::Error::msg)?;
        }
        Ok(format!(
            "OAuth configuration valid: resource {}, {} issuer(s) reachable, {} rule(s) with readable Mist credentials",
            self.config().resource,
            self.config().issuers.len(),
            self.config().rules.len()
        ))
    }

    /// The request's access token, checked: the grant, or the challenge to answer.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Grant, Challenge> {
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let secret = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match self
            .authority
            .authenticate(
                self.transport.as_ref(),
                &RustCrypto,
                authorization,
                &secret,
                now(),
            )
            .await
        {
            Ok(grant) => Ok(grant),
            Err(denied) => {
                // The reason and, once known, the subject: never the token or its claims.
                tracing::warn!(reason = %denied, "OAuth: request refused");
                Err(self.authority.challenge(&denied))
            }
        }
    }

    /// The 403 that asks for the write scope, for a call that may write.
    pub fn write_refused(&self, grant: &Grant) -> Option<Challenge> {
        let denied = grant.may_call(true, &self.config().scopes).err()?;
        tracing::warn!(subject = %grant.identity.subject, "OAuth: a write without the write scope refused");
        Some(self.authority.challenge(&denied))
    }

    /// The path of a rule's file, relative ones from the configuration's directory.
    pub fn path(&self, file: &Path) -> PathBuf {
        self.base_dir.join(file)
    }

    /// A rule's Mist token and cloud: from its env file, or its variable and `mist_host`.
    pub fn credentials(&self, rule: &Rule) -> Result<(Option<String>, Option<String>), String> {
        if let Some(file) = &rule.mist_env_file {
            return super::env_file_credentials(
                &self.path(file),
                &format!("OAuth rule {}", rule.label()),
            );
        }
        let name = rule.mist_token_env.as_deref().unwrap_or_default();
        let token = std::env::var(name).ok().filter(|t| !t.trim().is_empty());
        if token.is_none() {
            return Err(format!(
                "OAuth rule {}: the variable {name} that should hold its Mist token is not set",
                rule.label()
            ));
        }
        Ok((token, rule.mist_host.clone()))
    }

    /// The metadata document's answer (RFC 9728), readable by any origin.
    pub fn metadata_response(&self) -> Response {
        let mut r = (StatusCode::OK, axum::Json(self.authority.metadata())).into_response();
        r.headers_mut().insert(
            http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            http::HeaderValue::from_static("*"),
        );
        r
    }
}

/// The routes of the metadata document, outside the gate (it is public).
pub fn metadata_routes(gate: Arc<OAuthGate>) -> axum::Router {
    let mut router = axum::Router::new();
    for path in gate.config().metadata_paths() {
        let gate = gate.clone();
        router = router.route(
            &path,
            axum::routing::get(move || {
                let gate = gate.clone();
                async move { gate.metadata_response() }
            })
            // A browser client's preflight (it may add MCP-Protocol-Version).
            .options(|| async {
                let mut r = StatusCode::NO_CONTENT.into_response();
                let h = r.headers_mut();
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    http::HeaderValue::from_static("*"),
                );
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_METHODS,
                    http::HeaderValue::from_static("GET, OPTIONS"),
                );
                h.insert(
                    http::header::ACCESS_CONTROL_ALLOW_HEADERS,
                    http::HeaderValue::from_static("*"),
                );
                r
            }),
        );
    }
    router
}
