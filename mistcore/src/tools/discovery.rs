//! The discovery tools: every operation reachable through three small tools, for clients
//! that ignore `list_changed` or speak the sessionless protocol.

use super::operation_allowed;
use crate::call::ToolError;
use crate::catalog::{Method, OPERATIONS, Operation, ParamLocation, closest, operation, search};
use crate::schema::{expected_form, input_schema};
use crate::session::{Session, resolve_categories};
use serde_json::{Map, Value, json};

/// Description of `mist_search_operations`.
pub const SEARCH_DESCRIPTION: &str = "Search the Mist API operations by free text (e.g. \"site wlans\", \"device events\"), \
optionally filtered by category (name or pattern) and method. Returns ranked operation ids to use with \
mist_describe_operation and mist_call_operation.";
/// Description of `mist_describe_operation`.
pub const DESCRIBE_DESCRIPTION: &str =
    "Describe one Mist API operation: what it does, its parameters and its input schema.";
/// Description of `mist_call_operation`.
pub const CALL_DESCRIPTION: &str = "Call any Mist API operation by id with its arguments \
(path and query parameters as in mist_describe_operation). Start with getSelf to learn your org and site ids.";

/// Input schema of `mist_search_operations`.
pub fn search_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for in operation ids, paths and descriptions"},
            "category": {"type": "string", "description": "Only this category (name or pattern, e.g. sites_*)"},
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "DELETE"]},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

/// Input schema of `mist_describe_operation`.
pub fn describe_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "operation_id": {"type": "string", "description": "An operation id such as listOrgSites"} },
        "required": ["operation_id"],
        "additionalProperties": false
    })
}

/// Input schema of `mist_call_operation`.
pub fn call_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "operation_id": {"type": "string", "description": "An operation id such as listOrgSites"},
            "arguments": {"type": "object", "description": "The operation's arguments, e.g. {\"org_id\": \"...\", \"limit\": 10}"},
            "fields": crate::response_budget::fields_schema(),
            "jq": crate::response_budget::jq_schema()
        },
        "required": ["operation_id"],
        "additionalProperties": false
    })
}

fn check_keys(args: &Map<String, Value>, accepted: &[&str]) -> Result<(), ToolError> {
    match args.keys().find(|k| !accepted.contains(&k.as_str())) {
        Some(k) => Err(format!(
            "unknown argument `{k}`; accepted arguments: {}",
            accepted.join(", ")
        )
        .into()),
        None => Ok(()),
    }
}

fn required_str<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, ToolError> {
    match args.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        Some(other) if !other.is_null() => {
            Err(format!("`{name}` must be a non-empty string, got {other}").into())
        }
        _ => Err(format!("missing required argument `{name}`").into()),
    }
}

/// Finds an operation the session may call, or explains why not.
pub fn callable_operation(session: &Session, id: &str) -> Result<&'static Operation, ToolError> {
    let Some(op) = operation(id) else {
        let near = closest(id, OPERATIONS.iter().map(|o| o.id), 5);
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(" Closest: {}.", near.join(", "))
        };
        return Err(format!(
            "unknown operation `{id}`.{hint} Use mist_search_operations to find operation ids."
        )
        .into());
    };
    operation_allowed(session, op)?;
    Ok(op)
}

/// Runs `mist_search_operations`.
pub fn search(session: &Session, args: &Map<String, Value>) -> Result<Value, ToolError> {
    check_keys(args, &["query", "category", "method", "limit"])?;
    let query = required_str(args, "query")?;
    if query.chars().count() > 256 {
        return Err("`query` is limited to 256 characters: give a few words".into());
    }
    if query.trim().is_empty() {
        return Err("`query` must contain at least one word".into());
    }
    let parsed = search::parse(query);
    let categories = match args.get("category") {
        Some(Value::String(c)) if !c.trim().is_empty() => {
            Some(resolve_categories(&[c.as_str()]).map_err(|e| e.to_string())?)
        }
        None | Some(Value::Null) => None,
        Some(Value::String(_)) => None,
        Some(other) => return Err(format!("`category` must be a string, got {other}").into()),
    };
    let method = match args.get("method") {
        Some(Value::String(m)) => Some(Method::parse(m).ok_or_else(|| {
            format!("`method` must be one of GET, POST, PUT, DELETE, got \"{m}\"")
        })?),
        None | Some(Value::Null) => None,
        Some(other) => return Err(format!("`method` must be a string, got {other}").into()),
    };
    let limit = match args.get("limit") {
        None | Some(Value::Null) => 10,
        Some(v) => match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(n @ 1..=50) => n as usize,
            _ => return Err(format!("`limit` must be an integer from 1 to 50, got {v}").into()),
        },
    };
    let ranking = search::rank(&parsed, |op| {
        operation_allowed(session, op).is_ok()
            && categories
                .as_ref()
                .is_none_or(|cs| cs.contains(&op.category))
            && method.is_none_or(|m| op.method == m)
    });
    let results: Vec<Value> = ranking
        .hits
        .iter()
        .take(limit)
        .map(|hit| hit.operation)
        .map(|op| {
            let required: Vec<&str> = op
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name)
                .chain(op.body.is_some().then_some(crate::schema::BODY_ARGUMENT))
                .collect();
            json!({
                "operation_id": op.id,
                "method": op.method.as_str(),
                "path": op.path,
                "category": op.category,
                "scope": scope(op),
                "required": required,
                "summary": op.summary,
            })
        })
        .collect();
    let mut answer = json!({ "results": results });
    let read_as: Vec<String> = parsed
        .corrections
        .iter()
        .map(|(typed, read)| format!("{typed} as {read}"))
        .collect();
    let note = match ranking.strength {
        _ if results.is_empty() => Some(
            "no operation is visible with these filters: drop `category` or `method`".to_string(),
        ),
        search::Strength::Nothing => Some(
            "no operation matches these words; here are general starting points: try words such as site, device, client, stats, events, wlan".to_string(),
        ),
        search::Strength::Weak => Some(
            "weak match: the best operations match only some of the words; rephrase with the object you want (sites, devices, clients, wlans, alarms, events)".to_string(),
        ),
        search::Strength::Strong => None,
    };
    if let Some(note) = note {
        answer["note"] = json!(note);
    }
    if !read_as.is_empty() {
        answer["read"] = json!(read_as.join(", "));
    }
    let junos: Vec<Value> = crate::junos::matching(query)
        .into_iter()
        .filter(|t| super::is_visible(session, &super::ToolRef::Junos(*t)))
        .map(|t| {
            json!({
                "operation_id": t.name(),
                "category": crate::session::JUNOS,
                "required": t.schema()["required"],
                "summary": t.description(),
            })
        })
        .collect();
    if !junos.is_empty() {
        // Devices reached directly over NETCONF: tools of their own, callable by name or here.
        answer["junos_tools"] = Value::Array(junos);
    }
    Ok(answer)
}

/// The Junos tool `id` names, if this session lists it (discovery reaches those tools too).
pub fn junos_tool(session: &Session, id: &str) -> Option<crate::junos::JunosTool> {
    crate::junos::JunosTool::find(id)
        .filter(|t| super::is_visible(session, &super::ToolRef::Junos(*t)))
}

/// Where an operation acts: `org`, `site`, `msp` or `global` (the account, constants).
pub fn scope(op: &Operation) -> &'static str {
    let rest = op.path.trim_start_matches("/api/v1/");
    if rest.starts_with("orgs/") {
        "org"
    } else if rest.starts_with("sites/") {
        "site"
    } else if rest.starts_with("msps/") {
        "msp"
    } else {
        "global"
    }
}

/// Runs `mist_describe_operation`.
pub fn describe(session: &Session, args: &Map<String, Value>) -> Result<Value, ToolError> {
    check_keys(args, &["operation_id"])?;
    let id = required_str(args, "operation_id")?;
    if let Some(tool) = junos_tool(session, id) {
        return Ok(json!({
            "operation_id": tool.name(),
            "category": crate::session::JUNOS,
            "summary": tool.description(),
            "input_schema": tool.schema(),
            "call": format!("call the tool {} directly, or mist_call_operation with this operation_id and its arguments", tool.name()),
        }));
    }
    let op = callable_operation(session, id)?;
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            let mut v = json!({
                "name": p.name,
                "in": if p.location == ParamLocation::Path { "path" } else { "query" },
                "required": p.required,
                "expects": expected_form(p),
            });
            if let Some(d) = p.default {
                v["default"] = serde_json::from_str(d).unwrap_or(Value::Null);
            }
            if !p.description.is_empty() {
                v["description"] = json!(p.description);
            }
            v
        })
        .collect();
    let mut answer = json!({
        "operation_id": op.id,
        "method": op.method.as_str(),
        "path": op.path,
        "category": op.category,
        "scope": scope(op),
        "summary": op.summary,
        "description": op.description,
        "parameters": params,
        "input_schema": Value::Object(input_schema(op)),
        "example": example_call(op),
    });
    let fields: Vec<&str> = op.answer.fields().collect();
    if !fields.is_empty() {
        let shape = match (op.answer.list, op.answer.records_in) {
            (true, _) => "a list of records".to_string(),
            (false, Some(key)) => format!("an object whose `{key}` holds the records"),
            (false, None) => "an object".to_string(),
        };
        answer["returns"] = json!({
            "shape": shape,
            "fields": fields,
            "hint": "pass `fields` with the ones you need (e.g. [\"id\", \"name\"]) to keep the answer small",
        });
    }
    Ok(answer)
}

/// One minimal `mist_call_operation` call of `op`: its required arguments, with placeholders
/// for ids (from getSelf or a list operation) and the spec's example or default for the rest.
pub fn example_call(op: &Operation) -> Value {
    let mut arguments = Map::new();
    for p in op.params.iter().filter(|p| p.required) {
        let value = if p.location == ParamLocation::Path {
            json!(format!("<{}>", p.name))
        } else {
            p.example
                .or(p.default)
                .and_then(|v| serde_json::from_str(v).ok())
                .or_else(|| p.enum_values.first().map(|v| json!(v)))
                .unwrap_or_else(|| json!(format!("<{}>", p.name)))
        };
        arguments.insert(p.name.to_string(), value);
    }
    if (op.answer.list || op.answer.records_in.is_some()) && op.param("limit").is_some() {
        arguments.insert("limit".into(), json!(10));
    }
    if let Some(body) = op.body {
        let what = body.schema.map_or_else(
            || "<a JSON object>".to_string(),
            |name| format!("<a `{name}` object: see input_schema>"),
        );
        arguments.insert(crate::schema::BODY_ARGUMENT.into(), json!(what));
    }
    let mut call = json!({ "operation_id": op.id, "arguments": arguments });
    let fields: Vec<&str> = op.answer.fields().collect();
    if fields.len() > 3 && (op.answer.list || op.answer.records_in.is_some()) {
        let some: Vec<&str> = ["id", "name", "mac", "status", "type"]
            .into_iter()
            .filter(|f| fields.contains(f))
            .collect();
        if !some.is_empty() {
            call["fields"] = json!(some);
        }
    }
    call
}

/// Reads the arguments of `mist_call_operation`: the operation and its own arguments.
pub fn call_target(session: &Session, args: &Map<String, Value>) -> Result<CallTarget, ToolError> {
    check_keys(args, &["operation_id", "arguments", "fields", "jq"])?;
    let fields = crate::response_budget::parse_fields(args.get("fields"))?;
    let jq = crate::response_budget::parse_jq(args.get("jq"))?;
    let id = required_str(args, "operation_id")?;
    let op = callable_operation(session, id)?;
    let inner = match args.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => Map::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            _ => {
                return Err(
                    "`arguments` must be a JSON object such as {\"org_id\": \"...\"}".into(),
                );
            }
        },
        Some(other) => return Err(format!("`arguments` must be a JSON object, got {other}").into()),
    };
    Ok(CallTarget {
        op,
        arguments: inner,
        fields,
        jq,
    })
}

/// What a `mist_call_operation` call asks for.
#[derive(Debug, Clone)]
pub struct CallTarget {
    /// The operation.
    pub op: &'static Operation,
    /// Its arguments.
    pub arguments: Map<String, Value>,
    /// The keys to keep of each record (`fields`).
    pub fields: Vec<String>,
    /// A jq filter over the answer (`jq`), checked.
    pub jq: Option<String>,
}
