//! The workflow tools of the official Python server, same names and arguments, each answered by
//! one operation of the catalog.
//!
//! A workflow is data plus a `plan` function: the plan turns the tool's arguments into the
//! operation to call and its arguments, which then go through the same validation, write
//! confirmation and single request as every other tool.

mod args;
mod catalog_tools;
mod config;
mod monitoring;
mod search;
pub mod utilities;

pub use args::{Args, check};

use crate::call::ToolError;
use serde_json::{Map, Value, json};

/// What to do with the answer before it goes back.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    /// Return it as it is.
    Nothing,
    /// Add `device_id` (derived from `mac`) to each result of an inventory search.
    DeviceIds,
    /// Shape a list: keep the items whose `attr` matches `pattern` (case-insensitive; `*`
    /// wildcards, a pattern without `*` matches as a substring), at most `limit` of them, and
    /// with `summary` cut each item to its `attr` and `id`, as the official server lists them.
    Filter {
        /// The attribute holding the name (`name`, `ssid` for WLANs).
        attr: &'static str,
        /// The name pattern, if any.
        pattern: Option<String>,
        /// How many items to keep.
        limit: Option<usize>,
        /// Whether to cut items to `attr` and `id`.
        summary: bool,
    },
}

/// The operation a workflow call resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The operation id.
    pub operation: &'static str,
    /// Its arguments (path and query parameters, `body` for writes).
    pub args: Map<String, Value>,
    /// Post-processing of the answer.
    pub after: After,
    /// The object type a write changes, for the confirmation (`org_wlans`).
    pub object_type: Option<String>,
}

impl Plan {
    /// A plan calling `operation` with `args`, returning the answer as it is.
    pub fn call(operation: &'static str, args: Map<String, Value>) -> Self {
        Plan {
            operation,
            args,
            after: After::Nothing,
            object_type: None,
        }
    }

    /// The same plan with a post-processing step.
    pub fn then(mut self, after: After) -> Self {
        self.after = after;
        self
    }
}

/// Where a workflow's answer comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// One Mist operation, chosen by `plan`.
    Api(fn(&Args) -> Result<Plan, ToolError>),
    /// Data answered locally (schemas of configuration objects).
    Local(fn(&Args) -> Result<Value, ToolError>),
    /// `mist_get_next_page`: a path given by a previous answer.
    NextPage,
    /// `mist_utilities`: a command on a device, its output from the Mist stream.
    Utilities,
}

/// One workflow tool.
#[derive(Debug, Clone, Copy)]
pub struct Workflow {
    /// The tool name, as in the official server.
    pub name: &'static str,
    /// A short title.
    pub title: &'static str,
    /// What the tool does.
    pub description: &'static str,
    /// Whether it writes, and whether the write may destroy something.
    pub write: Option<Destructive>,
    /// The input schema.
    pub schema: fn() -> Value,
    /// Where the answer comes from.
    pub source: Source,
}

/// Whether a write workflow can delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destructive(pub bool);

/// Every workflow tool, in name order.
pub fn all() -> &'static [Workflow] {
    static ALL: std::sync::OnceLock<Vec<Workflow>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Workflow> = [
            catalog_tools::WORKFLOWS,
            search::WORKFLOWS,
            monitoring::WORKFLOWS,
            config::WORKFLOWS,
            utilities::WORKFLOWS,
        ]
        .concat();
        v.sort_by_key(|w| w.name);
        v
    })
}

/// Finds a workflow by name.
pub fn find(name: &str) -> Option<&'static Workflow> {
    all().iter().find(|w| w.name == name)
}

/// The output schema of the workflow tools, as the official server declares it.
pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"result": {"anyOf": [
            {"type": "object", "additionalProperties": true},
            {"type": "array", "items": {}},
            {"type": "string"}
        ]}},
        "required": ["result"],
        "x-fastmcp-wrap-result": true
    })
}

/// Schema helpers: the official server's property conventions (optional arguments default to null).
pub mod props {
    use serde_json::{Value, json};

    /// A required UUID.
    pub fn uuid(description: &str) -> Value {
        json!({"type": "string", "format": "uuid", "description": description})
    }
    /// An optional UUID.
    pub fn opt_uuid(description: &str) -> Value {
        json!({"type": "string", "format": "uuid", "default": null, "description": description})
    }
    /// A required string.
    pub fn string(description: &str) -> Value {
        json!({"type": "string", "description": description})
    }
    /// An optional string.
    pub fn opt_string(description: &str) -> Value {
        json!({"type": "string", "default": null, "description": description})
    }
    /// A required choice.
    pub fn choice(values: &[&str], description: &str) -> Value {
        json!({"type": "string", "enum": values, "description": description})
    }
    /// An optional choice.
    pub fn opt_choice(values: &[&str], description: &str) -> Value {
        json!({"type": "string", "enum": values, "default": null, "description": description})
    }
    /// An optional integer with a default (`null` for none).
    pub fn int(default: Value, description: &str) -> Value {
        json!({"type": "integer", "default": default, "description": description})
    }
    /// An optional boolean with a default.
    pub fn boolean(default: Value, description: &str) -> Value {
        json!({"type": "boolean", "default": default, "description": description})
    }
    /// Optional `start`/`end` epoch seconds.
    pub fn time_range() -> [(&'static str, Value); 2] {
        [
            (
                "start",
                int(Value::Null, "Start of time range (epoch seconds)"),
            ),
            ("end", int(Value::Null, "End of time range (epoch seconds)")),
        ]
    }
    /// `limit` with its default.
    pub fn limit(default: i64) -> Value {
        int(json!(default), "Max number of results per page")
    }

    /// An object schema from properties (in order) and the required names.
    pub fn object(properties: Vec<(&str, Value)>, required: &[&str]) -> Value {
        let mut map = serde_json::Map::new();
        for (k, v) in properties {
            map.insert(k.to_string(), v);
        }
        json!({"type": "object", "properties": map, "required": required, "additionalProperties": false})
    }
}

/// The device id Mist derives from a MAC address.
pub fn device_id_from_mac(mac: &str) -> Option<String> {
    let hex: String = mac
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 12).then(|| format!("00000000-0000-0000-1000-{hex}"))
}

/// Applies the post-processing step to an answer.
pub fn apply(after: &After, body: Value) -> Value {
    match after {
        After::Nothing => body,
        After::DeviceIds => {
            let mut body = body;
            let add = |item: &mut Value| {
                // A virtual chassis member is known by the chassis MAC, as the official server does.
                let mac = ["vc_mac", "mac"].iter().find_map(|k| {
                    item.get(*k)
                        .and_then(Value::as_str)
                        .filter(|m| !m.is_empty())
                });
                if let Some(id) = mac.and_then(device_id_from_mac)
                    && let Some(o) = item.as_object_mut()
                {
                    o.entry("device_id").or_insert(Value::String(id));
                }
            };
            match &mut body {
                Value::Array(items) => items.iter_mut().for_each(add),
                Value::Object(o) => {
                    if let Some(Value::Array(items)) = o.get_mut("results") {
                        items.iter_mut().for_each(add);
                    }
                }
                _ => {}
            }
            body
        }
        After::Filter {
            attr,
            pattern,
            limit,
            summary,
        } => {
            let Value::Array(items) = body else {
                return body;
            };
            let matcher = pattern.as_ref().map(|p| {
                let p = p.to_ascii_lowercase();
                wildmatch::WildMatch::new(&if p.contains('*') { p } else { format!("*{p}*") })
            });
            let kept = items
                .into_iter()
                .filter(|v| match &matcher {
                    Some(m) => v
                        .get(*attr)
                        .and_then(Value::as_str)
                        .is_some_and(|n| m.matches(&n.to_ascii_lowercase())),
                    None => !*summary || v.get(*attr).is_some_and(|n| !n.is_null()),
                })
                .take(limit.unwrap_or(usize::MAX))
                .map(|v| {
                    if *summary {
                        json!({ *attr: v.get(*attr), "id": v.get("id") })
                    } else {
                        v
                    }
                });
            Value::Array(kept.collect())
        }
    }
}
