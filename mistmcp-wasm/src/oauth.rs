//! MCP authorization (OAuth 2.1) on the edge: the `MISTMCP_OAUTH_CONFIG` binding holds the TOML
//! of the native server's `--oauth-config` file; when it is set, every request to `/mcp` needs
//! an access token of a configured issuer (`Authorization: Bearer`), checked here with
//! mistcore's [`Authority`]: the issuers' metadata and keys are fetched with the host's `fetch`
//! and kept for the isolate's life, so that a token is verified without a round trip once the
//! keys are known; signatures are checked with the host's WebCrypto (`webcrypto.rs`), and a
//! token verified once is not verified again for up to five minutes (mistcore's cache). A rule names the secret binding that holds its Mist token
//! (`mist_token_env`); the user's access token never leaves this module.

use crate::fetch::{FetchTransport, JsClock};
use crate::webcrypto::WebCrypto;
use js_sys::Reflect;
use mistcore::oauth::{Authority, Challenge, Grant, OAuthConfig, Rule};
use mistcore::resilience::{Clock, Policy, Resilient};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;

/// The binding that holds the configuration's TOML.
pub const CONFIG_BINDING: &str = "MISTMCP_OAUTH_CONFIG";

/// Time for one request to the identity provider (metadata, keys, introspection), as natively.
const IDP_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes read of an identity provider's answer: mistcore refuses documents over 1 MiB
/// with its own message; this only stops the reading of larger ones.
const IDP_MAX_BYTES: usize = 2 << 20;

#[wasm_bindgen]
extern "C" {
    /// `console.error`: workerd's log (Cloudflare: `wrangler tail`, Workers Logs).
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str);

    /// `console.warn`.
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
}

/// The way to the identity provider: the host's `fetch` with a deadline, no retries and no
/// rate budget (the budget is Mist's).
type IdpTransport = Resilient<FetchTransport, JsClock>;

/// The deployment's OAuth side: the authority (with what it learnt of the issuers) and the way
/// to them.
pub struct EdgeOAuth {
    authority: Authority,
    transport: IdpTransport,
}

/// The configuration as read at the isolate's first request: its OAuth side, or why it cannot
/// be used.
pub type Loaded = Rc<Result<EdgeOAuth, String>>;

thread_local! {
    /// One per isolate, with the text it was read from: the JWKS cache spans its requests.
    static OAUTH: RefCell<Option<(String, Loaded)>> = const { RefCell::new(None) };
}

/// A string binding of the deployment (text, secret, or from the environment), when set and
/// not blank.
pub fn binding(env: &JsValue, name: &str) -> Option<String> {
    Reflect::get(env, &JsValue::from_str(name))
        .ok()?
        .as_string()
        .filter(|v| !v.trim().is_empty())
}

/// The deployment's OAuth side when `MISTMCP_OAUTH_CONFIG` is set (`None`: OAuth is off). It is
/// read and checked at the first request of an isolate; a configuration that cannot be used is
/// logged then, once, and each request is answered with why (see [`EdgeOAuth::new`]).
pub fn load(env: &JsValue) -> Option<Loaded> {
    let text = binding(env, CONFIG_BINDING)?;
    Some(OAUTH.with(|cell| {
        let mut cell = cell.borrow_mut();
        if let Some((known, loaded)) = cell.as_ref()
            && *known == text
        {
            return loaded.clone();
        }
        let loaded = Rc::new(EdgeOAuth::new(&text));
        if let Err(e) = loaded.as_ref() {
            console_error(e);
        }
        *cell = Some((text, loaded.clone()));
        loaded
    }))
}

/// What the edge cannot do of a configuration the native server accepts: rules with files.
fn edge_problems(config: &OAuthConfig) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let n = i + 1;
        let label = rule.label();
        if rule.mist_env_file.is_some() {
            problems.push(format!(
                "rule {n} ({label}) has `mist_env_file`, but the edge reads no files: replace it with `mist_token_env = \"<NAME>\"`, the name of a secret binding that holds the Mist token, and `mist_host`"
            ));
        }
        if rule.junos_devices.is_some() {
            problems.push(format!(
                "rule {n} ({label}) has `junos_devices`, but the edge cannot reach Junos devices (no SSH): remove it (the Mist device tools work on the edge)"
            ));
        }
    }
    problems
}

impl EdgeOAuth {
    /// The OAuth side of the configuration `text`: checked as natively, then for what the edge
    /// cannot do (a rule's env file or Junos inventory); the error names the rule and the fix.
    pub fn new(text: &str) -> Result<Self, String> {
        let config =
            OAuthConfig::parse(text).map_err(|e| format!("{e} (the {CONFIG_BINDING} binding)"))?;
        let problems = edge_problems(&config);
        if !problems.is_empty() {
            return Err(format!(
                "OAuth configuration ({CONFIG_BINDING}): {}",
                problems.join("; ")
            ));
        }
        let policy = Policy {
            request_timeout: IDP_TIMEOUT,
            max_tries: 1,
            calls_per_hour: None,
            ..Policy::default()
        };
        let fetch = FetchTransport {
            max_body: IDP_MAX_BYTES,
        };
        Ok(EdgeOAuth {
            authority: Authority::new(config),
            transport: Resilient::new(fetch, JsClock, policy),
        })
    }

    /// The checked configuration.
    pub fn config(&self) -> &OAuthConfig {
        self.authority.config()
    }

    /// The request's access token (`authorization`, the header), checked: the grant, or the
    /// challenge to answer. A refusal is logged with its reason, never with the token.
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        env: &JsValue,
    ) -> Result<Grant, Challenge> {
        // The introspection clients' secrets, read from their bindings (none without opaque tokens).
        let secrets: HashMap<&str, String> = self
            .config()
            .issuers
            .iter()
            .filter_map(|i| i.introspection.as_ref())
            .filter_map(|c| {
                binding(env, &c.client_secret_env).map(|v| (c.client_secret_env.as_str(), v))
            })
            .collect();
        let secret = |name: &str| secrets.get(name).cloned();
        let now = JsClock.unix_seconds();
        match self
            .authority
            .authenticate(&self.transport, &WebCrypto, authorization, &secret, now)
            .await
        {
            Ok(grant) => Ok(grant),
            Err(denied) => {
                console_warn(&format!("OAuth: request refused: {denied}"));
                Err(self.authority.challenge(&denied))
            }
        }
    }

    /// The 403 that asks for the write scope, for a call that may write.
    pub fn write_refused(&self, grant: &Grant) -> Option<Challenge> {
        let denied = grant.may_call(true, &self.config().scopes).err()?;
        console_warn(&format!(
            "OAuth: a write without the write scope refused (subject {})",
            grant.identity.subject
        ));
        Some(self.authority.challenge(&denied))
    }

    /// A rule's Mist token (from the binding it names) and cloud. The error is for the log: it
    /// names the rule and the binding, never a value.
    pub fn credentials(
        &self,
        rule: &Rule,
        env: &JsValue,
    ) -> Result<(String, Option<String>), String> {
        let name = rule.mist_token_env.as_deref().unwrap_or_default();
        let token = binding(env, name).ok_or_else(|| {
            format!(
                "OAuth rule {}: the binding {name} that should hold its Mist token is not set: add it to the deployment (a secret, or in workerd a `fromEnvironment` binding)",
                rule.label()
            )
        })?;
        Ok((token, rule.mist_host.clone()))
    }

    /// The protected resource metadata (RFC 9728) when `path` is one of its paths.
    pub fn metadata(&self, path: &str) -> Option<Value> {
        self.config()
            .metadata_paths()
            .iter()
            .any(|p| p == path)
            .then(|| self.authority.metadata())
    }
}

/// Logs an operator's problem (a rule's binding missing, say) in workerd's log.
pub fn log_error(message: &str) {
    console_error(message);
}
