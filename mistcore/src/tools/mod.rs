//! The tool registry: which tools exist, which a session sees, and their definitions.
//!
//! Three families: one tool per Mist operation (named by its operationId), the session tool
//! `manageMcpTools`, and the discovery tools that reach every operation through a small,
//! constant manifest.

pub mod diagnostics;
pub mod discovery;
pub mod manage;

use crate::catalog::{OPERATIONS, Operation, operation};
use crate::junos::JunosTool;
use crate::schema::input_schema;
use crate::session::{DIAGNOSTICS, JUNOS, ResponseFormat, Session, WORKFLOWS};
use crate::workflows::{self, Workflow};
use diagnostics::Diagnostic;
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};
use std::sync::Arc;

/// The operation every mode lists: who am I, which orgs and sites can I see.
pub const GET_SELF: &str = crate::api::GET_SELF;
/// The session tool that enables and disables categories.
pub const MANAGE_TOOLS: &str = "manageMcpTools";
/// Discovery: free-text search over all operations.
pub const SEARCH_OPERATIONS: &str = "mist_search_operations";
/// Discovery: parameters and input schema of one operation.
pub const DESCRIBE_OPERATION: &str = "mist_describe_operation";
/// Discovery: call any operation by id.
pub const CALL_OPERATION: &str = "mist_call_operation";

/// A tool, by what answers it.
#[derive(Debug, Clone, Copy)]
pub enum ToolRef {
    /// The tool of one Mist operation.
    Operation(&'static Operation),
    /// `manageMcpTools`.
    Manage,
    /// `mist_search_operations`.
    Search,
    /// `mist_describe_operation`.
    Describe,
    /// `mist_call_operation`.
    Call,
    /// A workflow tool of the official server.
    Workflow(&'static Workflow),
    /// A diagnostic tool.
    Diagnostic(Diagnostic),
    /// A Junos device tool.
    Junos(JunosTool),
}

impl PartialEq for ToolRef {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl ToolRef {
    /// Finds a tool by name, whether or not a session lists it.
    pub fn lookup(name: &str) -> Option<ToolRef> {
        Some(match name {
            MANAGE_TOOLS => ToolRef::Manage,
            SEARCH_OPERATIONS => ToolRef::Search,
            DESCRIBE_OPERATION => ToolRef::Describe,
            CALL_OPERATION => ToolRef::Call,
            _ => match (
                workflows::find(name),
                Diagnostic::find(name),
                JunosTool::find(name),
            ) {
                (Some(w), _, _) => ToolRef::Workflow(w),
                (None, Some(d), _) => ToolRef::Diagnostic(d),
                (None, None, Some(j)) => ToolRef::Junos(j),
                (None, None, None) => ToolRef::Operation(operation(name)?),
            },
        })
    }

    /// The tool's name.
    pub fn name(&self) -> &'static str {
        match self {
            ToolRef::Operation(op) => op.id,
            ToolRef::Manage => MANAGE_TOOLS,
            ToolRef::Search => SEARCH_OPERATIONS,
            ToolRef::Describe => DESCRIBE_OPERATION,
            ToolRef::Call => CALL_OPERATION,
            ToolRef::Workflow(w) => w.name,
            ToolRef::Diagnostic(d) => d.name(),
            ToolRef::Junos(j) => j.name(),
        }
    }

    /// Whether calling the tool may change something on the Mist cloud.
    pub fn is_write(&self) -> bool {
        match self {
            ToolRef::Operation(op) => op.is_write(),
            ToolRef::Workflow(w) => w.write.is_some(),
            ToolRef::Junos(j) => j.is_write(),
            _ => false,
        }
    }

    /// The MCP definition of the tool, for a session (the response format decides output schemas).
    pub fn definition_for(&self, session: &Session) -> Tool {
        match self {
            ToolRef::Workflow(w) => workflow_tool(w, session.response_format),
            // It reaches the write operations too when the session offers them.
            ToolRef::Call if session.offers_writes() => {
                let mut t = self.definition();
                t.annotations = Some(
                    ToolAnnotations::new()
                        .read_only(false)
                        .destructive(true)
                        .open_world(true),
                );
                t
            }
            other => other.definition(),
        }
    }

    /// The MCP definition of the tool.
    pub fn definition(&self) -> Tool {
        match self {
            ToolRef::Workflow(w) => workflow_tool(w, ResponseFormat::Json),
            ToolRef::Operation(op) => operation_tool(op),
            ToolRef::Diagnostic(d) => {
                Tool::new(d.name(), d.description(), Arc::new(object(d.schema()))).annotate(
                    ToolAnnotations::new()
                        .read_only(true)
                        .open_world(d.open_world()),
                )
            }
            ToolRef::Junos(j) => Tool::new(j.name(), j.description(), Arc::new(object(j.schema())))
                .annotate(
                    ToolAnnotations::new()
                        .read_only(!j.may_change())
                        .destructive(j.may_change())
                        .open_world(true),
                ),
            ToolRef::Manage => local_tool(
                MANAGE_TOOLS,
                manage::DESCRIPTION,
                manage::input_schema(),
                false,
            ),
            ToolRef::Search => local_tool(
                SEARCH_OPERATIONS,
                discovery::SEARCH_DESCRIPTION,
                discovery::search_schema(),
                true,
            ),
            ToolRef::Describe => local_tool(
                DESCRIBE_OPERATION,
                discovery::DESCRIBE_DESCRIPTION,
                discovery::describe_schema(),
                true,
            ),
            ToolRef::Call => {
                let mut t = local_tool(
                    CALL_OPERATION,
                    discovery::CALL_DESCRIPTION,
                    discovery::call_schema(),
                    true,
                );
                t.annotations = Some(ToolAnnotations::new().read_only(true).open_world(true));
                t
            }
        }
    }
}

fn object(schema: Value) -> JsonObject {
    match schema {
        Value::Object(o) => o,
        _ => JsonObject::new(),
    }
}

fn local_tool(
    name: &'static str,
    description: &'static str,
    schema: Value,
    read_only: bool,
) -> Tool {
    Tool::new(name, description, Arc::new(object(schema))).annotate(
        ToolAnnotations::new()
            .read_only(read_only)
            .open_world(false),
    )
}

/// Whether a session may call an operation: reads always; writes when the server was started
/// with `--enable-write-tools` and the client can confirm them (or confirmations are off).
pub fn operation_allowed(session: &Session, op: &Operation) -> Result<(), crate::policy::Refused> {
    // The subject is only worded when the write is refused: this runs for every listed tool.
    if op.is_write() && !(session.write_tools && session.offers_writes()) {
        write_allowed(session, &crate::policy::operation_subject(op))?;
    }
    Ok(())
}

/// Whether a `tools/call` of `name` with `arguments` may write: what the HTTP frontends ask
/// before the call, to answer a token without the write scope with a 403 that asks for it (the
/// write gate refuses such a write too, [`crate::policy::permitted`]). When in doubt, yes.
pub fn call_may_write(name: &str, arguments: Option<&Value>) -> bool {
    let arg = |key: &str| arguments.and_then(|a| a.get(key)).and_then(Value::as_str);
    match ToolRef::lookup(name) {
        None => false,
        Some(ToolRef::Call) => arg("operation_id")
            .and_then(operation)
            .is_some_and(|op| op.is_write()),
        Some(ToolRef::Workflow(w)) if w.name == "mist_utilities" => {
            arg("utility").is_some_and(|u| {
                crate::devices::UTILITIES
                    .iter()
                    .any(|x| x.name == u && x.write)
            })
        }
        Some(ToolRef::Junos(j)) => j.may_change(),
        Some(tool) => tool.is_write(),
    }
}

/// Whether a JSON-RPC message, or any message of a batch, is a `tools/call` that may write
/// ([`call_may_write`]).
pub fn message_may_write(message: &Value) -> bool {
    match message {
        Value::Array(items) => items.iter().any(message_may_write),
        m => {
            m.get("method").and_then(Value::as_str) == Some("tools/call")
                && call_may_write(
                    m.pointer("/params/name")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                    m.pointer("/params/arguments"),
                )
        }
    }
}

/// Whether a session may run a write; the error says what would allow it (the first step of
/// the write gate, [`crate::policy`]).
pub fn write_allowed(session: &Session, what: &str) -> Result<(), crate::policy::Refused> {
    crate::policy::permitted(session.permissions(), what)
}

/// Whether `name` is a write tool this session would list if its client had declared the
/// elicitation capability (protocol 2026-07-28 answers such calls with a
/// MissingRequiredClientCapabilityError).
pub fn needs_elicitation(session: &Session, name: &str) -> bool {
    let Some(tool) = ToolRef::lookup(name) else {
        return false;
    };
    if session.client.elicitation || is_visible(session, &tool) {
        return false;
    }
    let mut confirming = session.clone();
    confirming.client.elicitation = true;
    is_visible(&confirming, &tool)
}

/// The tools a session lists, in a stable order: session tools, discovery, diagnostics,
/// workflows, operations.
pub fn visible(session: &Session) -> Vec<ToolRef> {
    [
        ToolRef::Manage,
        ToolRef::Search,
        ToolRef::Describe,
        ToolRef::Call,
    ]
    .into_iter()
    .chain(diagnostics::ALL.map(ToolRef::Diagnostic))
    .chain(crate::junos::ALL.map(ToolRef::Junos))
    .chain(workflows::all().iter().map(ToolRef::Workflow))
    .chain(OPERATIONS.iter().map(ToolRef::Operation))
    .filter(|tool| is_visible(session, tool))
    .collect()
}

/// Whether a session lists a tool (and so may call it by name): decided for that tool alone,
/// without building the list.
pub fn is_visible(session: &Session, tool: &ToolRef) -> bool {
    let session_tools = session.has_session_tools();
    match tool {
        ToolRef::Manage => session_tools,
        ToolRef::Search | ToolRef::Describe | ToolRef::Call => {
            session_tools && session.mode.has_discovery()
        }
        ToolRef::Diagnostic(_) => session.enabled.contains(DIAGNOSTICS),
        ToolRef::Junos(j) => {
            session.junos.is_some()
                && session.enabled.contains(JUNOS)
                && (!j.is_write() || session.offers_writes())
        }
        ToolRef::Workflow(w) => {
            session.enabled.contains(WORKFLOWS) && (w.write.is_none() || session.offers_writes())
        }
        ToolRef::Operation(op) => {
            ((session_tools && op.id == GET_SELF) || session.enabled.contains(op.category))
                && operation_allowed(session, op).is_ok()
        }
    }
}

fn workflow_tool(w: &'static Workflow, format: ResponseFormat) -> Tool {
    // mist_utilities is listed to every client, but some of its utilities change devices.
    let may_change = matches!(w.source, workflows::Source::Utilities);
    let annotations = ToolAnnotations::with_title(w.title)
        .read_only(w.write.is_none() && !may_change)
        .destructive(w.write.is_some_and(|d| d.0) || may_change)
        .idempotent(w.write.is_none() && !may_change)
        .open_world(true);
    let mut tool = local_tool(w.name, w.description, (w.schema)(), true).annotate(annotations);
    if format == ResponseFormat::Json
        && let Value::Object(o) = workflows::output_schema()
    {
        tool.output_schema = Some(Arc::new(o));
    }
    tool
}

/// The definition of an operation tool, built when listed and not kept: in the `all` mode the
/// 524 definitions would hold ~3 MB for the life of the process, for ~4 ms of CPU saved per
/// `tools/list` (measured 2026-12-07).
fn operation_tool(op: &'static Operation) -> Tool {
    let description = format!("{} ({} {})", op.summary, op.method, op.path);
    let annotations = if op.is_write() {
        ToolAnnotations::new()
            .read_only(false)
            .destructive(op.method == crate::catalog::Method::Delete)
            .open_world(true)
    } else {
        ToolAnnotations::new().read_only(true).open_world(true)
    };
    let mut schema = input_schema(op);
    if takes_fields(op)
        && let Some(Value::Object(props)) = schema.get_mut("properties")
    {
        props.insert("fields".into(), crate::response_budget::fields_schema());
        props.insert("jq".into(), crate::response_budget::jq_schema());
    }
    Tool::new(op.id, description, Arc::new(schema)).annotate(annotations)
}

/// Whether an operation tool takes the `fields` and `jq` arguments: the reads that answer lists,
/// unless Mist has a `fields` parameter of its own there (`listOrgDevicesStats`).
pub fn takes_fields(op: &Operation) -> bool {
    op.method == crate::catalog::Method::Get
        && (op.id.starts_with("list") || op.id.starts_with("search"))
        && !op.params.iter().any(|p| p.name == "fields")
}

/// A JSON text block for a tool result (compact: every byte goes into the model's context).
pub fn json_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| json!(null).to_string())
}
