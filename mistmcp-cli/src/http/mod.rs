//! MCP over streamable HTTP for a team: rmcp's service behind an axum gate that checks the
//! server's own tokens or OAuth access tokens, reads each request's Mist credentials and configuration, validates the
//! cloud, caps sessions and body sizes.

mod batch;
pub mod listener;
mod oauth;
mod sessions;

pub use oauth::OAuthGate;

use crate::server::{ClientGone, MistServer, RequestSession};
use crate::service::NativeService;
use crate::tokens::{TokenEntry, TokenStore};
use anyhow::{Context, bail};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use http::{HeaderMap, Method, StatusCode};
use mistcore::envelope::{self, Incoming};
use mistcore::origin::OriginPolicy;
use mistcore::session::SessionConfig;
use mistcore::session_request::{ServerSettings, SessionRequest, resolve};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How the HTTP server runs.
pub struct HttpOptions {
    /// Address to bind.
    pub host: String,
    /// Port to bind.
    pub port: u16,
    /// Idle time after which a session is closed.
    pub idle_timeout: Duration,
    /// Time without a request after which a session's worker stops until its next request
    /// (`None`: never).
    pub hibernate_after: Option<Duration>,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// The server token store, when one exists.
    pub tokens_file: Option<PathBuf>,
    /// OAuth access tokens accepted (`--oauth-config`), beside server tokens.
    pub oauth: Option<Arc<OAuthGate>>,
    /// Serve a non-loopback address without server tokens.
    pub allow_unauthenticated: bool,
    /// Accepted `Origin`s (empty: any request without a foreign Origin check).
    pub allowed_origins: Vec<String>,
    /// Accepted `Host`s (empty: loopback names, or any host when bound to all interfaces).
    pub allowed_hosts: Vec<String>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Time to receive a request's body once its headers came (`--body-timeout`).
    pub body_timeout: Duration,
    /// The bounds of connections (cap, header and idle timeouts).
    pub connections: listener::ConnectionLimits,
    /// TLS certificate and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Mode, categories, write tools, response format of new sessions (a request may set mode and categories).
    pub defaults: SessionConfig,
    /// The known_hosts file of Junos inventories bound to server tokens (`--junos-known-hosts`).
    pub junos_known_hosts: Option<PathBuf>,
    /// The cloud used when a request gives none (`MIST_HOST`).
    pub default_cloud: Option<String>,
    /// Every session's requests go here instead of the cloud (`--api-url`).
    pub api_url: Option<Url>,
    /// The way to Mist.
    pub service: Arc<NativeService>,
}

struct Gate {
    tokens: Option<TokenStore>,
    oauth: Option<Arc<OAuthGate>>,
    defaults: SessionConfig,
    junos_known_hosts: Option<PathBuf>,
    /// The Junos inventories bound to server tokens, by token id: read once, shared by the
    /// token's sessions (so `add_device` and `reload_devices` act for all of them).
    junos: std::sync::Mutex<std::collections::HashMap<String, mistcore::junos::JunosDevices>>,
    default_cloud: Option<String>,
    api_url: Option<Url>,
    max_body_bytes: usize,
    body_timeout: Duration,
    /// The open sessions and initializes in flight, under the cap; who opened each session,
    /// and which accept batches (protocol 2025-03-26).
    sessions: Arc<sessions::SessionSlots>,
    /// rmcp's session manager (to stop the workers of idle sessions).
    manager: Arc<sessions::CountedSessions>,
    idle_timeout: Duration,
    hibernate_after: Option<Duration>,
    /// The counters and session count of the health tool.
    service: Arc<NativeService>,
    /// Browser origins served besides the server's own (and loopback ones on loopback).
    allowed_origins: Vec<String>,
    loopback: bool,
    /// `Host` headers are checked against an allow-list.
    host_checked: bool,
    /// rmcp's service, for the messages of a batch.
    mcp: McpService,
    /// The secret handles of sessionless callers (protocol 2026-07-28), by caller identity:
    /// a handle read in one request is put back in that caller's later write.
    redactors: mistcore::redact::Redactors,
}

/// The most sessionless callers whose secret handles are kept (the least recent forgotten).
const SESSIONLESS_REDACTORS: usize = 1024;

type McpService = StreamableHttpService<MistServer, sessions::CountedSessions>;

/// Why the gate answers a request itself, before rmcp sees it: the one error type of the gate.
enum Refusal {
    /// 401, with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    /// An OAuth refusal: 401 or 403 with its `WWW-Authenticate` challenge, or 503.
    Challenge(mistcore::oauth::Challenge),
    /// 403.
    Forbidden(String),
    /// 400 with a JSON error.
    BadRequest(String),
    /// 413; the rest of the body is not read, so the connection is closed.
    TooLarge(usize),
    /// 408: the body did not come in time (the connection is closed).
    TimedOut(String),
    /// 404.
    NotFound(String),
    /// 503.
    Unavailable(String),
    /// 500 (the reason is logged, the client gets advice).
    Internal(String),
    /// A JSON-RPC answer of the gate itself (an invalid message, a refused batch), with its status.
    Rpc(StatusCode, serde_json::Value),
    /// A malformed notification: nothing to answer.
    Accepted,
    /// Answered with `Connection: close` (the request's body was not read).
    Closing(Box<Refusal>),
}

impl Refusal {
    fn closing(self) -> Refusal {
        Refusal::Closing(Box::new(self))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let error = |status: StatusCode, message: String| {
            (status, axum::Json(json!({ "error": message }))).into_response()
        };
        match self {
            Refusal::Unauthorized(message) => {
                let mut r = error(StatusCode::UNAUTHORIZED, message);
                r.headers_mut().insert(
                    http::header::WWW_AUTHENTICATE,
                    http::HeaderValue::from_static("Bearer"),
                );
                r
            }
            Refusal::Challenge(challenge) => {
                let status =
                    StatusCode::from_u16(challenge.status).unwrap_or(StatusCode::UNAUTHORIZED);
                let mut r = error(status, challenge.message);
                if let Some(value) = challenge
                    .www_authenticate
                    .and_then(|v| http::HeaderValue::from_str(&v).ok())
                {
                    r.headers_mut()
                        .insert(http::header::WWW_AUTHENTICATE, value);
                }
                r
            }
            Refusal::Forbidden(message) => error(StatusCode::FORBIDDEN, message),
            Refusal::BadRequest(message) => error(StatusCode::BAD_REQUEST, message),
            Refusal::TooLarge(limit) => {
                let mut r = error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body over {limit} bytes"),
                );
                r.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                r
            }
            Refusal::TimedOut(message) => error(StatusCode::REQUEST_TIMEOUT, message),
            Refusal::NotFound(message) => error(StatusCode::NOT_FOUND, message),
            Refusal::Unavailable(message) => error(StatusCode::SERVICE_UNAVAILABLE, message),
            Refusal::Internal(message) => error(StatusCode::INTERNAL_SERVER_ERROR, message),
            Refusal::Rpc(status, answer) => (status, axum::Json(answer)).into_response(),
            Refusal::Accepted => StatusCode::ACCEPTED.into_response(),
            Refusal::Closing(refusal) => {
                let mut r = refusal.into_response();
                r.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                r
            }
        }
    }
}

/// The status of a JSON-RPC error the gate answers: a message that cannot be read is a 400;
/// parameters of the wrong shape are an answer like any other, but for sessionless requests
/// (protocol 2026-07-28), whose errors carry their HTTP status.
fn rpc_status(code: Option<i64>, stateless: bool) -> StatusCode {
    match code {
        Some(envelope::INVALID_PARAMS) if !stateless => StatusCode::OK,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The `Mcp-Session-Id` of a request, read as rmcp reads it; one that is not visible ASCII is
/// refused (rmcp would take the request for one without a session).
fn session_id(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    headers
        .get("mcp-session-id")
        .map(|v| v.to_str())
        .transpose()
        .map_err(|_| {
            Refusal::BadRequest(
                "the Mcp-Session-Id header is not visible ASCII: send the id the server gave in its initialize answer".into(),
            )
        })
}

/// `Bearer x`, `Token x` or `x` alone.
fn strip_scheme(value: &str) -> &str {
    for scheme in ["Bearer ", "bearer ", "Token ", "token "] {
        if let Some(rest) = value.strip_prefix(scheme) {
            return rest.trim();
        }
    }
    value
}

/// Reads `MIST_APITOKEN` and `MIST_HOST` of an env file bound to `owner` (a server token, an
/// OAuth rule) without touching the process environment.
fn env_file_credentials(
    path: &std::path::Path,
    owner: &str,
) -> Result<(Option<String>, Option<String>), String> {
    let unreadable = |e: dotenvy::Error| {
        format!(
            "{owner}: cannot read its Mist env file {}: {e}",
            path.display()
        )
    };
    let (mut token, mut host) = (None, None);
    for item in dotenvy::from_path_iter(path).map_err(unreadable)? {
        let (k, v) = item.map_err(unreadable)?;
        match k.as_str() {
            "MIST_APITOKEN" => token = Some(v),
            "MIST_HOST" => host = Some(v),
            _ => {}
        }
    }
    Ok((token, host))
}

/// The Junos inventory bound to a server token or an OAuth rule (`owner`), read at its first
/// use and shared by all of its sessions.
fn bound_junos(
    gate: &Gate,
    owner: &str,
    path: &std::path::Path,
) -> Result<mistcore::junos::JunosDevices, Refusal> {
    let mut cache = gate
        .junos
        .lock()
        .map_err(|_| Refusal::Internal("the Junos inventories are unavailable".into()))?;
    if let Some(devices) = cache.get(owner) {
        return Ok(devices.clone());
    }
    let devices = crate::netconf::ChildRenderer::of_this_binary()
        .and_then(|r| crate::netconf::devices(path, gate.junos_known_hosts.as_deref(), Arc::new(r)))
        .map_err(|e| {
            tracing::error!("{owner}: {e:#}");
            Refusal::Internal(
                "the Junos device inventory bound to your access cannot be read; ask the operator"
                    .into(),
            )
        })?;
    cache.insert(owner.to_string(), devices.clone());
    Ok(devices)
}

/// The body, bounded in size and time: read before any check, so that every refusal is answered
/// on a connection that stays usable (an unread body would make hyper drop the kept-alive
/// connection); one that does not come within `deadline` closes the connection.
async fn read_body(
    body: Body,
    limit: usize,
    deadline: Duration,
) -> Result<axum::body::Bytes, Refusal> {
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(read) => read.map_err(|_| Refusal::TooLarge(limit)),
        Err(_) => Err(Refusal::closing(Refusal::TimedOut(format!(
            "the request body did not come within {} s",
            deadline.as_secs()
        )))),
    }
}

/// Browser origins: the server's own, loopback ones on a loopback server, listed ones.
fn check_origin(gate: &Gate, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(origin) = header(headers, "origin") else {
        return Ok(());
    };
    let policy = OriginPolicy {
        listed: &gate.allowed_origins,
        loopback_server: gate.loopback,
        // rmcp checks `Host` against the allowed hosts; with none (bound to all interfaces
        // without --allowed-hosts) a page could name itself in both headers (DNS rebinding).
        host_checked: gate.host_checked,
    };
    if policy.allows(origin, header(headers, "host")) {
        return Ok(());
    }
    Err(Refusal::Forbidden(format!(
        "Origin {origin} is not allowed: browsers may reach this server only from its own origin; the operator can list others with --allowed-origins"
    )))
}

/// Who a request comes from, as its `Authorization` header shows.
enum Caller {
    /// A server without access control (loopback, or `--allow-unauthenticated`).
    Open,
    /// One of the server's own tokens.
    ServerToken(TokenEntry),
    /// An OAuth access token of a mapped identity.
    OAuth(Box<mistcore::oauth::Grant>),
}

/// The caller: a server token when the header holds one, else an OAuth access token when the
/// server takes them, else the refusal.
async fn caller(gate: &Gate, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let presented = header(headers, "authorization").map(strip_scheme);
    if let Some(store) = &gate.tokens
        && let Some(entry) = presented.and_then(|p| store.verify(p))
    {
        return Ok(Caller::ServerToken(entry));
    }
    if let Some(oauth) = &gate.oauth {
        return oauth
            .authenticate(headers)
            .await
            .map(|grant| Caller::OAuth(Box::new(grant)))
            .map_err(Refusal::Challenge);
    }
    match (&gate.tokens, presented) {
        (None, _) => Ok(Caller::Open),
        (Some(_), None) => Err(Refusal::Unauthorized(
            "this server requires `Authorization: Bearer <server token>`; the Mist token goes in X-Authorization or X-Mist-Token".into(),
        )),
        (Some(_), Some(_)) => Err(Refusal::Unauthorized("invalid or revoked server token".into())),
    }
}

/// What the operator bound to a caller: Mist credentials, a Junos inventory, the session's
/// limits. One shape for server tokens and OAuth rules.
#[derive(Default)]
struct Binding {
    /// Names the caller in the identity of its sessions.
    id: Option<String>,
    token: Option<String>,
    host: Option<String>,
    /// The inventory's path, and whose it is (the key of the gate's cache).
    junos: Option<(String, PathBuf)>,
    show_secrets: bool,
    mode: Option<String>,
    categories: Option<String>,
    /// Write tools are not withheld by the binding.
    writes: bool,
    /// The OAuth write scope the access token lacks.
    missing_write_scope: Option<String>,
}

fn binding(gate: &Gate, caller: &Caller) -> Result<Binding, Refusal> {
    let unreadable = |e: String| {
        tracing::error!("{e}");
        Refusal::Internal(
            "the Mist credentials bound to your access cannot be read; ask the operator".into(),
        )
    };
    Ok(match caller {
        Caller::Open => Binding {
            writes: true,
            ..Binding::default()
        },
        Caller::ServerToken(entry) => {
            let owner = format!("server token `{}`", entry.id);
            let (token, host) = match &entry.mist_env_file {
                Some(path) => env_file_credentials(path, &owner).map_err(unreadable)?,
                None => (None, None),
            };
            Binding {
                id: Some(entry.id.clone()),
                token,
                host,
                junos: entry.junos_devices.clone().map(|p| (owner, p)),
                show_secrets: entry.show_secrets,
                writes: true,
                ..Binding::default()
            }
        }
        Caller::OAuth(grant) => {
            let oauth = gate
                .oauth
                .as_ref()
                .ok_or_else(|| Refusal::Internal("OAuth is not configured".into()))?;
            let rule = &grant.rule;
            let (token, host) = oauth.credentials(rule).map_err(unreadable)?;
            let limits =
                grant.session_limits(&oauth.config().scopes, host, gate.default_cloud.as_deref());
            Binding {
                id: Some(limits.caller),
                token,
                host: Some(limits.cloud),
                junos: rule
                    .junos_devices
                    .as_ref()
                    .map(|p| (format!("OAuth rule {}", rule.label()), oauth.path(p))),
                show_secrets: limits.show_secrets,
                mode: limits.mode,
                categories: limits.categories,
                writes: limits.writes,
                missing_write_scope: limits.missing_write_scope,
            }
        }
    })
}

/// The Mist token a request brings: X-Mist-Token, X-Authorization, then Authorization when it
/// is not the server's own. Credentials bound to the server token win over it (in the
/// request-to-session step): a client cannot send them elsewhere.
fn mist_token(gate: &Gate, headers: &HeaderMap) -> Option<String> {
    header(headers, "x-mist-token")
        .or_else(|| header(headers, "x-authorization"))
        .or_else(|| {
            // An OAuth access token is never a Mist token: it is not passed on.
            (gate.tokens.is_none() && gate.oauth.is_none())
                .then(|| header(headers, "authorization"))
                .flatten()
        })
        .map(strip_scheme)
        .map(str::to_string)
}

/// What the JSON-RPC envelope of a POST says: a batch to serve, or the protocol version of an
/// `initialize`. What rmcp would misread is refused here.
struct Envelope {
    batch: Option<Vec<serde_json::Value>>,
    /// `Some` for an `initialize`, with the version it asks for.
    initialize_version: Option<Option<String>>,
    /// A `tools/call` in it may write.
    writes: bool,
}

fn read_envelope(
    gate: &Gate,
    parts: &http::request::Parts,
    bytes: &[u8],
) -> Result<Envelope, Refusal> {
    let mut envelope = Envelope {
        batch: None,
        initialize_version: None,
        writes: false,
    };
    if parts.method != Method::POST {
        return Ok(envelope);
    }
    let stateless = header(&parts.headers, "mcp-protocol-version")
        .is_some_and(|v| v >= mistcore::jsonrpc::STATELESS_VERSION);
    match envelope::parse(bytes).map_err(|answer| Refusal::Rpc(StatusCode::BAD_REQUEST, answer))? {
        Incoming::Message(message) => {
            if let Err(rejection) = envelope::check(&message, stateless) {
                tracing::warn!("refusing a message: {}", rejection.reason);
                let status = rpc_status(rejection.code(), stateless);
                return Err(rejection
                    .answer
                    .map_or(Refusal::Accepted, |answer| Refusal::Rpc(status, answer)));
            }
            envelope.writes = mistcore::tools::message_may_write(&message);
            if message.get("method").and_then(|m| m.as_str()) == Some("initialize") {
                envelope.initialize_version = Some(
                    message
                        .pointer("/params/protocolVersion")
                        .and_then(|v| v.as_str())
                        .map(str::to_string),
                );
            }
        }
        Incoming::Batch(items) => {
            let session_id = session_id(&parts.headers)?;
            if !gate.sessions.accepts_batches(session_id) {
                tracing::warn!(
                    "refusing a batch outside protocol {}",
                    envelope::BATCH_VERSION
                );
                let negotiated = session_id.map(|_| "another revision");
                return Err(Refusal::Rpc(
                    StatusCode::BAD_REQUEST,
                    envelope::batch_refused(negotiated),
                ));
            }
            envelope.writes = items.iter().any(mistcore::tools::message_may_write);
            envelope.batch = Some(items);
        }
    }
    Ok(envelope)
}

async fn gate(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    admit(&gate, req, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn admit(gate: &Gate, req: Request, next: Next) -> Result<Response, Refusal> {
    let (mut parts, body) = req.into_parts();
    // Who may ask at all is checked before the body is read (a stranger makes the server buffer
    // nothing); those refusals close the connection, whose unread body cannot be reused.
    check_origin(gate, &parts.headers).map_err(Refusal::closing)?;
    let caller = caller(gate, &parts.headers)
        .await
        .map_err(Refusal::closing)?;
    let bytes = read_body(body, gate.max_body_bytes, gate.body_timeout).await?;
    let bound = binding(gate, &caller)?;

    // Cloud, mode and categories from the query: the one request-to-session step.
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let mut defaults = gate.defaults.clone();
    // Secrets are shown only where the operator chose it: for the server, a token or a rule.
    defaults.show_secrets |= bound.show_secrets;
    defaults.write_tools &= bound.writes;
    if let Some((owner, path)) = &bound.junos {
        defaults.junos = Some(bound_junos(gate, owner, path)?);
    }
    defaults.missing_token_advice = if gate.oauth.is_some() {
        "ask the operator to bind Mist credentials to your identity in the OAuth configuration"
    } else if gate.tokens.is_some() {
        "send it with each request in the X-Mist-Token (or X-Authorization) header, or ask the operator to bind one to your server token (mistmcp tokens create --mist-env-file)"
    } else {
        "send it with each request in the `Authorization: Bearer <Mist token>` header (or X-Mist-Token)"
    };
    let request = SessionRequest {
        cloud: param("cloud"),
        // A rule's mode and categories are the operator's: the query does not change them.
        mode: bound.mode.as_deref().or(param("mode")),
        categories: bound.categories.as_deref().or(param("categories")),
        token: match caller {
            // A user signed in with OAuth never brings a Mist token.
            Caller::OAuth(_) => None,
            _ => mist_token(gate, &parts.headers),
        },
        bound_cloud: bound.host.as_deref(),
        bound_token: bound.token.clone(),
    };
    let server = ServerSettings {
        defaults: &defaults,
        default_cloud: gate.default_cloud.as_deref(),
        api_url: gate.api_url.as_ref(),
    };
    let resolved = resolve(&request, server).map_err(|e| Refusal::BadRequest(e.to_string()))?;
    let debug = param("debug").is_some_and(|d| d == "true" || d == "1");
    let Envelope {
        batch,
        initialize_version,
        writes,
    } = read_envelope(gate, &parts, &bytes)?;
    // A call that may write needs the write scope: the 403 tells the client which to ask for
    // (where writes are on at all: else the session's own refusal says so).
    if writes
        && defaults.write_tools
        && let (Caller::OAuth(grant), Some(oauth)) = (&caller, &gate.oauth)
        && let Some(challenge) = oauth.write_refused(grant)
    {
        return Err(Refusal::Challenge(challenge));
    }

    let identity =
        mistcore::session_request::caller_identity(bound.id.as_deref(), &resolved.credentials);
    let session_id = session_id(&parts.headers)?;
    // A session is built only for a request that may start one (an initialize, or a request
    // outside any session): one in a known session finds its own in the gate's cell.
    let mut session = match session_id {
        None => Some(
            resolved
                .session()
                .map_err(|e| Refusal::BadRequest(e.to_string()))?,
        ),
        Some(_) => None,
    };
    // The state of the request's session: the gate keeps it for the session's life.
    let mut cell = Arc::default();
    // A new session only in a free slot.
    let mut reservation = None;
    // A request in a known session keeps it awake until its answer is sent.
    let mut in_flight = None;
    match (session_id, &initialize_version) {
        (None, Some(version)) => {
            reservation = Some(
                gate.sessions
                    .reserve(&identity, version.as_deref(), Arc::clone(&cell))
                    .ok_or_else(|| {
                        tracing::warn!(
                            max = gate.sessions.max(),
                            "session limit reached: refusing a new session"
                        );
                        Refusal::Unavailable(format!(
                            "the server holds its maximum of {} sessions; retry later",
                            gate.sessions.max()
                        ))
                    })?,
            );
        }
        // A session serves only who opened it, whatever the method (a POST of any kind, the GET
        // stream, DELETE): anyone else is told it does not exist, before rmcp sees the request.
        (Some(id), _) => match gate.sessions.enter(id, &identity) {
            Ok(Some(mut entered)) => {
                // A session whose worker is stopping (hibernating) is woken after it stopped.
                entered.ready().await;
                cell = Arc::clone(&entered.cell);
                in_flight = Some(entered);
            }
            Ok(None) => {
                return Err(Refusal::NotFound(
                    "unknown or expired session: initialize a new one".into(),
                ));
            }
            Err(()) => {
                tracing::warn!("refusing a request on a session opened with other credentials");
                return Err(Refusal::NotFound(
                    "unknown session: initialize a session of your own".into(),
                ));
            }
        },
        (None, None) => {}
    }
    // A request outside any session (protocol 2026-07-28) uses its caller's handles.
    if let Some(session) = &mut session
        && session.secrets.is_some()
        && initialize_version.is_none()
    {
        session.secrets = Some(
            gate.redactors
                .for_caller(&identity)
                .map_err(|e| Refusal::Internal(e.to_string()))?,
        );
    }
    // For the log line of a new session.
    let opening = session.as_ref().filter(|_| reservation.is_some()).map(|s| {
        (
            s.credentials.base.host_str().unwrap_or("").to_string(),
            s.mode,
        )
    });
    parts.extensions.insert(RequestSession {
        session,
        debug,
        identity: identity.clone(),
        cell,
        missing_write_scope: bound.missing_write_scope.clone(),
    });
    // When the client goes away before the answer is complete, its call is cancelled (and
    // with it the request to Mist): the token is cancelled when the answer's body is dropped.
    let gone = CancellationToken::new();
    parts.extensions.insert(ClientGone(gone.clone()));
    let is_delete = parts.method == Method::DELETE;
    let mut response = match (batch, reservation) {
        (Some(items), _) => batch::serve(gate.mcp.clone(), &parts, items).await,
        // The session rmcp creates for this initialize takes the reserved slot.
        (None, Some(reservation)) => {
            reservation
                .scope(next.run(Request::from_parts(parts, Body::from(bytes))))
                .await
        }
        (None, None) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    };
    if let Some((cloud, mode)) = opening
        && let Some(id) = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
    {
        // The initialize's answer is in flight in its new session until sent.
        in_flight = gate.sessions.enter(id, &identity).ok().flatten();
        let (active, _) = gate.sessions.open();
        match &caller {
            Caller::OAuth(grant) => {
                tracing::info!(active, max = gate.sessions.max(), %mode, %cloud, subject = %grant.identity.subject, issuer = %grant.identity.issuer, "new session")
            }
            _ => tracing::info!(active, max = gate.sessions.max(), %mode, %cloud, "new session"),
        }
        gate.service.set_sessions(active);
    }
    // A closed session is answered 200: clients (the Python SDK) count a 202 as a failure.
    if is_delete && response.status() == StatusCode::ACCEPTED {
        *response.status_mut() = StatusCode::OK;
    }
    let guard = gone.drop_guard();
    Ok(response.map(|body| {
        Body::from_stream(body.into_data_stream().map(move |chunk| {
            let _alive = (&guard, &in_flight);
            chunk
        }))
    }))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Serves MCP over HTTP until the process is stopped.
pub async fn serve(opts: HttpOptions) -> anyhow::Result<()> {
    let tokens = match &opts.tokens_file {
        Some(path) if path.exists() => Some(TokenStore::open(path)?),
        _ => None,
    };
    if tokens.is_none() && opts.oauth.is_none() && !is_loopback(&opts.host) {
        if !opts.allow_unauthenticated {
            bail!(
                "refusing to serve {} without access control: create a server token (`mistmcp tokens create --id <name>`) or pass --allow-unauthenticated",
                opts.host
            );
        }
        tracing::warn!(
            "--allow-unauthenticated: anyone who reaches {}:{} can use this server",
            opts.host,
            opts.port
        );
    }
    match &tokens {
        Some(_) => tracing::info!(
            "server tokens required ({})",
            opts.tokens_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        None if opts.oauth.is_some() => {}
        None => {
            tracing::info!("no server token store: loopback clients only need their Mist token")
        }
    }

    let mut manager = LocalSessionManager::default();
    // Idle sessions hibernate and expire by the gate's clock, which sees requests in flight
    // (rmcp's keep-alive would end a session in the middle of a long call).
    manager.session_config.keep_alive = None;
    let slots = sessions::SessionSlots::new(opts.max_sessions);
    let sessions = Arc::new(sessions::CountedSessions::new(
        manager,
        slots.clone(),
        opts.service.memory.clone(),
    ));
    tokio::spawn(opts.service.memory.clone().run());
    let mut config =
        StreamableHttpServerConfig::default().with_max_request_body_bytes(opts.max_body_bytes);
    // What a hibernating session wakes with.
    config.session_store = Some(Arc::new(sessions::Hibernation(slots.clone())));
    let hosts: Vec<String> = if !opts.allowed_hosts.is_empty() {
        opts.allowed_hosts.clone()
    } else if opts.host == "0.0.0.0" || opts.host == "::" {
        Vec::new()
    } else {
        let mut h = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        if !h.contains(&opts.host) {
            h.push(opts.host.clone());
        }
        h
    };
    let host_checked = !hosts.is_empty();
    config = if hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(hosts)
    };
    let service = opts.service.clone();
    let service = StreamableHttpService::new(
        move || Ok(MistServer::from_requests(service.clone())),
        sessions.clone(),
        config,
    );
    if let Some(oauth) = opts.oauth.clone() {
        // In the background: a slow identity provider does not delay serving.
        tokio::spawn(async move { oauth.prefetch().await });
    }
    let gate_state = Arc::new(Gate {
        tokens,
        oauth: opts.oauth.clone(),
        defaults: opts.defaults.clone(),
        junos_known_hosts: opts.junos_known_hosts.clone(),
        junos: Default::default(),
        default_cloud: opts.default_cloud.clone(),
        api_url: opts.api_url.clone(),
        max_body_bytes: opts.max_body_bytes,
        body_timeout: opts.body_timeout,
        sessions: slots,
        manager: sessions.clone(),
        idle_timeout: opts.idle_timeout,
        hibernate_after: opts.hibernate_after,
        service: opts.service.clone(),
        allowed_origins: opts.allowed_origins.clone(),
        loopback: is_loopback(&opts.host),
        host_checked,
        mcp: service.clone(),
        redactors: mistcore::redact::Redactors::new(SESSIONLESS_REDACTORS),
    });
    let app = axum::Router::new()
        .route_service("/mcp", service.clone())
        .route_service("/mcp/", service)
        .layer(middleware::from_fn_with_state(gate_state.clone(), gate));
    // The resource metadata is public: outside the gate.
    let app = match &opts.oauth {
        Some(oauth) => app.merge(oauth::metadata_routes(oauth.clone())),
        None => app,
    };

    tracing::info!(
        idle_timeout = %humantime::format_duration(opts.idle_timeout),
        max_sessions = opts.max_sessions,
        "sessions expire when idle and are capped"
    );
    tokio::spawn(report_sessions(gate_state));

    let addr: SocketAddr = tokio::net::lookup_host((opts.host.as_str(), opts.port))
        .await
        .with_context(|| format!("cannot resolve {}", opts.host))?
        .next()
        .with_context(|| format!("no address for {}", opts.host))?;
    let tls = opts
        .tls
        .as_ref()
        .map(|(cert, key)| listener::tls_acceptor(cert, key))
        .transpose()?;
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind {addr}"))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("serving MCP on {scheme}://{}/mcp", tcp.local_addr()?);
    listener::serve(tcp, tls, app, opts.connections).await
}

/// Once a second: hibernates the sessions idle since `--session-hibernate-after`, forgets those
/// idle since `--session-idle-timeout`, and logs the number of sessions when it drops.
async fn report_sessions(gate: Arc<Gate>) {
    let mut last = 0usize;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let due = gate.sessions.due(gate.hibernate_after, gate.idle_timeout);
        if !due.hibernate.is_empty() {
            tracing::debug!(count = due.hibernate.len(), "idle sessions hibernated");
        }
        for (id, stopping) in due.hibernate {
            gate.manager.stop_worker(&id).await;
            gate.sessions.stopped(&id);
            drop(stopping);
        }
        for id in &due.expired {
            gate.manager.stop_worker(id).await;
        }
        let (now, asleep) = gate.sessions.open();
        gate.service.set_sessions(now);
        if now < last {
            tracing::info!(
                closed = last - now,
                active = now,
                hibernating = asleep,
                "sessions closed or expired"
            );
        }
        last = now;
    }
}
