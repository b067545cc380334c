//! mistmcp on Workers-style edge hosts: the JS entry (`worker/worker.mjs`) hands each MCP
//! message to [`handle`] with the request's configuration and the session's stored state;
//! Mist is reached through the host's `fetch`, the Mist stream of device commands through
//! WebSockets opened with it (`websocket.rs`).

// The module only means something inside a JS host: on other targets the crate is empty, so
// that `cargo test --workspace` builds natively.
#![cfg(target_arch = "wasm32")]

mod fetch;
mod oauth;
mod service;
mod store;
mod webcrypto;
mod websocket;

use mistcore::api::custom_base;
use mistcore::jsonrpc::{Confirmations, Exchange, Headers, Host, serve};
use mistcore::policy::NoConfirm;
use mistcore::request_state::StateKey;
use mistcore::resilience::Clock;
use mistcore::resilience::{Policy, Resilient};
use mistcore::response_budget::DEFAULT_MAX_RESPONSE_BYTES;
use mistcore::session::SessionConfig;
use mistcore::session_request::{ResolvedSession, ServerSettings, SessionRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use store::{JsSessionStore, random_uuid};
use wasm_bindgen::prelude::*;

/// What the JS entry read from the request and the environment. No `Debug`: it holds the
/// request's tokens.
#[derive(Default, Deserialize)]
struct RequestConfig {
    /// The Mist token (from `Authorization: Bearer`, `X-Authorization` or `X-Mist-Token`).
    token: Option<String>,
    /// Query `cloud`, or the deployment's default.
    cloud: Option<String>,
    /// The deployment's explicit base URL (tests, private deployments).
    api_url: Option<String>,
    /// Query `mode`.
    mode: Option<String>,
    /// Query `categories`, comma-separated.
    categories: Option<String>,
    /// The deployment allows write tools.
    #[serde(default)]
    write_tools: bool,
    /// The deployment shows secrets to the model as they are (`MISTMCP_SHOW_SECRETS`).
    #[serde(default)]
    show_secrets: bool,
    /// `MCP-Protocol-Version`.
    protocol_version: Option<String>,
    /// `Mcp-Method`.
    mcp_method: Option<String>,
    /// `Mcp-Name`.
    mcp_name: Option<String>,
    /// Seconds a call to Mist may take, retries included (`MISTMCP_REQUEST_TIMEOUT`).
    request_timeout: Option<u64>,
    /// Calls per hour per Mist token in this isolate (`MISTMCP_RATE_LIMIT`, 0: none).
    rate_limit: Option<u32>,
    /// The largest tool result in bytes (`MISTMCP_MAX_RESPONSE_BYTES`, 0: no limit).
    max_response_bytes: Option<usize>,
    /// The largest answer read from Mist (`MISTMCP_MAX_UPSTREAM_BYTES`), also the most bytes a
    /// device stream may hold unread.
    max_upstream_bytes: Option<usize>,
    /// The Mist stream's URL (`MIST_WS_URL`), else derived from the cloud.
    ws_url: Option<String>,
    /// Seconds a device command's output is read at most (`MISTMCP_COMMAND_TIMEOUT`).
    command_timeout: Option<u64>,
    /// The shell deny-list, one entry per line (`MISTMCP_SHELL_DENYLIST`); the built-in one
    /// when absent or empty.
    shell_denylist: Option<String>,
    /// The secret of sessionless confirmations (`MISTMCP_CONFIRM_SECRET`), shared by isolates.
    confirm_secret: Option<String>,
    /// The SHA-256 of the server token the request presented, when the deployment has some.
    server_token: Option<String>,
    /// The HTTP method: POST (a message), DELETE (the session closed); POST when absent.
    method: Option<String>,
    /// The `Authorization` header, for the module to check as an OAuth access token (when the
    /// deployment has `MISTMCP_OAUTH_CONFIG` and the header is not one of its server tokens).
    authorization: Option<String>,
}

type EdgeTransport = Resilient<fetch::FetchTransport, fetch::JsClock>;

thread_local! {
    /// One transport per isolate, so that the rate budget spans its requests.
    static TRANSPORT: std::cell::OnceCell<std::rc::Rc<EdgeTransport>> = const { std::cell::OnceCell::new() };
}

/// The largest upstream answer (and unread stream bytes) of the deployment.
fn max_upstream_bytes(config: &RequestConfig) -> usize {
    config
        .max_upstream_bytes
        .filter(|b| *b > 0)
        .unwrap_or(fetch::DEFAULT_MAX_UPSTREAM_BYTES)
}

/// What tool calls of this request may use beyond Mist: the command deadline and the stream.
fn edge_service(config: &RequestConfig) -> service::EdgeService {
    let denylist = match config
        .shell_denylist
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        None => Some(mistcore::devices::default_shell_denylist()),
        Some(text) => mistcore::devices::shell_denylist_from_text(text),
    };
    service::EdgeService {
        streams: websocket::EdgeStreams {
            stream_url: config.ws_url.clone().filter(|u| !u.is_empty()),
            denylist,
            max_queued_bytes: max_upstream_bytes(config),
        },
        command_deadline: mistcore::stream::command_deadline(config.command_timeout),
    }
}

fn transport(config: &RequestConfig) -> std::rc::Rc<EdgeTransport> {
    TRANSPORT.with(|cell| {
        cell.get_or_init(|| {
            let defaults = Policy::default();
            let policy = Policy {
                request_timeout: config
                    .request_timeout
                    .map_or(defaults.request_timeout, |s| {
                        Duration::from_secs(s.clamp(1, 3600))
                    }),
                calls_per_hour: match config.rate_limit {
                    Some(0) => None,
                    Some(n) => Some(n),
                    None => defaults.calls_per_hour,
                },
                ..defaults
            };
            let fetch = fetch::FetchTransport {
                max_body: max_upstream_bytes(config),
            };
            std::rc::Rc::new(Resilient::new(fetch, fetch::JsClock, policy))
        })
        .clone()
    })
}

thread_local! {
    /// One key of sessionless confirmations per isolate.
    static STATE_KEY: std::cell::OnceCell<std::rc::Rc<StateKey>> = const { std::cell::OnceCell::new() };
}

/// The isolate's key: the deployment's secret binding, else a random one (states issued by
/// this isolate are then redeemed only here).
fn state_key(config: &RequestConfig) -> std::rc::Rc<StateKey> {
    STATE_KEY.with(|cell| {
        cell.get_or_init(|| {
            let random = || random_uuid().replace('-', "");
            let instance = u64::from_str_radix(&random()[..16], 16).unwrap_or_default();
            let key = match config.confirm_secret.as_deref().filter(|s| !s.is_empty()) {
                Some(secret) => StateKey::new(secret.as_bytes(), instance),
                // Two random UUIDs: 244 random bits.
                None => StateKey::new(format!("{}{}", random(), random()).as_bytes(), instance),
            };
            std::rc::Rc::new(key)
        })
        .clone()
    })
}

thread_local! {
    /// The secret handles of this isolate's callers, by caller and session: every request here
    /// builds its session anew, and a handle read in one request is put back in a later write.
    /// An isolate that is evicted forgets them: such a write is refused with the reason.
    static REDACTORS: mistcore::redact::Redactors = mistcore::redact::Redactors::new(256);
}

/// The answer to the JS entry: an HTTP status, its extra headers, the JSON body (if any), and
/// the `Mcp-Session-Id` of a session this request opened.
#[derive(Debug, Serialize)]
struct Answer {
    status: u16,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    headers: Vec<(String, String)>,
    body: Option<Value>,
    session_id: Option<String>,
}

impl Answer {
    /// An answer without a body.
    fn empty(status: u16) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: None,
            session_id: None,
        }
    }

    /// `{"error": message}` with `status`.
    fn error(status: u16, message: impl Into<String>) -> Self {
        Answer {
            body: Some(json!({ "error": message.into() })),
            ..Answer::empty(status)
        }
    }
}

fn bad_request(message: String) -> Answer {
    Answer::error(400, message)
}

/// Who a request comes from, beyond its Mist token.
enum Caller {
    /// Anyone (the deployment has no access control), or one of its server tokens (checked by
    /// the JS entry; `RequestConfig::server_token`).
    Open,
    /// An OAuth access token of a mapped identity.
    OAuth(Box<mistcore::oauth::Grant>),
}

/// What the operator bound to a caller: Mist credentials and the session's limits (one shape
/// for server tokens and OAuth rules, as natively).
struct Binding {
    /// Names the caller in the identity of its sessions: the server token's hash, or the OAuth
    /// issuer and subject.
    id: Option<String>,
    token: Option<String>,
    host: Option<String>,
    mode: Option<String>,
    categories: Option<String>,
    /// Write tools are not withheld by the binding.
    writes: bool,
    show_secrets: bool,
    /// The OAuth write scope the access token lacks.
    missing_write_scope: Option<String>,
    /// The caller signed in with OAuth: no Mist token of the request is used.
    oauth: bool,
}

fn binding(
    config: &RequestConfig,
    caller: &Caller,
    gate: Option<&oauth::EdgeOAuth>,
    env: &JsValue,
) -> Result<Binding, Answer> {
    Ok(match (caller, gate) {
        (Caller::OAuth(grant), Some(gate)) => {
            let (token, host) = gate.credentials(&grant.rule, env).map_err(|e| {
                oauth::log_error(&e);
                Answer::error(
                    500,
                    "the Mist credentials bound to your access cannot be read; ask the operator",
                )
            })?;
            let default_cloud = oauth::binding(env, "MIST_HOST");
            let limits =
                grant.session_limits(&gate.config().scopes, host, default_cloud.as_deref());
            Binding {
                id: Some(limits.caller),
                token: Some(token),
                host: Some(limits.cloud),
                mode: limits.mode,
                categories: limits.categories,
                writes: limits.writes,
                show_secrets: limits.show_secrets,
                missing_write_scope: limits.missing_write_scope,
                oauth: true,
            }
        }
        _ => Binding {
            id: config.server_token.clone(),
            token: None,
            host: None,
            mode: None,
            categories: None,
            writes: true,
            show_secrets: false,
            missing_write_scope: None,
            oauth: false,
        },
    })
}

/// The session's configuration: the deployment's, with what the caller's binding says.
fn session_config(config: &RequestConfig, bound: &Binding) -> SessionConfig {
    SessionConfig {
        write_tools: config.write_tools && bound.writes,
        max_response_bytes: match config.max_response_bytes {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(DEFAULT_MAX_RESPONSE_BYTES),
        },
        // Secrets are shown only where the operator chose it: the deployment, or a rule.
        show_secrets: config.show_secrets || bound.show_secrets,
        missing_token_advice: if bound.oauth {
            "ask the operator to bind Mist credentials to your identity in the OAuth configuration"
        } else {
            "send it with each request in the `Authorization: Bearer <Mist token>` header (X-Mist-Token or X-Authorization when the server has tokens of its own)"
        },
        ..Default::default()
    }
}

/// The request's session, checked but not built (its credentials name the caller).
fn resolve(config: &RequestConfig, bound: &Binding) -> Result<ResolvedSession, String> {
    let api_url = match config.api_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Some(custom_base(url).map_err(|e| e.to_string())?),
        None => None,
    };
    let defaults = session_config(config, bound);
    // The worker resolves the cloud (query, else MIST_HOST) and the token (its header rules);
    // a rule's cloud, token, mode and categories are the operator's and win.
    let request = SessionRequest {
        cloud: config.cloud.as_deref(),
        mode: bound.mode.as_deref().or(config.mode.as_deref()),
        categories: bound.categories.as_deref().or(config.categories.as_deref()),
        // A user signed in with OAuth never brings a Mist token.
        token: if bound.oauth {
            None
        } else {
            config.token.clone()
        },
        bound_cloud: bound.host.as_deref(),
        bound_token: bound.token.clone(),
    };
    let server = ServerSettings {
        defaults: &defaults,
        default_cloud: None,
        api_url: api_url.as_ref(),
    };
    mistcore::session_request::resolve(&request, server).map_err(|e| e.to_string())
}

/// Whether a message (or a batch) holds a `tools/call` that may write.
fn may_write(message: &str) -> bool {
    serde_json::from_str::<Value>(message).is_ok_and(|m| mistcore::tools::message_may_write(&m))
}

/// An OAuth refusal: its status, `WWW-Authenticate` challenge and message.
fn challenged(challenge: mistcore::oauth::Challenge) -> Answer {
    Answer {
        headers: challenge
            .www_authenticate
            .map(|h| ("www-authenticate".to_string(), h))
            .into_iter()
            .collect(),
        ..Answer::error(challenge.status, challenge.message)
    }
}

/// Handles one request to `/mcp`: a POST's MCP message, a DELETE that closes its session (any
/// other method is 405). `message` is the POST's body, `config` the JSON of the request's
/// configuration, `session_id` the request's `Mcp-Session-Id`, `sessions` the host's session
/// store (see [`JsSessionStore`]), `env` the deployment's bindings, of which the module reads
/// `MISTMCP_OAUTH_CONFIG` and the secret bindings its rules name (see `oauth.rs`). Returns the
/// JSON of `{status, headers, body, session_id}`.
#[wasm_bindgen]
pub async fn handle(
    message: String,
    config: String,
    session_id: Option<String>,
    sessions: JsSessionStore,
    env: JsValue,
) -> String {
    let answer = match serde_json::from_str::<RequestConfig>(&config) {
        Err(e) => bad_request(format!("bad configuration from the host: {e}")),
        Ok(config) => {
            serve_request(&message, &config, session_id.as_deref(), &sessions, &env).await
        }
    };
    answer_json(&answer)
}

async fn serve_request(
    message: &str,
    config: &RequestConfig,
    session_id: Option<&str>,
    sessions: &JsSessionStore,
    env: &JsValue,
) -> Answer {
    // Who asks: with OAuth on, a request that presented no server token needs an access token
    // (before anything else, as natively: GET and DELETE too).
    let loaded = oauth::load(env);
    let gate = match loaded.as_deref() {
        None => None,
        Some(Ok(gate)) => Some(gate),
        // Logged once, when the isolate read it.
        Some(Err(e)) => return Answer::error(500, e.clone()),
    };
    let caller = match gate {
        Some(gate) if config.server_token.is_none() => {
            match gate
                .authenticate(config.authorization.as_deref(), env)
                .await
            {
                Ok(grant) => Caller::OAuth(Box::new(grant)),
                Err(challenge) => return challenged(challenge),
            }
        }
        _ => Caller::Open,
    };
    let method = config.method.as_deref().unwrap_or("POST");
    if method != "POST" && method != "DELETE" {
        return Answer {
            headers: vec![("allow".into(), "POST, DELETE".into())],
            ..Answer::empty(405)
        };
    }
    let bound = match binding(config, &caller, gate, env) {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let resolved = match resolve(config, &bound) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    // A call that may write needs the write scope: the 403 tells the client which to ask for
    // (where writes are on at all: else the session's own refusal says so).
    if method == "POST"
        && resolved.config.write_tools
        && let (Caller::OAuth(grant), Some(gate)) = (&caller, gate)
        && !grant.write_scope
        && may_write(message)
        && let Some(challenge) = gate.write_refused(grant)
    {
        return challenged(challenge);
    }
    // A session serves only the caller that opened it.
    let owner =
        mistcore::session_request::caller_identity(bound.id.as_deref(), &resolved.credentials);
    let store = store::Owned {
        store: sessions,
        owner: &owner,
    };
    if method == "DELETE" {
        let Some(id) = session_id else {
            return bad_request("DELETE needs an Mcp-Session-Id".into());
        };
        return match store.close(id).await {
            Ok(true) => Answer::empty(200),
            Ok(false) => Answer::error(404, "unknown or expired session"),
            Err(e) => Answer::error(503, format!("{e}: try again")),
        };
    }
    let mut session = match resolved.session() {
        Ok(s) => s,
        Err(e) => return bad_request(e.to_string()),
    };
    // The write gate's safety net: a write is refused without the scope, whatever the call.
    session.missing_write_scope = bound.missing_write_scope.clone();
    if session.secrets.is_some() {
        let caller = format!("{owner}/{}", session_id.unwrap_or(""));
        match REDACTORS.with(|r| r.for_caller(&caller)) {
            Ok(r) => session.secrets = Some(r),
            Err(e) => return Answer::error(500, e.to_string()),
        }
    }
    let headers = Headers {
        protocol_version: config.protocol_version.clone(),
        method: config.mcp_method.clone(),
        name: config.mcp_name.clone(),
    };
    let transport = transport(config);
    let exchange = Exchange {
        message,
        headers: &headers,
        session_id,
    };
    // Handshake clients get JSON answers here: no stream carries an elicitation request, so
    // they can never confirm a write and never see one. Clients of protocol 2026-07-28 confirm
    // through the answers (multi round-trip requests).
    let state_key = state_key(config);
    let service = edge_service(config);
    let host = Host {
        store: &store,
        transport: transport.as_ref(),
        service: &service,
        confirmations: Confirmations {
            handshake: &NoConfirm,
            state_key: &state_key,
            // A confirmation counts only for the caller it was given to.
            server_token: bound.id.as_deref(),
            now: fetch::JsClock.unix_seconds(),
        },
        new_session_id: &random_uuid,
    };
    let mut served = serve(exchange, session, host).await;
    // Answers here are single JSON documents: no stream carries notifications, so the tool
    // list is not announced as changing (clients list it again).
    if let Some(tools) = served
        .response
        .as_mut()
        .and_then(|r| r.pointer_mut("/result/capabilities/tools"))
    {
        *tools = json!({});
    }
    // A notification or a client's response: accepted, nothing to answer.
    if served.status == 202 {
        return Answer::empty(202);
    }
    Answer {
        status: served.status,
        headers: Vec::new(),
        body: served.response,
        session_id: served.new_session_id,
    }
}

fn answer_json(answer: &Answer) -> String {
    serde_json::to_string(answer)
        .unwrap_or_else(|_| r#"{"status":500,"body":null,"session_id":null}"#.into())
}

/// The answer to a GET of `path` outside `/mcp` when the deployment has `MISTMCP_OAUTH_CONFIG`
/// (`env` its bindings): the protected resource metadata (RFC 9728) on its paths, readable by
/// any origin; a 500 saying why when the configuration cannot be used; `undefined` for any
/// other path. Returns the JSON of `{status, headers, body}`.
#[wasm_bindgen]
pub fn oauth_metadata(path: &str, env: JsValue) -> Option<String> {
    let answer = match oauth::load(&env)?.as_ref() {
        Ok(gate) => Answer {
            headers: vec![("access-control-allow-origin".into(), "*".into())],
            body: Some(gate.metadata(path)?),
            ..Answer::empty(200)
        },
        Err(e) if path.starts_with("/.well-known/oauth-protected-resource") => {
            Answer::error(500, e.clone())
        }
        Err(_) => return None,
    };
    Some(answer_json(&answer))
}

/// Whether a browser request with this `Origin` is served: listed (comma-separated
/// `MISTMCP_ALLOWED_ORIGINS`), the worker's own origin (`host` is the request's host and port),
/// or a loopback origin when the worker itself is reached on loopback (workerd on a laptop).
/// The own origin counts only when `host_checked` (`MISTMCP_ALLOWED_HOSTS` is set).
#[wasm_bindgen]
pub fn origin_allowed(origin: &str, host: &str, listed: &str, host_checked: bool) -> bool {
    let listed: Vec<String> = listed
        .split(',')
        .map(|o| o.trim().to_string())
        .filter(|o| !o.is_empty())
        .collect();
    let hostname = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    let policy = mistcore::origin::OriginPolicy {
        listed: &listed,
        loopback_server: mistcore::origin::is_loopback_host(hostname),
        host_checked,
    };
    policy.allows(origin, Some(host))
}
