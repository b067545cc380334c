//! A small JSON-RPC dispatcher for hosts where rmcp's runtime cannot run (wasm32 edge hosts):
//! one MCP message in, at most one message out, for a session the host keeps.
//!
//! It answers both lifecycles of MCP over HTTP as rmcp's streamable HTTP server does:
//! - the handshake revisions (up to 2025-11-25): `initialize`, then requests on a session;
//! - protocol 2026-07-28, sessionless: every request carries its protocol version and the
//!   client's capabilities in `_meta` and the `MCP-Protocol-Version`, `Mcp-Method` and
//!   `Mcp-Name` headers, which must agree with the body; `server/discover` replaces the
//!   handshake, and write confirmations travel as multi round-trip requests
//!   ([`crate::round_trip`]).

use crate::api::HttpTransport;
use crate::call::CallContext;
use crate::envelope::{self, Incoming};
use crate::host::Service;
use crate::mcp::{self, CallError};
use crate::policy::Confirm;
use crate::request_state::StateKey;
use crate::round_trip::{MissingCapability, RoundTrip, StateCheck};
use crate::session::Session;
use crate::session_store::{SessionStore, StoredSession};
use rmcp::model::{CallToolRequestParams, DiscoverResult, ProtocolVersion};
use serde_json::{Value, json};

/// The sessionless protocol revision.
pub const STATELESS_VERSION: &str = "2026-07-28";
/// The `_meta` key of a request's protocol version (2026-07-28).
pub const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key of the client's capabilities (2026-07-28).
pub const CLIENT_CAPABILITIES_META: &str = "io.modelcontextprotocol/clientCapabilities";

/// The HTTP headers MCP ties to a message; all absent on transports without headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name` (the tool name of a `tools/call`).
    pub name: Option<String>,
}

/// What dispatching one message produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatched {
    /// The answer, `None` for a notification.
    pub response: Option<Value>,
    /// The HTTP status to answer with: 200 with an answer, 202 without, 400 or 404 for the
    /// protocol errors that the streamable HTTP transport ties to a status.
    pub status: u16,
    /// Whether the session's categories changed (the host persists it, and may notify).
    pub session_changed: bool,
    /// An `initialize` succeeded: a session begins (the host gives it an `Mcp-Session-Id`).
    pub initialized: bool,
}

impl Dispatched {
    fn answer(response: Value) -> Self {
        Dispatched {
            response: Some(response),
            status: 200,
            session_changed: false,
            initialized: false,
        }
    }
}

/// A message that gets no answer (a notification, a response): `202 Accepted`.
fn accepted() -> Dispatched {
    Dispatched {
        response: None,
        status: 202,
        ..Dispatched::answer(Value::Null)
    }
}

/// A request refused before it reaches a method.
struct Refusal {
    status: u16,
    code: i64,
    message: String,
    data: Option<Value>,
}

impl Refusal {
    fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            data: None,
        }
    }

    fn header_mismatch(message: impl Into<String>) -> Self {
        Refusal::new(400, -32020, message)
    }

    fn into_dispatched(self, id: Value) -> Dispatched {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(data) = self.data {
            error["data"] = data;
        }
        Dispatched {
            status: self.status,
            ..Dispatched::answer(json!({ "jsonrpc": "2.0", "id": id, "error": error }))
        }
    }
}

fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

fn result(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

fn is_known(version: &str) -> bool {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .any(|k| k.as_str() == version)
}

fn known_versions() -> Vec<String> {
    ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .map(|v| v.to_string())
        .collect()
}

/// The protocol version answered to `initialize`: the client's when this server knows it,
/// else the newest handshake version it knows.
pub fn negotiate(requested: Option<&str>) -> String {
    match requested {
        Some(r) if is_known(r) && r != STATELESS_VERSION => r.to_string(),
        _ => ProtocolVersion::default().to_string(),
    }
}

/// Which lifecycle a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    /// `initialize` and requests on its session.
    Handshake,
    /// Protocol 2026-07-28: each request stands alone.
    Stateless,
}

/// Checks the versions of the header and `_meta` against each other and the method, as
/// protocol 2026-07-28 requires, and says which lifecycle the request follows.
fn lifecycle(
    method: &str,
    params: &Value,
    headers: &Headers,
    is_request: bool,
) -> Result<Lifecycle, Refusal> {
    let header = headers.protocol_version.as_deref().map(str::trim);
    let meta = params.get("_meta");
    let meta_version = meta
        .and_then(|m| m.get(PROTOCOL_VERSION_META))
        .and_then(Value::as_str);
    if method == "initialize" {
        let body_version = params.get("protocolVersion").and_then(Value::as_str);
        return match (header, body_version) {
            (Some(h), Some(b)) if h != b => Err(Refusal::new(
                400,
                -32600,
                format!(
                    "Invalid Request: MCP-Protocol-Version header ({h}) does not match initialize params.protocolVersion ({b})"
                ),
            )),
            (_, Some(_)) => Ok(Lifecycle::Handshake),
            // A 2026-07-28 client has no handshake.
            _ if meta_version.is_some() || header.is_some_and(|h| h >= STATELESS_VERSION) => {
                Err(removed(method))
            }
            _ => Ok(Lifecycle::Handshake),
        };
    }
    match (meta_version, header) {
        (Some(_), None) => {
            return Err(Refusal::header_mismatch(
                "request _meta protocolVersion requires MCP-Protocol-Version header",
            ));
        }
        (Some(m), Some(h)) if m != h => {
            return Err(Refusal::header_mismatch(format!(
                "MCP-Protocol-Version header ({h}) does not match request _meta protocolVersion ({m})"
            )));
        }
        _ => {}
    }
    let stateless = method == "server/discover"
        || meta_version.is_some()
        || header.is_some_and(|h| h >= STATELESS_VERSION);
    if !stateless || !is_request {
        return Ok(Lifecycle::Handshake);
    }
    let missing: Vec<&str> = [
        (PROTOCOL_VERSION_META, meta_version.is_some()),
        (
            CLIENT_CAPABILITIES_META,
            meta.and_then(|m| m.get(CLIENT_CAPABILITIES_META))
                .is_some_and(Value::is_object),
        ),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(key, _)| key)
    .collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            400,
            -32602,
            format!(
                "Invalid params: request _meta is missing or has malformed required fields: {}",
                missing.join(", ")
            ),
        ));
    }
    let version = meta_version.unwrap_or_default();
    if !is_known(version) {
        return Err(Refusal {
            data: Some(json!({ "requested": version, "supported": known_versions() })),
            ..Refusal::new(400, -32022, "Unsupported protocol version")
        });
    }
    if version < STATELESS_VERSION && method != "server/discover" {
        return Ok(Lifecycle::Handshake);
    }
    check_method_headers(method, params, headers)?;
    Ok(Lifecycle::Stateless)
}

/// `Mcp-Method` must equal the body's method, and `Mcp-Name` a `tools/call`'s tool name
/// (values are case-sensitive; surrounding whitespace is not part of them).
fn check_method_headers(method: &str, params: &Value, headers: &Headers) -> Result<(), Refusal> {
    match headers.method.as_deref().map(str::trim) {
        None => {
            return Err(Refusal::header_mismatch(
                "missing required Mcp-Method header",
            ));
        }
        Some(h) if h != method => {
            return Err(Refusal::header_mismatch(format!(
                "Mcp-Method header `{h}` does not match body method `{method}`"
            )));
        }
        Some(_) => {}
    }
    if method == "tools/call"
        && let Some(name) = params.get("name").and_then(Value::as_str)
    {
        match headers.name.as_deref().map(str::trim) {
            None => return Err(Refusal::header_mismatch("missing required Mcp-Name header")),
            Some(h) if h != name => {
                return Err(Refusal::header_mismatch(format!(
                    "Mcp-Name header `{h}` does not match body value `{name}`"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn removed(method: &str) -> Refusal {
    Refusal::new(404, -32601, format!("Method not found: {method}"))
}

/// Handles one JSON-RPC message for `session`, with the HTTP headers that came with it.
///
/// Parse and shape errors get JSON-RPC errors (`-32700`, `-32600`), unknown methods `-32601`,
/// unknown tools `-32602`; tool problems are tool results with `isError`. Requests of protocol
/// 2026-07-28 are checked as that revision requires (see the module documentation); their
/// write confirmations are asked through the answer, handshake clients' through `confirm`.
/// `service` is what the host offers tool calls beyond Mist (device streams, its clock).
pub async fn dispatch(
    message: &str,
    headers: &Headers,
    session: &mut Session,
    transport: &dyn HttpTransport,
    service: &dyn Service,
    confirmations: Confirmations<'_>,
) -> Dispatched {
    let value: Value = match serde_json::from_str(message) {
        Ok(v) => v,
        Err(e) => {
            return Dispatched {
                status: 400,
                ..Dispatched::answer(error(Value::Null, -32700, format!("Parse error: {e}")))
            };
        }
    };
    let claims_stateless = headers
        .protocol_version
        .as_deref()
        .is_some_and(|v| v.trim() >= STATELESS_VERSION);
    if let Err(rejection) = envelope::check(&value, claims_stateless) {
        let status = match rejection.code() {
            Some(envelope::INVALID_PARAMS) if !claims_stateless => 200,
            _ => 400,
        };
        return match rejection.answer {
            Some(answer) => Dispatched {
                status,
                ..Dispatched::answer(answer)
            },
            None => accepted(),
        };
    }
    let Some(method) = value.get("method").and_then(Value::as_str) else {
        // A response of the client: this dispatcher sends no requests, so nothing awaits it.
        return accepted();
    };
    let id = value.get("id").cloned();
    let params = value.get("params").cloned().unwrap_or(json!({}));
    let lifecycle = match lifecycle(method, &params, headers, id.is_some()) {
        Ok(l) => l,
        Err(refusal) => return refusal.into_dispatched(id.unwrap_or(Value::Null)),
    };
    let Some(id) = id else {
        // A notification: nothing to answer.
        return accepted();
    };
    match lifecycle {
        Lifecycle::Handshake => {
            handshake(
                id,
                method,
                params,
                session,
                transport,
                service,
                confirmations.handshake,
            )
            .await
        }
        Lifecycle::Stateless => {
            stateless(
                id,
                method,
                params,
                session,
                transport,
                service,
                confirmations,
            )
            .await
        }
    }
}

async fn handshake(
    id: Value,
    method: &str,
    params: Value,
    session: &mut Session,
    transport: &dyn HttpTransport,
    service: &dyn Service,
    confirm: &dyn Confirm,
) -> Dispatched {
    match method {
        "initialize" => {
            session.client.elicitation = params.pointer("/capabilities/elicitation").is_some();
            let mut config = serde_json::to_value(mcp::server_config()).unwrap_or(json!({}));
            config["protocolVersion"] = json!(negotiate(
                params.get("protocolVersion").and_then(Value::as_str)
            ));
            Dispatched {
                initialized: true,
                ..Dispatched::answer(result(id, config))
            }
        }
        "ping" => Dispatched::answer(result(id, json!({}))),
        "tools/list" => {
            Dispatched::answer(result(id, json!({ "tools": mcp::list_tools(session) })))
        }
        "tools/call" => {
            let call: CallToolRequestParams = match serde_json::from_value(params) {
                Ok(c) => c,
                Err(e) => {
                    return Dispatched::answer(error(id, -32602, format!("Invalid params: {e}")));
                }
            };
            call_tool(id, call, session, transport, service, confirm, None).await
        }
        other => Dispatched::answer(error(id, -32601, format!("Method not found: {other}"))),
    }
}

async fn stateless(
    id: Value,
    method: &str,
    params: Value,
    session: &mut Session,
    transport: &dyn HttpTransport,
    service: &dyn Service,
    confirmations: Confirmations<'_>,
) -> Dispatched {
    session.client.elicitation = params
        .pointer("/_meta")
        .and_then(|m| m.get(CLIENT_CAPABILITIES_META))
        .and_then(|c| c.get("elicitation"))
        .is_some();
    session.client.sessionless = true;
    match method {
        "server/discover" => {
            let discover = DiscoverResult::from_server_info(
                ProtocolVersion::KNOWN_VERSIONS.to_vec(),
                mcp::stateless_server_config(),
            );
            Dispatched::answer(result(
                id,
                serde_json::to_value(discover).unwrap_or(json!({})),
            ))
        }
        "tools/list" => Dispatched::answer(result(
            id,
            json!({
                "resultType": "complete",
                "ttlMs": 0,
                "cacheScope": "private",
                "tools": mcp::list_tools(session),
            }),
        )),
        "tools/call" => {
            let call: CallToolRequestParams = match serde_json::from_value(params) {
                Ok(c) => c,
                Err(e) => {
                    return Refusal::new(400, -32602, format!("Invalid params: {e}"))
                        .into_dispatched(id);
                }
            };
            let caller = crate::session_request::caller_identity(
                confirmations.server_token,
                &session.credentials,
            );
            let check = StateCheck {
                key: confirmations.state_key,
                caller: &caller,
                now: confirmations.now,
            };
            let round_trip = match RoundTrip::for_call(session, &call, check) {
                Ok(r) => r,
                Err(missing) => {
                    return Refusal {
                        data: Some(missing.data),
                        ..Refusal::new(400, MissingCapability::CODE, missing.message)
                    }
                    .into_dispatched(id);
                }
            };
            call_tool(
                id,
                call,
                session,
                transport,
                service,
                &round_trip,
                Some(&round_trip),
            )
            .await
        }
        other => removed(other).into_dispatched(id),
    }
}

async fn call_tool(
    id: Value,
    call: CallToolRequestParams,
    session: &mut Session,
    transport: &dyn HttpTransport,
    service: &dyn Service,
    confirm: &dyn Confirm,
    round_trip: Option<&RoundTrip<'_>>,
) -> Dispatched {
    let ctx = CallContext {
        session,
        transport,
        confirm,
        service,
        progress: None,
    };
    match mcp::call_tool(ctx, &call.name, call.arguments).await {
        Ok(outcome) => {
            if let Some(input) = round_trip.and_then(RoundTrip::input_required) {
                return Dispatched::answer(result(
                    id,
                    serde_json::to_value(input).unwrap_or(json!({})),
                ));
            }
            let changed = outcome.change.as_ref().is_some_and(|c| session.apply(c));
            let mut answer = serde_json::to_value(&outcome.result).unwrap_or(json!({}));
            if round_trip.is_some() {
                answer["resultType"] = json!("complete");
            }
            Dispatched {
                session_changed: changed,
                ..Dispatched::answer(result(id, answer))
            }
        }
        Err(e @ CallError::UnknownTool { .. }) => {
            Dispatched::answer(error(id, -32602, e.to_string()))
        }
    }
}

/// One HTTP exchange for a host that keeps sessions in a [`SessionStore`].
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The request body: one JSON-RPC message.
    pub message: &'a str,
    /// The MCP headers of the request.
    pub headers: &'a Headers,
    /// `Mcp-Session-Id`, when the client sent one.
    pub session_id: Option<&'a str>,
}

/// What [`serve`] answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The HTTP status.
    pub status: u16,
    /// The JSON-RPC answer, if any.
    pub response: Option<Value>,
    /// The `Mcp-Session-Id` of a session this exchange opened.
    pub new_session_id: Option<String>,
}

/// What a host without a long-lived process needs to serve an exchange.
#[derive(Clone, Copy)]
pub struct Host<'a> {
    /// Where sessions live between requests.
    pub store: &'a dyn SessionStore,
    /// The way to Mist.
    pub transport: &'a dyn HttpTransport,
    /// What the host offers beyond one call: its clock, device streams and command deadline
    /// ([`crate::host::NoService`] where it has none).
    pub service: &'a dyn Service,
    /// How writes are confirmed.
    pub confirmations: Confirmations<'a>,
    /// Makes a new, unguessable session id.
    pub new_session_id: &'a dyn Fn() -> String,
}

/// How writes are confirmed: by the human through the host for handshake clients, through
/// the answers (with a `requestState` of the server's key) for sessionless ones.
#[derive(Clone, Copy)]
pub struct Confirmations<'a> {
    /// The way to the human for handshake clients.
    pub handshake: &'a dyn Confirm,
    /// Issues and redeems the `requestState` of sessionless confirmations.
    pub state_key: &'a StateKey,
    /// The server token the request presented (its id or hash), part of the caller's identity.
    pub server_token: Option<&'a str>,
    /// Now, in Unix seconds.
    pub now: u64,
}

/// Serves one exchange: restores the session named by `Mcp-Session-Id` (404 when unknown or
/// expired), dispatches the message on `session` (built from this request's configuration),
/// and keeps the session's state: a new one after `initialize`, the same one after any other
/// request (which also counts as activity). A failing store answers 503 and changes nothing.
///
/// A batch (a JSON array) is served only on a session that negotiated protocol 2025-03-26,
/// message by message, its answers returned as one array.
pub async fn serve(exchange: Exchange<'_>, mut session: Session, host: Host<'_>) -> Served {
    let unavailable = |e: crate::session_store::StoreError| Served {
        status: 503,
        response: Some(error(Value::Null, -32603, format!("{e}: try again"))),
        new_session_id: None,
    };
    let mut version = None;
    if let Some(id) = exchange.session_id {
        match host.store.load(id).await {
            Ok(Some(state)) => {
                state.restore(&mut session);
                version = state.protocol_version;
            }
            Ok(None) => {
                return Served {
                    status: 404,
                    response: Some(error(
                        Value::Null,
                        -32001,
                        "unknown or expired session: initialize again",
                    )),
                    new_session_id: None,
                };
            }
            Err(e) => return unavailable(e),
        }
    }
    let dispatched = match envelope::parse(exchange.message.as_bytes()) {
        Ok(Incoming::Batch(items)) if envelope::allows_batches(version.as_deref()) => {
            serve_batch(items, exchange.headers, &mut session, host).await
        }
        Ok(Incoming::Batch(_)) => Dispatched {
            status: 400,
            ..Dispatched::answer(envelope::batch_refused(version.as_deref()))
        },
        _ => {
            dispatch(
                exchange.message,
                exchange.headers,
                &mut session,
                host.transport,
                host.service,
                host.confirmations,
            )
            .await
        }
    };
    let keep = if dispatched.initialized {
        version = dispatched
            .response
            .as_ref()
            .and_then(|r| r.pointer("/result/protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Some((host.new_session_id)())
    } else {
        exchange.session_id.map(str::to_string)
    };
    if let Some(id) = &keep {
        let state = StoredSession {
            protocol_version: version,
            ..StoredSession::of(&session)
        };
        if let Err(e) = host.store.save(id, &state).await {
            return unavailable(e);
        }
    }
    Served {
        status: dispatched.status,
        response: dispatched.response,
        new_session_id: keep.filter(|_| dispatched.initialized),
    }
}

/// The messages of a batch, one after the other; the answers as one array (202 without any).
async fn serve_batch(
    items: Vec<Value>,
    headers: &Headers,
    session: &mut Session,
    host: Host<'_>,
) -> Dispatched {
    let mut answers = Vec::new();
    let mut changed = false;
    for item in items {
        if let Err(rejection) = envelope::check_batch_member(&item) {
            answers.extend(rejection.answer);
            continue;
        }
        let one = dispatch(
            &item.to_string(),
            headers,
            session,
            host.transport,
            host.service,
            host.confirmations,
        )
        .await;
        changed |= one.session_changed;
        answers.extend(one.response);
    }
    if answers.is_empty() {
        return Dispatched {
            session_changed: changed,
            ..accepted()
        };
    }
    Dispatched {
        session_changed: changed,
        ..Dispatched::answer(Value::Array(answers))
    }
}
