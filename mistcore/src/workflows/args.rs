//! Reading and checking the arguments of a workflow call.

use crate::call::ToolError;
use crate::catalog::closest;
use crate::schema::is_uuid;
use serde_json::{Map, Value};

/// The arguments of one workflow call, `null` counting as absent.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a>(pub &'a Map<String, Value>);

impl<'a> Args<'a> {
    /// A present, non-null argument.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A present, non-empty string argument.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.value(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A string argument the current branch needs; the error says when it is needed.
    pub fn require(&self, name: &str, when: &str) -> Result<&'a str, ToolError> {
        self.str(name)
            .ok_or_else(|| ToolError::from(format!("`{name}` is required {when}")))
    }

    /// The selector argument (an enum the schema made required).
    pub fn selector(&self, name: &str) -> &'a str {
        self.str(name).unwrap_or("")
    }

    /// `limit` as given, or the tool's default.
    pub fn limit_or(&self, default: i64) -> Value {
        self.value("limit").cloned().unwrap_or(Value::from(default))
    }

    /// The scope of an org-or-site call: `site_id` (required) when `site`, else `org_id`.
    pub fn org_or_site(
        &self,
        site: bool,
        when: &str,
    ) -> Result<(bool, Map<String, Value>), ToolError> {
        if site {
            self.require("site_id", when)?;
            Ok((true, self.pick(&[("site_id", "site_id")])))
        } else {
            self.require("org_id", when)?;
            Ok((false, self.pick(&[("org_id", "org_id")])))
        }
    }

    /// Whether `site_id` was given.
    pub fn has_site(&self) -> bool {
        self.str("site_id").is_some()
    }

    /// Refuses arguments the chosen operation cannot take, naming them and why.
    pub fn refuse(&self, names: &[&str], why: &str) -> Result<(), ToolError> {
        match names.iter().find(|n| self.value(n).is_some()) {
            Some(n) => Err(format!("`{n}` is not supported {why}").into()),
            None => Ok(()),
        }
    }

    /// Copies the present arguments `from` under the names `to`.
    pub fn pick(&self, pairs: &[(&str, &str)]) -> Map<String, Value> {
        let mut out = Map::new();
        for (from, to) in pairs {
            if let Some(v) = self.value(from) {
                out.insert((*to).to_string(), v.clone());
            }
        }
        out
    }
}

/// Checks arguments against a workflow's flat input schema: unknown names, missing required
/// ones, enum values, UUIDs and JSON types. Integers and booleans given as strings pass: the
/// operation's own validation converts them.
pub fn check(schema: &Value, args: &Map<String, Value>) -> Result<(), ToolError> {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    for (name, value) in args {
        if value.is_null() {
            continue;
        }
        let Some(prop) = props.get(name) else {
            let near = closest(name, props.keys().map(String::as_str), 1);
            let hint = near
                .first()
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            let names: Vec<&str> = props.keys().map(String::as_str).collect();
            return Err(format!(
                "invalid argument `{name}`: unknown argument; {hint}accepted arguments: {}",
                names.join(", ")
            )
            .into());
        };
        if let Some(allowed) = prop["enum"].as_array() {
            if !allowed.contains(value) {
                let words: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                let near = closest(value.as_str().unwrap_or(""), words.iter().copied(), 3);
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (closest: {})", near.join(", "))
                };
                return Err(format!(
                    "invalid argument `{name}`: {value} is not allowed; expected one of {}{hint}",
                    words.join(", ")
                )
                .into());
            }
            continue;
        }
        let ty = prop["type"].as_str().unwrap_or("");
        let fits = match (ty, value) {
            ("string", Value::String(s)) => prop["format"] != "uuid" || is_uuid(s.trim()),
            ("string", Value::Number(_)) => prop["format"] != "uuid",
            ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
            ("integer", Value::String(s)) => s.trim().parse::<i64>().is_ok(),
            ("boolean", Value::Bool(_)) => true,
            ("boolean", Value::String(s)) => s == "true" || s == "false",
            ("array", Value::Array(_) | Value::String(_)) => true,
            ("object", Value::Object(_)) => true,
            ("", _) => true,
            _ => false,
        };
        if !fits {
            let expected = if prop["format"] == "uuid" {
                "a UUID such as 6748cfa6-4e12-11e6-9188-0242ac110007".to_string()
            } else {
                format!("a {ty}")
            };
            return Err(
                format!("invalid argument `{name}`: expected {expected}, got {value}").into(),
            );
        }
    }
    for name in schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if args.get(name).is_none_or(Value::is_null) {
            return Err(format!("invalid argument `{name}`: missing required argument").into());
        }
    }
    Ok(())
}

/// `m` with the entries of `more` added.
pub fn extend(mut m: Map<String, Value>, more: Map<String, Value>) -> Map<String, Value> {
    m.extend(more);
    m
}

/// `m` with `limit`: the one given, or the tool's default.
pub fn with_limit(mut m: Map<String, Value>, a: &Args, default: i64) -> Map<String, Value> {
    m.insert("limit".into(), a.limit_or(default));
    m
}

/// The `start` and `end` arguments, as given.
pub fn time(a: &Args) -> Map<String, Value> {
    a.pick(&[("start", "start"), ("end", "end")])
}
