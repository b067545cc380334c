//! Rendering answers: JSON (default), NDJSON, YAML, or an aligned table for humans.

use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;
use std::io::Write;

/// An output format (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, pretty on a terminal, compact in a pipe.
    Json,
    /// One JSON document per line, one per item.
    Ndjson,
    /// YAML.
    Yaml,
    /// Aligned columns for humans.
    Table,
}

/// The items of an answer: a list, the `results` of a search, or the object itself.
pub fn items(body: &Value) -> Vec<&Value> {
    match body {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![body],
        },
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Columns tried, in order, when none are given: the identifying fields of Mist objects.
const PREFERRED: &[&str] = &[
    "name",
    "hostname",
    "ssid",
    "id",
    "mac",
    "serial",
    "model",
    "type",
    "status",
    "ip",
    "version",
    "site_id",
    "org_id",
    "timestamp",
    "count",
    "key",
    "value",
];

fn columns_for(items: &[&Value], asked: &[String]) -> Vec<String> {
    if !asked.is_empty() {
        return asked.to_vec();
    }
    let present = |k: &str| items.iter().any(|i| i.get(k).is_some_and(|v| !v.is_null()));
    let mut cols: Vec<String> = PREFERRED
        .iter()
        .filter(|k| present(k))
        .take(7)
        .map(|k| k.to_string())
        .collect();
    if cols.is_empty() {
        // Unknown shapes: the first scalar fields of the first item.
        if let Some(Value::Object(o)) = items.first() {
            cols = o
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .take(6)
                .map(|(k, _)| k.clone())
                .collect();
        }
    }
    cols
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Writes `body` in `format`. `tty` makes JSON pretty.
pub fn render(
    out: &mut dyn Write,
    body: &Value,
    format: Format,
    columns: &[String],
    tty: bool,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let text = if tty {
                serde_json::to_string_pretty(body)
            } else {
                serde_json::to_string(body)
            };
            writeln!(out, "{}", text.map_err(std::io::Error::other)?)
        }
        Format::Ndjson => {
            for item in items(body) {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(item).map_err(std::io::Error::other)?
                )?;
            }
            Ok(())
        }
        Format::Yaml => {
            let text = serde_norway::to_string(body).map_err(std::io::Error::other)?;
            write!(out, "{text}")
        }
        Format::Table => {
            let list = items(body);
            let mut table = Table::new();
            table
                .load_style(presets::NOTHING)
                .set_content_arrangement(ContentArrangement::Disabled);
            let single_object =
                !body.is_array() && !body.get("results").is_some_and(Value::is_array);
            if single_object
                && columns.is_empty()
                && let Value::Object(o) = body
            {
                table.set_header(vec!["FIELD", "VALUE"]);
                for (k, v) in o {
                    let mut shown = cell(Some(v));
                    if shown.chars().count() > 80 {
                        shown = format!("{}…", shown.chars().take(80).collect::<String>());
                    }
                    table.add_row(vec![k.clone(), shown]);
                }
                return writeln!(out, "{table}");
            }
            let cols = columns_for(&list, columns);
            table.set_header(cols.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>());
            for item in list {
                table.add_row(cols.iter().map(|c| cell(item.get(c))).collect::<Vec<_>>());
            }
            writeln!(out, "{table}")
        }
    }
}
