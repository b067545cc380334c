//! The MCP logic: listing and calling tools for a session. The only module that knows MCP
//! wire types (rmcp's `model`, which compile for wasm32); transports live in the frontends.

use crate::api::{self, HttpTransport};
use crate::catalog::{OPERATIONS, Operation};
use crate::schema;
use crate::session::{CategoryChange, Session};
use crate::tools::{self, ToolRef, discovery, json_text, manage};
use rmcp::model::{
    CallToolResult, ContentBlock as Content, Implementation, JsonObject, ServerCapabilities,
    ServerConfig, Tool,
};
use serde_json::{Value, json};

/// The server's name in `initialize`.
pub const SERVER_NAME: &str = "mistmcp";

/// Instructions sent to the client in `initialize`.
pub fn instructions() -> String {
    format!(
        "Juniper Mist API ({} operations). Start with getSelf to learn the org and site ids the token can see. \
Find operations with mist_search_operations, read their arguments with mist_describe_operation, call them \
with mist_call_operation, or enable whole categories of tools with manageMcpTools. Results that say \
has_more have further pages (page/limit or the next path).",
        OPERATIONS.len()
    )
}

/// The `initialize` answer of a server whose tool list can change.
pub fn server_config() -> ServerConfig {
    // rmcp's capability builder needs its `server` feature (tokio I/O), absent on wasm32:
    // the same value is built from its wire form.
    let capabilities: ServerCapabilities =
        serde_json::from_value(json!({ "tools": { "listChanged": true } }))
            .expect("a valid ServerCapabilities literal");
    ServerConfig::new(capabilities)
        .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
        .with_instructions(instructions())
}

/// The tools a session lists.
pub fn list_tools(session: &Session) -> Vec<Tool> {
    tools::visible(session)
        .iter()
        .map(ToolRef::definition)
        .collect()
}

/// A call that cannot be answered by a tool at all (a protocol error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No tool has this name.
    #[error("unknown tool `{name}`{hint}")]
    UnknownTool {
        /// The name asked for.
        name: String,
        /// A "did you mean" clause, possibly empty.
        hint: String,
    },
}

/// The answer to one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// What goes back to the client.
    pub result: CallToolResult,
    /// A change of the session's categories to apply (by `manageMcpTools`).
    pub change: Option<CategoryChange>,
}

impl ToolOutcome {
    fn ok(value: &Value) -> Self {
        ToolOutcome {
            result: CallToolResult::success(vec![Content::text(json_text(value))]),
            change: None,
        }
    }

    fn error(message: impl Into<String>) -> Self {
        ToolOutcome {
            result: CallToolResult::error(vec![Content::text(message.into())]),
            change: None,
        }
    }
}

/// Calls a tool for a session. Operation calls send exactly one request through `transport`.
///
/// Every problem with the arguments or upstream is a tool error (`isError: true`) whose text
/// says what was wrong and what to do; only an unknown tool name is a protocol error.
pub async fn call_tool(
    session: &Session,
    transport: &dyn HttpTransport,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<ToolOutcome, CallError> {
    let Some(tool) = ToolRef::lookup(name) else {
        let near =
            crate::catalog::closest(name, tools::visible(session).iter().map(ToolRef::name), 3);
        return Err(CallError::UnknownTool {
            name: name.to_string(),
            hint: if near.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", near.join(", "))
            },
        });
    };
    let args = arguments.unwrap_or_default();
    if !tools::is_visible(session, &tool) {
        return Ok(ToolOutcome::error(not_listed(session, &tool)));
    }
    Ok(match tool {
        ToolRef::Manage => match manage::run(session, &args) {
            Ok((answer, change)) => ToolOutcome {
                change: Some(change).filter(|c| !c.enable.is_empty() || !c.disable.is_empty()),
                ..ToolOutcome::ok(&answer)
            },
            Err(e) => ToolOutcome::error(e),
        },
        ToolRef::Search => discovery::search(session, &args)
            .map_or_else(ToolOutcome::error, |v| ToolOutcome::ok(&v)),
        ToolRef::Describe => discovery::describe(session, &args)
            .map_or_else(ToolOutcome::error, |v| ToolOutcome::ok(&v)),
        ToolRef::Call => match discovery::call_target(session, &args) {
            Ok((op, inner)) => call_operation(session, transport, op, &inner).await,
            Err(e) => ToolOutcome::error(e),
        },
        ToolRef::Operation(op) => call_operation(session, transport, op, &args).await,
    })
}

fn not_listed(session: &Session, tool: &ToolRef) -> String {
    match tool {
        ToolRef::Operation(op) if op.is_write() => tools::operation_allowed(session, op)
            .err()
            .unwrap_or_default(),
        ToolRef::Operation(op) => {
            let via = if session.mode.has_discovery() {
                format!(", or call it through {}", tools::CALL_OPERATION)
            } else {
                String::new()
            };
            format!(
                "tool `{}` belongs to category `{}`, which is not enabled in this session: enable it with {} {{\"{}\": [\"{}\"]}}{via}",
                op.id,
                op.category,
                tools::MANAGE_TOOLS,
                manage::ENABLE,
                op.category
            )
        }
        other => format!(
            "tool `{}` is not available in the {} mode; start the server with --mode managed",
            other.name(),
            session.mode
        ),
    }
}

async fn call_operation(
    session: &Session,
    transport: &dyn HttpTransport,
    op: &'static Operation,
    args: &JsonObject,
) -> ToolOutcome {
    let validated = match schema::validate(op, args) {
        Ok(v) => v,
        Err(e) => {
            return ToolOutcome::error(format!("{e}. `{}` takes: {}", op.id, signature(op)));
        }
    };
    match api::execute(transport, &session.credentials, op, &validated).await {
        Ok(response) => {
            let mut content = vec![Content::text(json_text(&response.body))];
            if let Some(p) = response.pagination {
                content.push(Content::text(json_text(&json!({ "pagination": p }))));
            }
            ToolOutcome {
                result: CallToolResult::success(content),
                change: None,
            }
        }
        Err(e) => ToolOutcome::error(e.to_string()),
    }
}

/// A one-line summary of an operation's arguments: `org_id (required), limit, page`.
fn signature(op: &Operation) -> String {
    let mut parts: Vec<String> = op
        .params
        .iter()
        .map(|p| {
            if p.required {
                format!("{} (required)", p.name)
            } else {
                p.name.to_string()
            }
        })
        .collect();
    if op.body.is_some() {
        parts.push(schema::BODY_ARGUMENT.to_string());
    }
    if parts.is_empty() {
        "no arguments".into()
    } else {
        parts.join(", ")
    }
}
