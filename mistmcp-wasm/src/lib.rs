//! mistmcp on Workers-style edge hosts: the JS entry (`worker/worker.mjs`) hands each MCP
//! message to [`handle`] with the request's configuration and the session's stored state;
//! Mist is reached through the host's `fetch`, the Mist stream of device commands through
//! WebSockets opened with it (`websocket.rs`).

// The module only means something inside a JS host: on other targets the crate is empty, so
// that `cargo test --workspace` builds natively.
#![cfg(target_arch = "wasm32")]

mod fetch;
mod service;
mod store;
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

/// What the JS entry read from the request and the environment.
#[derive(Debug, Default, Deserialize)]
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

/// The request's session, checked but not built (its credentials name the caller).
fn resolve(config: &RequestConfig) -> Result<ResolvedSession, String> {
    let api_url = match config.api_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Some(custom_base(url).map_err(|e| e.to_string())?),
        None => None,
    };
    let defaults = SessionConfig {
        write_tools: config.write_tools,
        max_response_bytes: match config.max_response_bytes {
            Some(0) => None,
            Some(n) => Some(n),
            None => Some(DEFAULT_MAX_RESPONSE_BYTES),
        },
        show_secrets: config.show_secrets,
        missing_token_advice: "send it with each request in the `Authorization: Bearer <Mist token>` header (X-Mist-Token or X-Authorization when the server has tokens of its own)",
        ..Default::default()
    };
    // The worker resolves the cloud (query, else MIST_HOST) and the token (its header rules).
    let request = SessionRequest {
        cloud: config.cloud.as_deref(),
        mode: config.mode.as_deref(),
        categories: config.categories.as_deref(),
        token: config.token.clone(),
        ..Default::default()
    };
    let server = ServerSettings {
        defaults: &defaults,
        default_cloud: None,
        api_url: api_url.as_ref(),
    };
    mistcore::session_request::resolve(&request, server).map_err(|e| e.to_string())
}

/// Handles one request to `/mcp`: a POST's MCP message, a DELETE that closes its session (any
/// other method is 405). `message` is the POST's body, `config` the JSON of the request's
/// configuration, `session_id` the request's `Mcp-Session-Id`, `sessions` the host's session
/// store (see [`JsSessionStore`]). Returns the JSON of `{status, headers, body, session_id}`.
#[wasm_bindgen]
pub async fn handle(
    message: String,
    config: String,
    session_id: Option<String>,
    sessions: JsSessionStore,
) -> String {
    let answer = match serde_json::from_str::<RequestConfig>(&config) {
        Err(e) => bad_request(format!("bad configuration from the host: {e}")),
        Ok(config) => serve_request(&message, &config, session_id.as_deref(), &sessions).await,
    };
    answer_json(&answer)
}

async fn serve_request(
    message: &str,
    config: &RequestConfig,
    session_id: Option<&str>,
    sessions: &JsSessionStore,
) -> Answer {
    let method = config.method.as_deref().unwrap_or("POST");
    if method != "POST" && method != "DELETE" {
        return Answer {
            headers: vec![("allow".into(), "POST, DELETE".into())],
            ..Answer::empty(405)
        };
    }
    let resolved = match resolve(config) {
        Ok(r) => r,
        Err(e) => return bad_request(e),
    };
    // A session serves only the caller that opened it.
    let owner = mistcore::session_request::caller_identity(
        config.server_token.as_deref(),
        &resolved.credentials,
    );
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
            server_token: config.server_token.as_deref(),
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
