//! One JSON-RPC message through `mistcore::jsonrpc::dispatch`, for both lifecycles (handshake
//! revisions and the sessionless 2026-07-28), with sessions of every mode, read-only or with
//! write tools, and a transport that never reaches Mist.
//!
//! Input layout:
//! - byte 0, session and headers:
//!   - bits 0-1, the headers: 0 none; 1 protocol 2026-07-28 with `Mcp-Method`/`Mcp-Name` from the
//!     body and the `_meta` that revision requires added to the body; 2 the same headers, body
//!     unchanged; 3 the first three lines of the message are the three header values;
//!   - bit 2 write tools, bit 3 a token (so calls reach the transport), bits 4-5 the mode
//!     (managed, all, minimal, custom `workflows`), bit 6 skip confirmations, bit 7 string
//!     response format;
//! - byte 1, the call: bit 0 replace a `tools/call`'s tool name by a real one (bytes 2-3 pick
//!   it), bit 1 answer an `input_required` with an accepted confirmation (a second round),
//!   bit 2 declare the elicitation capability in the added `_meta`, bit 3 dispatch the message
//!   twice on the same session;
//! - bytes 2-3, the tool index;
//! - the rest, the message (UTF-8, lossy).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::api::{
    Credentials, HttpRequest, HttpResponse, HttpTransport, Secret, TransportError,
};
use mistcore::jsonrpc::{
    CLIENT_CAPABILITIES_META, Confirmations, Dispatched, Headers, PROTOCOL_VERSION_META,
    STATELESS_VERSION, dispatch,
};
use mistcore::request_state::StateKey;
use mistcore::policy::NoConfirm;
use mistcore::session::{ResponseFormat, Session, SessionConfig, ToolMode};
use serde_json::{Value, json};
use std::sync::OnceLock;

/// A transport with no network: every call fails to connect.
struct Unreachable;

#[async_trait::async_trait]
impl HttpTransport for Unreachable {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Connect("fuzzing: no network".into()))
    }
}

/// Every tool name: operations, workflows and the session tools.
fn tool_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = vec![
            mistcore::tools::GET_SELF,
            mistcore::tools::MANAGE_TOOLS,
            mistcore::tools::SEARCH_OPERATIONS,
            mistcore::tools::DESCRIBE_OPERATION,
            mistcore::tools::CALL_OPERATION,
        ];
        names.extend(mistcore::workflows::all().iter().map(|w| w.name));
        names.extend(mistcore::catalog::OPERATIONS.iter().map(|op| op.id));
        names
    })
}

fn session(flags: u8) -> Option<Session> {
    let (mode, categories) = match (flags >> 4) & 3 {
        0 => (ToolMode::Managed, vec![]),
        1 => (ToolMode::All, vec![]),
        2 => (ToolMode::Minimal, vec![]),
        _ => (ToolMode::Custom, vec!["workflows".to_string()]),
    };
    let config = SessionConfig {
        mode,
        categories,
        write_tools: flags & 0x04 != 0,
        skip_confirmation: flags & 0x40 != 0,
        response_format: if flags & 0x80 != 0 {
            ResponseFormat::String
        } else {
            ResponseFormat::Json
        },
        ..SessionConfig::default()
    };
    let mut credentials = Credentials::anonymous();
    if flags & 0x08 != 0 {
        credentials.token = Some(Secret::new("fuzz-token"));
    }
    Session::new(&config, credentials).ok()
}

/// The headers a 2026-07-28 client sends with `body`.
fn stateless_headers(body: &Value) -> Headers {
    Headers {
        protocol_version: Some(STATELESS_VERSION.to_string()),
        method: body
            .get("method")
            .and_then(Value::as_str)
            .map(str::to_string),
        name: body
            .pointer("/params/name")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

/// `FUZZ_DEBUG=1` prints each message and answer (to look at what an input does).
fn debug() -> bool {
    static DEBUG: OnceLock<bool> = OnceLock::new();
    *DEBUG.get_or_init(|| std::env::var_os("FUZZ_DEBUG").is_some())
}

/// What `dispatch` promises whatever the message.
fn check(d: &Dispatched) {
    assert!(
        matches!(d.status, 200 | 202 | 400 | 404),
        "unexpected status {}",
        d.status
    );
    assert_eq!(
        d.status == 202,
        d.response.is_none(),
        "202 iff no answer: {d:?}"
    );
    if let Some(r) = &d.response {
        assert_eq!(
            r.get("jsonrpc"),
            Some(&json!("2.0")),
            "not JSON-RPC 2.0: {r}"
        );
        assert!(
            r.get("result").is_some() != r.get("error").is_some(),
            "exactly one of result and error: {r}"
        );
    }
}

/// One key for the whole run, as in a server process (states are redeemed once).
fn state_key() -> &'static StateKey {
    static KEY: OnceLock<StateKey> = OnceLock::new();
    KEY.get_or_init(|| StateKey::new(b"fuzzing secret", 1))
}

fn run(message: &str, headers: &Headers, session: &mut Session) -> Dispatched {
    let confirmations = Confirmations {
        handshake: &NoConfirm,
        state_key: state_key(),
        server_token: None,
        now: 1_800_000_000,
    };
    let d = pollster::block_on(dispatch(
        message,
        headers,
        session,
        &Unreachable,
        &mistcore::host::NoService,
        confirmations,
    ));
    if debug() {
        eprintln!(
            "> {headers:?}\n> {message}\n< {} {:?}",
            d.status, d.response
        );
    }
    check(&d);
    d
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (flags, call) = (data[0], data[1]);
    let tool = u16::from_le_bytes([data[2], data[3]]) as usize;
    let text = String::from_utf8_lossy(&data[4..]);
    let Some(mut session) = session(flags) else {
        return;
    };

    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    let mut body = parsed.clone();
    if let Some(Value::Object(obj)) = body.as_mut() {
        if call & 0x01 != 0 && obj.get("method") == Some(&json!("tools/call")) {
            let names = tool_names();
            if let Some(Value::Object(params)) = obj.get_mut("params") {
                params.insert("name".into(), json!(names[tool % names.len()]));
            }
        }
        if flags & 3 == 1 {
            let params = obj.entry("params").or_insert_with(|| json!({}));
            if let Value::Object(params) = params {
                let caps = if call & 0x04 != 0 {
                    json!({ "elicitation": {} })
                } else {
                    json!({})
                };
                let meta = params.entry("_meta").or_insert_with(|| json!({}));
                if let Value::Object(meta) = meta {
                    meta.insert(PROTOCOL_VERSION_META.into(), json!(STATELESS_VERSION));
                    meta.insert(CLIENT_CAPABILITIES_META.into(), caps);
                }
            }
        }
    }

    let (message, headers) = match flags & 3 {
        // The message as given, unless a tool name was put in.
        0 => match &body {
            Some(b) if call & 0x01 != 0 => (b.to_string(), Headers::default()),
            _ => (text.to_string(), Headers::default()),
        },
        1 | 2 => match &body {
            Some(b) => (b.to_string(), stateless_headers(b)),
            None => (
                text.to_string(),
                Headers {
                    protocol_version: Some(STATELESS_VERSION.to_string()),
                    ..Headers::default()
                },
            ),
        },
        _ => {
            let mut lines = text.splitn(4, '\n');
            let mut header = || lines.next().map(str::to_string);
            let headers = Headers {
                protocol_version: header(),
                method: header(),
                name: header(),
            };
            (lines.next().unwrap_or("").to_string(), headers)
        }
    };

    let first = run(&message, &headers, &mut session);
    if call & 0x08 != 0 {
        run(&message, &headers, &mut session);
    }

    // A multi round-trip write: answer the confirmation it asked for, as a client would.
    if call & 0x02 != 0
        && let Some(state) = first
            .response
            .as_ref()
            .and_then(|r| r.pointer("/result/requestState"))
            .cloned()
        && let Some(Value::Object(mut retry)) = body
        && let Some(Value::Object(params)) = retry.get_mut("params")
    {
        params.insert("requestState".into(), state);
        params.insert(
            "inputResponses".into(),
            json!({ "confirm": { "action": "accept", "content": { "confirm": true } } }),
        );
        let retry = Value::Object(retry);
        run(&retry.to_string(), &headers, &mut session);
    }
});
