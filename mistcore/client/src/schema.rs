//! Input schemas of operation tools, and the validation of call arguments against them.
//!
//! Validation is written against the catalog's own parameter model rather than a generic JSON
//! Schema validator: parameters are flat (strings, numbers, booleans, lists of strings), and
//! the errors must name the argument, the expected form and the closest valid value, which a
//! generic validator's messages do not.

use crate::catalog::{Operation, Param, ParamLocation, ParamType, closest};
use serde_json::{Map, Value, json};
use std::fmt;

/// The name of the argument that carries the JSON body of a write operation.
pub const BODY_ARGUMENT: &str = "body";

/// Why the arguments of a call were refused, before any request was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    /// The offending argument (empty when the problem is the arguments as a whole).
    pub argument: String,
    /// What was wrong and what is expected instead.
    pub problem: String,
}

impl fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.argument.is_empty() {
            write!(f, "invalid arguments: {}", self.problem)
        } else {
            write!(f, "invalid argument `{}`: {}", self.argument, self.problem)
        }
    }
}

impl std::error::Error for ArgumentError {}

fn arg_error(argument: &str, problem: impl Into<String>) -> ArgumentError {
    ArgumentError {
        argument: argument.to_string(),
        problem: problem.into(),
    }
}

/// Arguments checked against an operation, ready to be put in a request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidatedArgs {
    /// Path parameter values, unencoded, by name.
    pub path: Vec<(&'static str, String)>,
    /// Query parameters, unencoded; an array gives one pair per item.
    pub query: Vec<(&'static str, String)>,
    /// The JSON body, for writes.
    pub body: Option<Value>,
}

/// The JSON Schema of one parameter.
pub fn param_schema(p: &Param) -> Value {
    let mut s = Map::new();
    s.insert("type".into(), json!(p.ty.json_name()));
    if let Some(item) = p.item_ty {
        let mut items = json!({ "type": item.json_name() });
        if let Some(f) = p.format {
            items["format"] = json!(f);
        }
        s.insert("items".into(), items);
    } else if let Some(f) = p.format {
        s.insert("format".into(), json!(f));
    }
    if let Some(pat) = p.pattern {
        s.insert("pattern".into(), json!(pat));
    }
    if !p.enum_values.is_empty() {
        s.insert("enum".into(), json!(p.enum_values));
    }
    if let Some(d) = p
        .default
        .and_then(|d| serde_json::from_str::<Value>(d).ok())
    {
        s.insert("default".into(), d);
    }
    if let Some(m) = p.minimum {
        s.insert("minimum".into(), json!(m));
    }
    if let Some(m) = p.maximum {
        s.insert("maximum".into(), json!(m));
    }
    if !p.description.is_empty() {
        s.insert("description".into(), json!(p.description));
    }
    Value::Object(s)
}

/// The JSON Schema of an operation's arguments: its parameters, plus `body` for writes.
pub fn input_schema(op: &Operation) -> Map<String, Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in op.params {
        properties.insert(p.name.to_string(), param_schema(p));
        if p.required {
            required.push(json!(p.name));
        }
    }
    if let Some(body) = op.body {
        let what = match body.schema {
            Some(name) => format!("Request body, a JSON object of schema `{name}`"),
            None => "Request body, a JSON object".to_string(),
        };
        properties.insert(
            BODY_ARGUMENT.into(),
            json!({ "type": "object", "description": what }),
        );
        if body.required {
            required.push(json!(BODY_ARGUMENT));
        }
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// A short human form of what a parameter accepts, for error messages.
pub fn expected_form(p: &Param) -> String {
    if !p.enum_values.is_empty() {
        return format!("one of {}", p.enum_values.join(", "));
    }
    match (p.ty, p.format, p.pattern) {
        (ParamType::String, Some("uuid"), _) => {
            "a UUID such as 6748cfa6-4e12-11e6-9188-0242ac110007".into()
        }
        (ParamType::String, _, Some("^[0-9a-fA-F]{12}$")) => {
            "a MAC address of 12 hex digits such as 5c5b350e0001".into()
        }
        (ParamType::String, Some(f), _) => format!("a string ({f})"),
        (ParamType::String, None, Some(pat)) => format!("a string matching {pat}"),
        (ParamType::String, None, None) => "a string".into(),
        (ParamType::Integer, ..) => bounds("an integer", p),
        (ParamType::Number, ..) => bounds("a number", p),
        (ParamType::Boolean, ..) => "true or false".into(),
        (ParamType::Array, ..) => match p.format {
            Some("uuid") => "a list of UUIDs".into(),
            _ => "a list of strings".into(),
        },
    }
}

fn bounds(what: &str, p: &Param) -> String {
    match (p.minimum, p.maximum) {
        (Some(lo), Some(hi)) => format!("{what} from {lo} to {hi}"),
        (Some(lo), None) => format!("{what} of at least {lo}"),
        (None, Some(hi)) => format!("{what} of at most {hi}"),
        (None, None) => what.to_string(),
    }
}

/// True for the canonical 8-4-4-4-12 hex form of a UUID.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// Whether `text` matches a `pattern` of the spec. The few distinct patterns are compiled once;
/// one that does not compile matches nothing.
fn matches_pattern(pattern: &'static str, text: &str) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static COMPILED: OnceLock<Mutex<HashMap<&'static str, Option<regex_lite::Regex>>>> =
        OnceLock::new();
    let mut cache = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| regex_lite::Regex::new(pattern).ok())
        .as_ref()
        .is_some_and(|re| re.is_match(text))
}

/// Checks and converts one scalar value to its wire string.
fn scalar(p: &Param, ty: ParamType, v: &Value) -> Result<String, ArgumentError> {
    let wrong = || {
        arg_error(
            p.name,
            format!("expected {}, got {}", expected_form(p), show(v)),
        )
    };
    let text = match (ty, v) {
        (ParamType::String, Value::String(s)) => s.clone(),
        (ParamType::String, Value::Number(n)) => n.to_string(),
        (ParamType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        (ParamType::Integer, Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => return Err(wrong()),
        },
        (ParamType::Integer, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(i) => i.to_string(),
            Err(_) => return Err(wrong()),
        },
        (ParamType::Number, Value::Number(n)) => n.to_string(),
        (ParamType::Number, Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => s.trim().to_string(),
            _ => return Err(wrong()),
        },
        (ParamType::Boolean, Value::Bool(b)) => b.to_string(),
        (ParamType::Boolean, Value::String(s)) if s == "true" || s == "false" => s.clone(),
        _ => return Err(wrong()),
    };
    if matches!(ty, ParamType::Integer | ParamType::Number) {
        let f: f64 = text.parse().map_err(|_| wrong())?;
        if p.minimum.is_some_and(|lo| f < lo) || p.maximum.is_some_and(|hi| f > hi) {
            return Err(wrong());
        }
    }
    if ty == ParamType::String {
        if p.format == Some("uuid") && !is_uuid(&text) {
            return Err(wrong());
        }
        if let Some(pat) = p.pattern
            && !matches_pattern(pat, &text)
        {
            return Err(wrong());
        }
        if !p.enum_values.is_empty() && !p.enum_values.contains(&text.as_str()) {
            let near = closest(&text, p.enum_values.iter().copied(), 3);
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", near.join(", "))
            };
            return Err(arg_error(
                p.name,
                format!(
                    "{} is not allowed; expected {}{hint}",
                    show(v),
                    expected_form(p)
                ),
            ));
        }
    }
    Ok(text)
}

/// Validates the arguments of a call to `op` and converts them to wire values.
///
/// `null` counts as absent, also for names the operation does not know. Numbers and booleans given as strings are accepted
/// (`"100"`, `"true"`), as is a comma-separated string for a list.
pub fn validate(op: &Operation, args: &Map<String, Value>) -> Result<ValidatedArgs, ArgumentError> {
    let mut out = ValidatedArgs::default();
    for (name, value) in args {
        if value.is_null() || (name == BODY_ARGUMENT && op.body.is_some()) {
            continue;
        }
        if op.param(name).is_none() {
            let mut names: Vec<&str> = op.params.iter().map(|p| p.name).collect();
            if op.body.is_some() {
                names.push(BODY_ARGUMENT);
            }
            let accepted = if names.is_empty() {
                "this operation takes no arguments".to_string()
            } else {
                format!("accepted arguments: {}", names.join(", "))
            };
            let near = closest(name, names.iter().copied(), 1);
            let hint = near
                .first()
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(arg_error(
                name,
                format!("unknown argument; {hint}{accepted}"),
            ));
        }
    }
    for p in op.params {
        let value = args.get(p.name).filter(|v| !v.is_null());
        let Some(value) = value else {
            if p.required {
                return Err(arg_error(
                    p.name,
                    format!("missing required argument; expected {}", expected_form(p)),
                ));
            }
            continue;
        };
        match p.location {
            ParamLocation::Path => {
                let text = scalar(p, p.ty, value)?;
                if text.is_empty() || text == "." || text == ".." {
                    return Err(arg_error(
                        p.name,
                        format!("expected {}, got {}", expected_form(p), show(value)),
                    ));
                }
                out.path.push((p.name, text));
            }
            ParamLocation::Query if p.ty == ParamType::Array => {
                let item_ty = p.item_ty.unwrap_or(ParamType::String);
                let items: Vec<Value> = match value {
                    Value::Array(a) => a.clone(),
                    Value::String(s) => s
                        .split(',')
                        .map(|x| Value::String(x.trim().to_string()))
                        .filter(|x| x.as_str() != Some(""))
                        .collect(),
                    _ => {
                        return Err(arg_error(
                            p.name,
                            format!("expected {}, got {}", expected_form(p), show(value)),
                        ));
                    }
                };
                for item in &items {
                    out.query.push((p.name, scalar(p, item_ty, item)?));
                }
            }
            ParamLocation::Query => out.query.push((p.name, scalar(p, p.ty, value)?)),
        }
    }
    if let Some(body) = op.body {
        match args.get(BODY_ARGUMENT).filter(|v| !v.is_null()) {
            Some(v @ (Value::Object(_) | Value::Array(_))) => out.body = Some(v.clone()),
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => out.body = Some(v),
                _ => {
                    return Err(arg_error(
                        BODY_ARGUMENT,
                        "expected a JSON object (or a string holding one)",
                    ));
                }
            },
            Some(other) => {
                return Err(arg_error(
                    BODY_ARGUMENT,
                    format!("expected a JSON object, got {}", show(other)),
                ));
            }
            None if body.required => {
                return Err(arg_error(
                    BODY_ARGUMENT,
                    format!(
                        "missing required request body{}",
                        body.schema
                            .map(|s| format!(" (schema `{s}`)"))
                            .unwrap_or_default()
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(out)
}
