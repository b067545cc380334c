//! JSON-RPC envelopes: what a message must look like before any method sees it, and batches.
//!
//! rmcp reads any object with a string `method` as a request (unknown shapes become custom
//! requests, answered "method not found"), and answers unreadable messages without their
//! `id`. Every frontend (stdio, the HTTP gate, the edge dispatcher) checks each message here
//! first, so a malformed one gets the answer JSON-RPC 2.0 and MCP ask for: its `id` (or `null`
//! when it cannot be read), `-32600` for an invalid request, `-32602` for parameters of the
//! wrong shape, `-32700` for text that is not JSON.
//!
//! Batches (a JSON array of messages) exist only in protocol 2025-03-26, which requires
//! servers to accept them; earlier and later revisions have none ([`allows_batches`]).

use rmcp::model::{InitializeRequestParams, PaginatedRequestParams};
use serde_json::{Value, json};

/// The only protocol revision with JSON-RPC batches.
pub const BATCH_VERSION: &str = "2025-03-26";

/// The most messages one batch may hold.
pub const MAX_BATCH: usize = 100;

/// JSON-RPC's parse error.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's invalid request.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's invalid params.
pub const INVALID_PARAMS: i64 = -32602;

/// Whether a session that negotiated `version` accepts batches.
pub fn allows_batches(version: Option<&str>) -> bool {
    version == Some(BATCH_VERSION)
}

/// A JSON-RPC error answer.
pub fn error(id: Value, code: i64, message: impl Into<String>) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message.into() } })
}

/// What a body or a line holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// One message (checked with [`check`] before use).
    Message(Value),
    /// A non-empty array of messages.
    Batch(Vec<Value>),
}

/// Reads a body or a line: one message, or a batch. Text that is not JSON is a parse error,
/// an empty array or a JSON value that is neither object nor array an invalid request; both
/// answered with id `null`.
pub fn parse(bytes: &[u8]) -> Result<Incoming, Value> {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) => Err(error(
            Value::Null,
            PARSE_ERROR,
            format!("Parse error: not valid JSON ({e}); send one JSON-RPC 2.0 message"),
        )),
        Ok(Value::Array(items)) if items.is_empty() => Err(error(
            Value::Null,
            INVALID_REQUEST,
            "Invalid Request: an empty batch",
        )),
        Ok(Value::Array(items)) if items.len() > MAX_BATCH => Err(error(
            Value::Null,
            INVALID_REQUEST,
            format!(
                "Invalid Request: a batch of {} messages is over the limit of {MAX_BATCH}: send fewer at once",
                items.len()
            ),
        )),
        Ok(Value::Array(items)) => Ok(Incoming::Batch(items)),
        Ok(value @ Value::Object(_)) => Ok(Incoming::Message(value)),
        Ok(_) => Err(error(
            Value::Null,
            INVALID_REQUEST,
            "Invalid Request: a JSON-RPC message is an object",
        )),
    }
}

/// The answer to a batch sent where batches do not exist.
pub fn batch_refused(version: Option<&str>) -> Value {
    let negotiated = version.map_or_else(
        || "no protocol version was negotiated yet".to_string(),
        |v| format!("this session negotiated {v}"),
    );
    error(
        Value::Null,
        INVALID_REQUEST,
        format!(
            "Invalid Request: JSON-RPC batches exist only in protocol {BATCH_VERSION} and {negotiated}: send one message per request"
        ),
    )
}

/// Why a message is refused before any method sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The error answer; `None` for a notification, which gets no answer even when malformed.
    pub answer: Option<Value>,
    /// What was wrong, for the log.
    pub reason: String,
}

impl Rejection {
    fn answered(id: Value, code: i64, reason: String) -> Self {
        Rejection {
            answer: Some(error(id, code, reason.clone())),
            reason,
        }
    }

    /// The JSON-RPC error code of the answer, if there is one.
    pub fn code(&self) -> Option<i64> {
        self.answer
            .as_ref()
            .and_then(|a| a.pointer("/error/code"))
            .and_then(Value::as_i64)
    }
}

/// Checks one message's envelope, and the parameters of the methods whose shape rmcp would
/// otherwise not recognise (`initialize`, `tools/list`, `tools/call`).
///
/// `initialize` does not exist in protocol 2026-07-28: a request that claims that revision (its
/// `_meta`, or `stateless` when the HTTP header says so) is left to the lifecycle rules, which
/// answer it as a removed method.
pub fn check(message: &Value, stateless: bool) -> Result<(), Rejection> {
    let Some(object) = message.as_object() else {
        return Err(Rejection::answered(
            Value::Null,
            INVALID_REQUEST,
            "Invalid Request: a JSON-RPC message is an object".into(),
        ));
    };
    // MCP ids are strings or numbers, never null; numbers are whole (JSON-RPC: no fractional
    // parts), within what every SDK reads back unchanged (i64).
    let id = match object.get("id") {
        None => None,
        Some(id @ Value::String(_)) => Some(id.clone()),
        Some(id @ Value::Number(n)) if n.is_i64() => Some(id.clone()),
        Some(id @ Value::Number(_)) => {
            return Err(Rejection::answered(
                id.clone(),
                INVALID_REQUEST,
                format!(
                    "Invalid Request: a numeric `id` must be a whole number within 64 bits, not {id}"
                ),
            ));
        }
        Some(other) => {
            return Err(Rejection::answered(
                Value::Null,
                INVALID_REQUEST,
                format!("Invalid Request: `id` must be a string or a number, not {other}"),
            ));
        }
    };
    let refuse = |code: i64, reason: String| match &id {
        Some(id) => Err(Rejection::answered(id.clone(), code, reason)),
        None => Err(Rejection {
            answer: None,
            reason,
        }),
    };
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return refuse(
            INVALID_REQUEST,
            "Invalid Request: `jsonrpc` must be \"2.0\"".into(),
        );
    }
    let method = match object.get("method") {
        Some(Value::String(m)) => m.as_str(),
        Some(_) => {
            return refuse(
                INVALID_REQUEST,
                "Invalid Request: `method` must be a string".into(),
            );
        }
        None if id.is_some() && (object.contains_key("result") != object.contains_key("error")) => {
            // A response from the client (to an elicitation, say).
            return Ok(());
        }
        None => {
            return refuse(
                INVALID_REQUEST,
                "Invalid Request: a message needs a `method` (request, notification) or exactly one of `result` and `error` (response)".into(),
            );
        }
    };
    let params = object.get("params");
    if params.is_some_and(|p| !p.is_object()) {
        return refuse(
            INVALID_PARAMS,
            format!("Invalid params: `params` of `{method}` must be an object"),
        );
    }
    if id.is_none() {
        return Ok(());
    }
    let claims_stateless = stateless
        || params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
            .is_some();
    let shape = match method {
        "initialize" if claims_stateless => Ok(()),
        "initialize" => params_of::<InitializeRequestParams>(
            params,
            "an object with `protocolVersion`, `capabilities` and `clientInfo`",
        ),
        "tools/call" => call_params(params),
        "tools/list" => match params {
            None => Ok(()),
            some => params_of::<PaginatedRequestParams>(
                some,
                "an object with an optional string `cursor`",
            ),
        },
        _ => Ok(()),
    };
    shape.or_else(|why| {
        refuse(
            INVALID_PARAMS,
            format!("Invalid params of `{method}`: {why}"),
        )
    })
}

/// Checks one message of a batch: as [`check`], and `initialize` may not be part of one.
pub fn check_batch_member(message: &Value) -> Result<(), Rejection> {
    if message.get("method").and_then(Value::as_str) == Some("initialize") {
        return Err(Rejection::answered(
            message.get("id").cloned().unwrap_or(Value::Null),
            INVALID_REQUEST,
            "Invalid Request: initialize must not be part of a batch".into(),
        ));
    }
    check(message, false)
}

fn params_of<T: serde::de::DeserializeOwned>(
    params: Option<&Value>,
    expected: &str,
) -> Result<(), String> {
    let Some(params) = params else {
        return Err(format!("`params` is missing; expected {expected}"));
    };
    T::deserialize(params)
        .map(|_| ())
        .map_err(|e| format!("{e}; expected {expected}"))
}

/// The shape of `tools/call` params, checked field by field: the arguments, which can be large,
/// are not copied.
fn call_params(params: Option<&Value>) -> Result<(), String> {
    const EXPECTED: &str = "an object with a string `name` and, optionally, an object `arguments`";
    let Some(params) = params else {
        return Err(format!("`params` is missing; expected {EXPECTED}"));
    };
    let field = |name: &str| params.get(name).filter(|v| !v.is_null());
    if !field("name").is_some_and(Value::is_string) {
        return Err(format!("`name` must be a string; expected {EXPECTED}"));
    }
    for (name, is_right, form) in [
        (
            "arguments",
            Value::is_object as fn(&Value) -> bool,
            "an object",
        ),
        ("_meta", Value::is_object, "an object"),
        ("inputResponses", Value::is_object, "an object"),
        ("requestState", Value::is_string, "a string"),
    ] {
        if field(name).is_some_and(|v| !is_right(v)) {
            return Err(format!("`{name}` must be {form}; expected {EXPECTED}"));
        }
    }
    Ok(())
}

/// The ids of the requests in a batch (the answers a batch waits for).
pub fn request_ids(batch: &[Value]) -> Vec<Value> {
    batch
        .iter()
        .filter(|m| m.get("method").is_some())
        .filter_map(|m| m.get("id"))
        .filter(|id| id.is_string() || id.is_number())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(message: Value) -> Option<i64> {
        check(&message, false).err().and_then(|r| r.code())
    }

    #[test]
    fn invalid_requests_are_answered_with_their_id() {
        let r = check(&json!({"jsonrpc": "2.0", "id": 5}), false).expect_err("no method");
        assert_eq!(r.answer.as_ref().and_then(|a| a.get("id")), Some(&json!(5)));
        assert_eq!(r.code(), Some(INVALID_REQUEST));
        assert_eq!(
            code(json!({"jsonrpc": "1.0", "id": "a", "method": "ping"})),
            Some(INVALID_REQUEST)
        );
        let r = check(
            &json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}),
            false,
        )
        .expect_err("bad id");
        assert_eq!(
            r.answer.as_ref().and_then(|a| a.get("id")),
            Some(&Value::Null)
        );
    }

    #[test]
    fn known_methods_have_their_params_checked() {
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call"})),
            Some(INVALID_PARAMS)
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": 3}})),
            Some(INVALID_PARAMS)
        );
        assert_eq!(
            code(
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "arguments": []}})
            ),
            Some(INVALID_PARAMS)
        );
        assert_eq!(
            code(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}})
            ),
            Some(INVALID_PARAMS)
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": []})),
            Some(INVALID_PARAMS)
        );
        assert!(check(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "x", "arguments": {}}}), false).is_ok());
        assert!(
            check(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
                false
            )
            .is_ok()
        );
        assert!(check(&json!({"jsonrpc": "2.0", "id": 1, "result": {}}), false).is_ok());
    }

    #[test]
    fn ids_are_strings_or_whole_numbers_and_batches_are_bounded() {
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"})),
            Some(INVALID_REQUEST)
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 1.0, "method": "ping"})),
            Some(INVALID_REQUEST)
        );
        assert_eq!(
            code(json!({"jsonrpc": "2.0", "id": 9223372036854775808u64, "method": "ping"})),
            Some(INVALID_REQUEST)
        );
        assert!(
            check(
                &json!({"jsonrpc": "2.0", "id": -3, "method": "ping"}),
                false
            )
            .is_ok()
        );
        let big = Value::Array(vec![
            json!({"jsonrpc": "2.0", "method": "x"});
            MAX_BATCH + 1
        ])
        .to_string();
        assert_eq!(
            parse(big.as_bytes()).expect_err("too big")["error"]["code"],
            json!(INVALID_REQUEST)
        );
    }

    #[test]
    fn malformed_notifications_get_no_answer() {
        let r = check(
            &json!({"jsonrpc": "2.0", "method": "notifications/x", "params": 3}),
            false,
        )
        .expect_err("bad params");
        assert_eq!(r.answer, None);
    }

    #[test]
    fn bodies_are_one_message_or_a_batch() {
        assert!(matches!(parse(b"{\"a\":1}"), Ok(Incoming::Message(_))));
        assert!(matches!(parse(b"[{\"a\":1}]"), Ok(Incoming::Batch(b)) if b.len() == 1));
        assert_eq!(
            parse(b"[]").expect_err("empty")["error"]["code"],
            json!(INVALID_REQUEST)
        );
        assert_eq!(
            parse(b"nope").expect_err("text")["error"]["code"],
            json!(PARSE_ERROR)
        );
        assert_eq!(
            parse(b"3").expect_err("number")["error"]["code"],
            json!(INVALID_REQUEST)
        );
        assert!(allows_batches(Some("2025-03-26")));
        assert!(!allows_batches(Some("2025-06-18")));
        assert!(!allows_batches(None));
    }
}
