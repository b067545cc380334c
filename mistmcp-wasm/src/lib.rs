//! mistmcp on Workers-style edge hosts: the JS entry (`worker/worker.mjs`) hands each MCP
//! message to [`handle`] with the request's configuration and the session's stored state;
//! Mist is reached through the host's `fetch`.

// The module only means something inside a JS host: on other targets the crate is empty, so
// that `cargo test --workspace` builds natively.
#![cfg(target_arch = "wasm32")]

mod fetch;

use mistcore::api::{Credentials, Secret, cloud_base, custom_base};
use mistcore::jsonrpc::dispatch;
use mistcore::mcp::NoElicitor;
use mistcore::session::{Session, SessionConfig, ToolMode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
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
}

/// What a session keeps between requests.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredSession {
    enabled: Vec<String>,
    elicitation: bool,
}

/// The answer to the JS entry: an HTTP status, the JSON-RPC answer (if any), the session to store.
#[derive(Debug, Serialize)]
struct Answer {
    status: u16,
    body: Option<Value>,
    session: Option<String>,
}

fn bad_request(message: String) -> Answer {
    Answer {
        status: 400,
        body: Some(json!({ "error": message })),
        session: None,
    }
}

fn session_for(config: &RequestConfig, stored: Option<&str>) -> Result<Session, String> {
    let cloud = config
        .cloud
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or("missing `cloud` query parameter, e.g. /mcp?cloud=api.mist.com")?;
    let base = cloud_base(cloud).map_err(|e| e.to_string())?;
    let base = match config.api_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => custom_base(url).map_err(|e| e.to_string())?,
        None => base,
    };
    let mode = match config.mode.as_deref() {
        Some(m) => m.parse::<ToolMode>().map_err(|e| e.to_string())?,
        None => ToolMode::Managed,
    };
    let categories: Vec<String> = config
        .categories
        .as_deref()
        .map(|c| {
            c.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let session_config = SessionConfig {
        mode,
        categories,
        write_tools: config.write_tools,
        ..Default::default()
    };
    let credentials = Credentials {
        token: config
            .token
            .clone()
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        base,
    };
    let mut session = Session::new(&session_config, credentials).map_err(|e| e.to_string())?;
    if let Some(state) = stored.and_then(|s| serde_json::from_str::<StoredSession>(s).ok()) {
        let wanted: Vec<&str> = state.enabled.iter().map(String::as_str).collect();
        session.enabled = mistcore::session::resolve_categories(&wanted)
            .unwrap_or_default()
            .into_iter()
            .collect();
        session.client.elicitation = state.elicitation;
    }
    Ok(session)
}

/// Handles one MCP message. `config` is the JSON of the request's configuration, `stored` the
/// session state kept by the host (absent for a new or sessionless client). Returns the JSON of
/// `{status, body, session}`.
#[wasm_bindgen]
pub async fn handle(message: String, config: String, stored: Option<String>) -> String {
    let answer = match serde_json::from_str::<RequestConfig>(&config) {
        Err(e) => bad_request(format!("bad configuration from the host: {e}")),
        Ok(config) => match session_for(&config, stored.as_deref()) {
            Err(e) => bad_request(e),
            Ok(mut session) => {
                let mut dispatched =
                    dispatch(&message, &mut session, &fetch::FetchTransport, &NoElicitor).await;
                // Answers here are single JSON documents: no stream carries notifications, so
                // the tool list is not announced as changing (clients list it again).
                if let Some(tools) = dispatched
                    .response
                    .as_mut()
                    .and_then(|r| r.pointer_mut("/result/capabilities/tools"))
                {
                    *tools = json!({});
                }
                let state = StoredSession {
                    enabled: session.enabled.iter().map(|c| c.to_string()).collect(),
                    // No stream carries an elicitation request here: a client can never
                    // confirm a write, so it never sees one.
                    elicitation: false,
                };
                Answer {
                    status: if dispatched.response.is_some() {
                        200
                    } else {
                        202
                    },
                    body: dispatched.response,
                    session: serde_json::to_string(&state).ok(),
                }
            }
        },
    };
    serde_json::to_string(&answer)
        .unwrap_or_else(|_| r#"{"status":500,"body":null,"session":null}"#.into())
}
