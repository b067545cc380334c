//! The MCP logic: listing and calling tools for a session. The only module that knows MCP
//! wire types (rmcp's `model`, which compile for wasm32); transports live in the frontends.

use crate::api;
use crate::call::CallContext;
use crate::catalog::{OPERATIONS, Operation};
use crate::policy::{self, CONFIRM_FIELD, Destination, Question, Refused, Write};
use crate::redact::{ReadFrom, Revealed, WriteTo};
use crate::response_budget;
use crate::schema;
use crate::session::{CategoryChange, ResponseFormat, Session};
use crate::tools::diagnostics::Diagnostic;
use crate::tools::{self, ToolRef, discovery, json_text, manage};
use crate::workflows::{self, After, Args, Source, utilities};
use crate::{devices, security};
use rmcp::model::{
    CallToolResult, ContentBlock as Content, ElicitRequestParams, ElicitationSchema,
    Implementation, JsonObject, ServerCapabilities, ServerConfig, Tool,
};
use serde_json::{Value, json};

/// The server's name in `initialize`.
pub const SERVER_NAME: &str = "mistmcp";

/// Instructions sent to the client in `initialize`.
pub fn instructions() -> String {
    format!(
        "Juniper Mist API ({} operations). Start with getSelf (or mist_get_self) to learn the org and site ids the token can see. \
Find operations with mist_search_operations, read their arguments with mist_describe_operation, call them \
with mist_call_operation, or enable whole categories of tools with manageMcpTools. Results that say \
has_more have further pages: pass their `next` path to mist_get_next_page.",
        OPERATIONS.len()
    )
}

/// The `initialize` answer of a server whose tool list can change.
pub fn server_config() -> ServerConfig {
    config_with_tools(json!({ "listChanged": true }))
}

/// The answer to sessionless clients (`server/discover`, protocol 2026-07-28): their tool list is
/// fixed by each request's configuration, so it never changes and nothing is announced.
pub fn stateless_server_config() -> ServerConfig {
    config_with_tools(json!({}))
}

fn config_with_tools(tools: Value) -> ServerConfig {
    // rmcp's capability builder needs its `server` feature (tokio I/O), absent on wasm32:
    // the same value is built from its wire form.
    let capabilities: ServerCapabilities = serde_json::from_value(json!({ "tools": tools }))
        .expect("a valid ServerCapabilities literal");
    ServerConfig::new(capabilities)
        .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
        .with_instructions(instructions())
}

/// The tools a session lists.
pub fn list_tools(session: &Session) -> Vec<Tool> {
    tools::visible(session)
        .iter()
        .map(|t| t.definition_for(session))
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

/// Why a write tool is refused to a client without the elicitation capability.
pub fn elicitation_required(name: &str) -> String {
    format!(
        "`{name}` is a write tool: it needs the client's elicitation capability to confirm the change with the human"
    )
}

/// The answer to one tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// What goes back to the client.
    pub result: CallToolResult,
    /// A change of the session's categories to apply (by `manageMcpTools`).
    pub change: Option<CategoryChange>,
    /// The Mist operation the call ran, if any (for counters and logs).
    pub operation: Option<&'static str>,
    /// What kind of failure it was, if it failed (`invalid`, `timeout`, `rate_limited`,
    /// `upstream_4xx`, `upstream_5xx`, `network`, `malformed`, `no_token`, `rate_budget`), or
    /// why a write did not run although the call succeeded (`declined`, `cancelled`).
    pub error_kind: Option<&'static str>,
}

impl ToolOutcome {
    fn ok(value: &Value) -> Self {
        ToolOutcome {
            result: CallToolResult::success(vec![Content::text(json_text(value))]),
            change: None,
            operation: None,
            error_kind: None,
        }
    }

    fn error(message: impl std::fmt::Display) -> Self {
        ToolOutcome {
            result: CallToolResult::error(vec![Content::text(message.to_string())]),
            change: None,
            operation: None,
            error_kind: Some("invalid"),
        }
    }

    fn api_error(session: &Session, e: &api::ApiError) -> Self {
        ToolOutcome {
            error_kind: Some(error_kind(e)),
            ..ToolOutcome::error(session.api_error_text(e))
        }
    }
}

/// How an operation's answer is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// JSON text (operation and discovery tools).
    Plain,
    /// JSON text plus `structuredContent` `{"result": ...}` (workflow tools, json format).
    Wrapped,
}

/// Calls a tool for a session. Operation calls send exactly one request through the transport.
///
/// Every problem with the arguments or upstream is a tool error (`isError: true`) whose text
/// says what was wrong and what to do; only an unknown tool name is a protocol error.
pub async fn call_tool(
    ctx: CallContext<'_>,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<ToolOutcome, CallError> {
    let session = ctx.session;
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
    let mut outcome = dispatch(ctx, tool, &args).await;
    if let Some(secrets) = &session.secrets
        && outcome.result.is_error == Some(true)
    {
        // What the caller sent is not redacted where an error echoes it (that would confirm a
        // guess).
        redact_error(
            secrets,
            &mut outcome.result,
            &strings_of(&args),
            &Revealed::default(),
        );
    }
    Ok(outcome)
}

/// Every string of a call's arguments.
fn strings_of(args: &JsonObject) -> Vec<&str> {
    let mut out = Vec::new();
    args.values()
        .for_each(|v| crate::redact::for_each_string(v, &mut |s| out.push(s)));
    out
}

/// An error's texts with the session's secrets replaced: Mist, a device or a refusal may quote
/// a value anywhere (answers are redacted where they are read, with their structure).
fn redact_error(
    secrets: &crate::redact::Redactor,
    result: &mut CallToolResult,
    caller: &[&str],
    revealed: &Revealed,
) {
    for block in &mut result.content {
        if let Some(text) = block.as_text() {
            let redacted = secrets.redact_message(&text.text, caller, revealed);
            if redacted != text.text {
                *block = Content::text(redacted);
            }
        }
    }
    if let Some(structured) = &mut result.structured_content {
        redact_strings(structured, &|s| secrets.redact_message(s, caller, revealed));
    }
}

fn redact_strings(value: &mut Value, f: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| redact_strings(i, f)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, f)),
        _ => {}
    }
}

/// What the client may see of a value read `from` Mist or a device: with its secrets replaced
/// by handles, unless the session shows secrets.
fn redacted(session: &Session, mut value: Value, from: ReadFrom<'_>) -> Value {
    if let Some(secrets) = &session.secrets {
        secrets.redact_json(&mut value, from);
    }
    value
}

/// A Junos tool's answer: each device's part read from that device (a commit to it may put
/// its secrets back).
#[cfg_attr(not(feature = "junos"), allow(dead_code))]
fn redact_junos(session: &Session, mut value: Value) -> Value {
    let Some(secrets) = &session.secrets else {
        return value;
    };
    let mut one = |v: &mut Value| {
        let place = format!(
            "junos:{}",
            v.get("router_name").and_then(Value::as_str).unwrap_or("")
        );
        secrets.redact_json(
            v,
            ReadFrom {
                place: &place,
                single: true,
                records: true,
            },
        );
    };
    match value.get_mut("results").and_then(Value::as_array_mut) {
        Some(results) => results.iter_mut().for_each(&mut one),
        None => one(&mut value),
    }
    value
}

/// Where a Mist answer was read: its path; one object unless it is a list or a search; its
/// records' ids name objects unless it answers a write (which may echo the caller's body).
fn read_from<'p>(path: &'p str, body: &Value, op: &Operation) -> ReadFrom<'p> {
    ReadFrom {
        place: path,
        single: body.is_object() && body.get("results").is_none(),
        records: !op.is_write(),
    }
}

async fn dispatch(ctx: CallContext<'_>, tool: ToolRef, args: &JsonObject) -> ToolOutcome {
    let session = ctx.session;
    match tool {
        ToolRef::Manage => match manage::run(session, args) {
            Ok((answer, change)) => ToolOutcome {
                change: Some(change).filter(|c| !c.enable.is_empty() || !c.disable.is_empty()),
                ..ToolOutcome::ok(&answer)
            },
            Err(e) => ToolOutcome::error(e),
        },
        ToolRef::Search => discovery::search(session, args)
            .map_or_else(ToolOutcome::error, |v| ToolOutcome::ok(&v)),
        ToolRef::Describe => discovery::describe(session, args)
            .map_or_else(ToolOutcome::error, |v| ToolOutcome::ok(&v)),
        ToolRef::Call
            if let Some(tool) = args
                .get("operation_id")
                .and_then(Value::as_str)
                .and_then(|id| discovery::junos_tool(session, id)) =>
        {
            let inner = match args.get("arguments") {
                None | Some(Value::Null) => JsonObject::new(),
                Some(Value::Object(o)) => o.clone(),
                Some(other) => {
                    return ToolOutcome::error(format!(
                        "`arguments` must be a JSON object, got {other}"
                    ));
                }
            };
            call_junos(ctx, tool, &inner).await
        }
        ToolRef::Call => match discovery::call_target(session, args) {
            Ok(target) => {
                let output = Output {
                    jq: target.jq.as_deref(),
                    ..Output::plain(&target.fields)
                };
                call_operation(ctx, target.op, &target.arguments, output).await
            }
            Err(e) => ToolOutcome::error(e),
        },
        ToolRef::Operation(op) => {
            let (fields, jq) = if tools::takes_fields(op) {
                let fields = response_budget::parse_fields(args.get("fields"));
                let jq = response_budget::parse_jq(args.get("jq"));
                match fields.and_then(|f| jq.map(|j| (f, j))) {
                    Ok(both) => both,
                    Err(e) => return ToolOutcome::error(e),
                }
            } else {
                (Vec::new(), None)
            };
            // The operation's own arguments: a copy only when `fields` or `jq` must go.
            let own;
            let args = if tools::takes_fields(op)
                && (args.contains_key("fields") || args.contains_key("jq"))
            {
                let mut copy = args.clone();
                copy.remove("fields");
                copy.remove("jq");
                own = copy;
                &own
            } else {
                args
            };
            let output = Output {
                jq: jq.as_deref(),
                ..Output::plain(&fields)
            };
            call_operation(ctx, op, args, output).await
        }
        ToolRef::Workflow(w) => call_workflow(ctx, w, args).await,
        ToolRef::Diagnostic(d) => call_diagnostic(ctx, d, args).await,
        ToolRef::Junos(j) => call_junos(ctx, j, args).await,
    }
}

async fn call_diagnostic(ctx: CallContext<'_>, d: Diagnostic, args: &JsonObject) -> ToolOutcome {
    let session = ctx.session;
    let get_self = || api::get_self(ctx.transport, &session.credentials);
    match d {
        Diagnostic::Security => match get_self().await {
            Ok(me) => {
                let report = security::analyze(&me.body, &ctx.service.security_limits());
                ToolOutcome::ok(&json!(report))
            }
            Err(e) => ToolOutcome::api_error(session, &e),
        },
        Diagnostic::Health => ToolOutcome::ok(&ctx.service.health(session)),
        Diagnostic::Connectivity => {
            let started = ctx.service.now();
            let answer = get_self().await;
            let ms = ctx.service.now().saturating_sub(started).as_secs_f64() * 1000.0;
            let cloud = session.credentials.base.as_str();
            ToolOutcome::ok(&match answer {
                Ok(me) => json!({
                    "cloud": cloud, "reachable": true, "token_valid": true, "latency_ms": ms,
                    "identity": me.body.get("email").or(me.body.get("name")),
                }),
                Err(e) => json!({
                    "cloud": cloud,
                    "reachable": !e.is_unreachable(),
                    "token_valid": false,
                    "latency_ms": ms,
                    "problem": session.api_error_text(&e),
                }),
            })
        }
        Diagnostic::Shell => match ctx.service.devices() {
            None => {
                ToolOutcome::error("remote shells need WebSockets, which this host cannot open")
            }
            Some(streams) => devices::run_shell(ctx, streams, args)
                .await
                .map_or_else(ToolOutcome::error, |v| {
                    ToolOutcome::ok(&redacted(session, v, ReadFrom::NOWHERE))
                }),
        },
    }
}

#[cfg(not(feature = "junos"))]
async fn call_junos(
    _ctx: CallContext<'_>,
    _tool: crate::junos::JunosTool,
    _args: &JsonObject,
) -> ToolOutcome {
    ToolOutcome::error(
        "this build of mistmcp has no Junos support (the edge module has no SSH): use the native mistmcp",
    )
}

#[cfg(feature = "junos")]
async fn call_junos(
    ctx: CallContext<'_>,
    tool: crate::junos::JunosTool,
    args: &JsonObject,
) -> ToolOutcome {
    let Some(devices) = ctx.session.junos.as_ref() else {
        return ToolOutcome::error(
            "no Junos device inventory is configured: start the server with --junos-devices devices.json",
        );
    };
    match crate::junos::call(ctx, devices, tool, args).await {
        Ok(answered) => {
            let value = redact_junos(ctx.session, answered.value);
            let text = vec![Content::text(json_text(&value))];
            ToolOutcome {
                result: if answered.is_error {
                    CallToolResult::error(text)
                } else {
                    CallToolResult::success(text)
                },
                change: None,
                operation: Some(tool.name()),
                error_kind: answered.refused.or(answered.is_error.then_some("device")),
            }
        }
        Err(e) => ToolOutcome::error(e),
    }
}

/// Runs a workflow tool. Workflow tools declare an output schema (json format): every answer
/// carries `structuredContent` valid for it, refusals and errors included (`{"result": text}`),
/// as clients that check the schema require.
async fn call_workflow(
    ctx: CallContext<'_>,
    w: &'static workflows::Workflow,
    args: &JsonObject,
) -> ToolOutcome {
    let mut outcome = run_workflow(ctx, w, args).await;
    if ctx.session.response_format == ResponseFormat::Json
        && outcome.result.structured_content.is_none()
    {
        let text: Vec<&str> = outcome
            .result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
            .collect();
        outcome.result.structured_content = Some(json!({ "result": text.join("\n") }));
    }
    outcome
}

async fn run_workflow(
    ctx: CallContext<'_>,
    w: &'static workflows::Workflow,
    args: &JsonObject,
) -> ToolOutcome {
    if let Err(e) = workflows::check(&(w.schema)(), args) {
        return ToolOutcome::error(format!("{}: {e}", w.name));
    }
    let shape = match ctx.session.response_format {
        ResponseFormat::Json => Shape::Wrapped,
        ResponseFormat::String => Shape::Plain,
    };
    match w.source {
        Source::Api(plan) => match plan(&Args(args)) {
            Ok(plan) => match crate::catalog::operation(plan.operation) {
                Some(op) => {
                    let output = Output {
                        after: &plan.after,
                        object_type: plan.object_type.as_deref(),
                        shape,
                        fields: &[],
                        jq: None,
                    };
                    call_operation(ctx, op, &plan.args, output).await
                }
                None => ToolOutcome::error(format!(
                    "{}: operation {} is missing from the catalog",
                    w.name, plan.operation
                )),
            },
            Err(e) => ToolOutcome::error(format!("{}: {e}", w.name)),
        },
        Source::Local(answer) => match answer(&Args(args)) {
            Ok(value) => answer_value(value, None, shape, ctx.session.max_response_bytes),
            Err(e) => ToolOutcome::error(format!("{}: {e}", w.name)),
        },
        Source::Utilities => match utilities::plan(&Args(args)) {
            Ok(utilities::Ask::List(listing)) => answer_value(listing, None, shape, None),
            Ok(utilities::Ask::Run(run)) => {
                let quiet = |_: usize, _: &str| {};
                let progress = ctx.progress.unwrap_or(&quiet);
                match devices::run_utility(ctx, run, progress).await {
                    // Its output is capped by itself (at a line of text, not a record).
                    Ok(v) => {
                        let v = redacted(ctx.session, v, ReadFrom::NOWHERE);
                        // A command the human did not confirm says so in the call log.
                        let unconfirmed = ["declined", "cancelled"]
                            .into_iter()
                            .find(|k| v.get(k).is_some());
                        ToolOutcome {
                            error_kind: unconfirmed,
                            ..answer_value(v, None, shape, None)
                        }
                    }
                    Err(e) => ToolOutcome::error(format!("{}: {e}", w.name)),
                }
            }
            Err(e) => ToolOutcome::error(format!("{}: {e}", w.name)),
        },
        Source::NextPage => {
            let url = Args(args).selector("url");
            match api::next_page_target(&ctx.session.credentials, url) {
                Ok((op, relative)) => {
                    let request =
                        api::build_path_request(&ctx.session.credentials, op.method, &relative);
                    match request {
                        Ok(request) => {
                            match api::send(ctx.transport, &ctx.session.credentials, op, request)
                                .await
                            {
                                Ok(r) => answer_value(
                                    redacted(
                                        ctx.session,
                                        r.body,
                                        ReadFrom {
                                            place: &relative,
                                            single: false,
                                            records: true,
                                        },
                                    ),
                                    r.pagination.as_ref(),
                                    shape,
                                    ctx.session.max_response_bytes,
                                ),
                                Err(e) => ToolOutcome::api_error(ctx.session, &e),
                            }
                        }
                        Err(e) => ToolOutcome::error(e.to_string()),
                    }
                }
                Err(e) => ToolOutcome::error(format!("{}: {e}", w.name)),
            }
        }
    }
}

fn not_listed(session: &Session, tool: &ToolRef) -> String {
    match tool {
        ToolRef::Operation(op) if op.is_write() => tools::operation_allowed(session, op)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        ToolRef::Workflow(w) if w.write.is_some() => {
            tools::write_allowed(session, &format!("`{}`", w.name))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        }
        ToolRef::Operation(op) if session.client.sessionless && session.mode.has_discovery() => {
            format!(
                "tool `{}` belongs to category `{}`, which this connection does not list: call it through {} {{\"operation_id\": \"{}\", \"arguments\": {{...}}}}, or reconnect with the URL query `categories={}` (this client's protocol, 2026-07-28, keeps no session for {} to change)",
                op.id,
                op.category,
                tools::CALL_OPERATION,
                op.id,
                op.category,
                tools::MANAGE_TOOLS
            )
        }
        ToolRef::Operation(op) if session.has_session_tools() => {
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
        ToolRef::Workflow(w) => format!(
            "tool `{}` is a workflow tool: enable the `workflows` category with {} or start with --mode custom --categories workflows",
            w.name,
            tools::MANAGE_TOOLS
        ),
        other if !session.has_session_tools() => format!(
            "tool `{}` is not listed: the custom mode with `workflows` lists exactly the workflow tools; add other categories or use --mode managed",
            other.name()
        ),
        other => format!(
            "tool `{}` is not available in the {} mode; start the server with --mode managed",
            other.name(),
            session.mode
        ),
    }
}

/// What becomes of an operation's answer.
#[derive(Clone, Copy)]
struct Output<'a> {
    /// The workflow's post-processing.
    after: &'a After,
    /// The object type a write confirmation names.
    object_type: Option<&'a str>,
    shape: Shape,
    /// The keys to keep of each record (`fields`); empty for all.
    fields: &'a [String],
    /// A jq filter over the answer (checked), run after `fields`.
    jq: Option<&'a str>,
}

impl<'a> Output<'a> {
    fn plain(fields: &'a [String]) -> Self {
        Output {
            after: &After::Nothing,
            object_type: None,
            shape: Shape::Plain,
            fields,
            jq: None,
        }
    }
}

async fn call_operation(
    ctx: CallContext<'_>,
    op: &'static Operation,
    args: &JsonObject,
    output: Output<'_>,
) -> ToolOutcome {
    ToolOutcome {
        operation: Some(op.id),
        ..run_operation(ctx, op, args, output).await
    }
}

async fn run_operation(
    ctx: CallContext<'_>,
    op: &'static Operation,
    args: &JsonObject,
    output: Output<'_>,
) -> ToolOutcome {
    let Output {
        after,
        object_type,
        shape,
        fields,
        jq,
    } = output;
    if let Err(e) = tools::operation_allowed(ctx.session, op) {
        return ToolOutcome::error(e);
    }
    let mut validated = match schema::validate(op, args) {
        Ok(v) => v,
        Err(e) => return ToolOutcome::error(format!("{e}. `{}` takes: {}", op.id, signature(op))),
    };
    let mut revealed = Revealed::default();
    if op.is_write() {
        // Handles read in this session become their values again; the human sees handles.
        let mut shown = validated.clone();
        if let (None, Some(body)) = (&ctx.session.secrets, &validated.body)
            && let Err(e) = crate::redact::refuse_handles(body)
        {
            return ToolOutcome::error(e);
        }
        if let (Some(secrets), Some(body)) = (&ctx.session.secrets, validated.body.as_mut()) {
            let path = api::fill_path(op, &shown);
            let to = WriteTo {
                place: &path,
                update: op.method == crate::catalog::Method::Put,
            };
            match secrets.reveal_json(body, to) {
                Ok(r) => revealed = r,
                Err(e) => return ToolOutcome::error(e),
            }
            shown.body = Some(body.clone());
            if let Some(b) = shown.body.as_mut() {
                // The body is the model's: it says nothing of where a value may go back (its
                // handles get their place from Mist's answer to the write).
                secrets.redact_json(b, ReadFrom::NOWHERE);
            }
        }
        let write = Write {
            subject: policy::operation_subject(op),
            question: policy::operation_question(op, &shown, object_type),
            destination: Destination::Mist,
        };
        let limits = ctx.service.security_limits();
        if let Err(refused) = policy::authorize(ctx.gate(&limits), &write).await {
            return refusal(&refused);
        }
    }
    match api::execute(ctx.transport, &ctx.session.credentials, op, &validated).await {
        Ok(response) => {
            // A name filter searched one page: its pagination would point at unfiltered pages.
            let filtered = matches!(
                after,
                After::Filter {
                    pattern: Some(_),
                    ..
                }
            );
            let pagination = response.pagination.as_ref().filter(|_| !filtered);
            let path = api::fill_path(op, &validated);
            let from = read_from(&path, &response.body, op);
            let mut body = workflows::apply(after, redacted(ctx.session, response.body, from));
            response_budget::project(&mut body, fields);
            if let Some(filter) = jq {
                body = match response_budget::apply_jq(body, filter) {
                    Ok(b) => b,
                    Err(e) => return ToolOutcome::error(e),
                };
            }
            answer_value(body, pagination, shape, ctx.session.max_response_bytes)
        }
        Err(e) => {
            let mut outcome = ToolOutcome::api_error(ctx.session, &e);
            // Mist may echo a value put back from a handle: it shows as its handle even where
            // the caller's text holds it.
            if let Some(secrets) = &ctx.session.secrets {
                redact_error(secrets, &mut outcome.result, &strings_of(args), &revealed);
            }
            outcome
        }
    }
}

/// A write that was not sent. The human's own "no" (declined, cancelled) is not an error of the
/// call, but not a success either: its kind names it in the call log.
fn refusal(refused: &Refused) -> ToolOutcome {
    match refused {
        Refused::Declined(_) | Refused::Cancelled(_) => ToolOutcome {
            result: CallToolResult::success(vec![Content::text(refused.to_string())]),
            error_kind: Some(refused.kind()),
            ..ToolOutcome::ok(&Value::Null)
        },
        other => ToolOutcome::error(other.to_string()),
    }
}

/// The kind of an API failure, for counters.
pub fn error_kind(e: &api::ApiError) -> &'static str {
    e.kind().as_str()
}

/// Room kept for the pagination and the cut note within the budget.
const NOTE_RESERVE: usize = 800;

fn answer_value(
    mut body: Value,
    pagination: Option<&api::Pagination>,
    shape: Shape,
    budget: Option<usize>,
) -> ToolOutcome {
    // The workflow output schema has no room for `null` (an empty answer, e.g. to a DELETE).
    if shape == Shape::Wrapped && body.is_null() {
        body = json!({});
    }
    // One serialization for the usual answer; a second only when it had to be cut.
    let mut text = json_text(&body);
    let cut = budget
        .filter(|max| text.len() > *max)
        .and_then(|max| response_budget::fit(&mut body, max, NOTE_RESERVE));
    if cut.is_some() {
        text = json_text(&body);
    }
    let mut content = vec![Content::text(text)];
    let pagination = pagination.map(|p| json!(p));
    if let Some(p) = &pagination {
        content.push(Content::text(json_text(&json!({ "pagination": p }))));
    }
    let note = cut.map(|c| c.note(pagination.is_some()));
    if let Some(n) = &note {
        content.push(Content::text(json_text(&json!({ "truncated": n }))));
    }
    let mut result = CallToolResult::success(content);
    if shape == Shape::Wrapped {
        let mut structured = json!({ "result": body });
        if let Some(p) = pagination {
            structured["pagination"] = p;
        }
        if let Some(n) = note {
            structured["truncated"] = n;
        }
        result.structured_content = Some(structured);
    }
    ToolOutcome {
        result,
        ..ToolOutcome::ok(&Value::Null)
    }
}

/// The MCP form of a write's question: its text and one required `confirm` box.
pub fn confirmation_form(question: &Question) -> ElicitRequestParams {
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: question.message.clone(),
        requested_schema: ElicitationSchema::builder()
            .required_bool(CONFIRM_FIELD)
            .build_unchecked(),
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
