//! A small JSON-RPC dispatcher for hosts where rmcp's runtime cannot run (wasm32 edge hosts):
//! one MCP message in, at most one message out, for a session the host keeps.

use crate::api::HttpTransport;
use crate::mcp::{self, CallContext, CallError, Elicitor};
use crate::session::Session;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use serde_json::{Value, json};

/// What dispatching one message produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatched {
    /// The answer, `None` for a notification.
    pub response: Option<Value>,
    /// Whether the session's categories changed (the host persists it, and may notify).
    pub session_changed: bool,
}

fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

fn result(id: Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// The protocol version answered to `initialize`: the client's when this server knows it,
/// else the newest handshake version it knows.
pub fn negotiate(requested: Option<&str>) -> String {
    let known: Vec<String> = ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .map(|v| v.to_string())
        .collect();
    match requested {
        Some(r) if known.iter().any(|k| k == r) && r != "2026-07-28" => r.to_string(),
        _ => ProtocolVersion::default().to_string(),
    }
}

/// Handles one JSON-RPC message for `session`.
///
/// Parse and shape errors get JSON-RPC errors (`-32700`, `-32600`), unknown methods `-32601`,
/// unknown tools `-32602`; tool problems are tool results with `isError`.
pub async fn dispatch(
    message: &str,
    session: &mut Session,
    transport: &dyn HttpTransport,
    elicitor: &dyn Elicitor,
) -> Dispatched {
    let none = |response| Dispatched {
        response,
        session_changed: false,
    };
    let value: Value = match serde_json::from_str(message) {
        Ok(v) => v,
        Err(e) => {
            return none(Some(error(
                Value::Null,
                -32700,
                format!("Parse error: {e}"),
            )));
        }
    };
    let Some(method) = value.get("method").and_then(Value::as_str) else {
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        return none(Some(error(id, -32600, "Invalid request: no `method`")));
    };
    let Some(id) = value.get("id").cloned() else {
        return none(None); // a notification: nothing to answer
    };
    let params = value.get("params").cloned().unwrap_or(json!({}));
    match method {
        "initialize" => {
            session.client.elicitation = params.pointer("/capabilities/elicitation").is_some();
            let mut config = serde_json::to_value(mcp::server_config()).unwrap_or(json!({}));
            config["protocolVersion"] = json!(negotiate(
                params.get("protocolVersion").and_then(Value::as_str)
            ));
            none(Some(result(id, config)))
        }
        "ping" => none(Some(result(id, json!({})))),
        "server/discover" => {
            let config = serde_json::to_value(mcp::stateless_server_config()).unwrap_or(json!({}));
            none(Some(result(
                id,
                json!({
                    "supportedVersions": ProtocolVersion::KNOWN_VERSIONS.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    "capabilities": config["capabilities"],
                    "serverInfo": config["serverInfo"],
                    "instructions": config["instructions"],
                }),
            )))
        }
        "tools/list" => none(Some(result(
            id,
            json!({ "tools": mcp::list_tools(session) }),
        ))),
        "tools/call" => {
            let call: CallToolRequestParams = match serde_json::from_value(params) {
                Ok(c) => c,
                Err(e) => return none(Some(error(id, -32602, format!("Invalid params: {e}")))),
            };
            let ctx = CallContext {
                session,
                transport,
                elicitor,
            };
            match mcp::call_tool(ctx, &call.name, call.arguments).await {
                Ok(outcome) => {
                    let changed = outcome.change.as_ref().is_some_and(|c| session.apply(c));
                    Dispatched {
                        response: Some(result(
                            id,
                            serde_json::to_value(&outcome.result).unwrap_or(json!({})),
                        )),
                        session_changed: changed,
                    }
                }
                Err(e @ CallError::UnknownTool { .. }) => {
                    none(Some(error(id, -32602, e.to_string())))
                }
            }
        }
        other => none(Some(error(
            id,
            -32601,
            format!("Method not found: {other}"),
        ))),
    }
}
