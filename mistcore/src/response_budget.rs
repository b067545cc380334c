//! Results sized for a model's context: a byte budget per tool result, cut at a record boundary
//! into valid JSON that says what was left out and how to get it, and a `fields` projection that
//! keeps only some keys of each record. The CLI never uses this: scripts get everything.

use crate::call::ToolError;
use serde_json::{Map, Value, json};

/// The default budget of a tool result (`--max-response-bytes`).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// What [`fit`] left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The records kept.
    pub kept: usize,
    /// The records in the answer before the cut.
    pub total: usize,
    /// The key of the object field holding the records (`results`), or `None` for a bare list.
    pub field: Option<String>,
    /// The size of the whole answer, in bytes of compact JSON.
    pub bytes: usize,
}

impl Cut {
    /// The note added to a cut result: how many records were left out and how to get them.
    pub fn note(&self, paged: bool) -> Value {
        let left_out = self.total - self.kept;
        let mut how = Vec::new();
        if self.kept > 0 && paged {
            how.push(format!(
                "ask for smaller pages: limit={} (then page=2, 3, ... or the `next` path) returns every record within the budget",
                self.kept
            ));
        } else if self.kept > 0 {
            how.push(format!(
                "ask for fewer records at once (e.g. limit={}, or a narrower filter)",
                self.kept
            ));
        }
        how.push(
            "keep only the keys you need with the `fields` argument (e.g. fields=[\"id\",\"name\"])"
                .to_string(),
        );
        json!({
            "records_returned": self.kept,
            "records_left_out": left_out,
            "answer_bytes": self.bytes,
            "how_to_get_the_rest": how,
        })
    }
}

fn size(value: &Value) -> usize {
    serde_json::to_string(value).map_or(0, |s| s.len())
}

/// The records of an answer: a bare list, or the largest list field of an object (`results`
/// of a search answer).
fn records_mut(body: &mut Value) -> Option<(Option<String>, &mut Vec<Value>)> {
    match body {
        Value::Array(items) => Some((None, items)),
        Value::Object(map) => {
            let key = map
                .iter()
                .filter(|(_, v)| v.is_array())
                .map(|(k, v)| (k, size(v)))
                .max_by_key(|(_, bytes)| *bytes)
                .map(|(k, _)| k.clone())?;
            match map.get_mut(&key) {
                Some(Value::Array(items)) => Some((Some(key), items)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Cuts `body` so that its compact JSON fits in `max_bytes` (less `reserve` for the note),
/// keeping whole records. `None` when it fits already. An answer with no list to cut is
/// replaced by a short object naming its keys.
pub fn fit(body: &mut Value, max_bytes: usize, reserve: usize) -> Option<Cut> {
    let bytes = size(body);
    if bytes <= max_bytes {
        return None;
    }
    let room = max_bytes.saturating_sub(reserve);
    let Some((field, records)) = records_mut(body) else {
        let keys: Vec<String> = body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        *body = json!({ "too_large": true, "keys": keys });
        return Some(Cut {
            kept: 0,
            total: 1,
            field: None,
            bytes,
        });
    };
    let total = records.len();
    let all: Vec<Value> = std::mem::take(records);
    // The envelope (an object's other fields) stays; records go in while they fit.
    let envelope = size(body);
    let mut used = envelope;
    let mut kept = Vec::new();
    for record in all {
        let record_bytes = size(&record) + 1;
        if used + record_bytes > room {
            break;
        }
        used += record_bytes;
        kept.push(record);
    }
    let cut = Cut {
        kept: kept.len(),
        total,
        field,
        bytes,
    };
    // Back where they came from (the emptied list is no longer the largest one).
    match (&cut.field, &mut *body) {
        (Some(key), Value::Object(map)) => {
            map.insert(key.clone(), Value::Array(kept));
        }
        _ => *body = Value::Array(kept),
    }
    Some(cut)
}

/// Keeps only `fields` in each record of `body` (a list, or the records of an object as in
/// [`fit`]; a single object is projected itself). Dotted names reach into nested objects
/// (`radio_stat.band_5`).
pub fn project(body: &mut Value, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    let keep = |record: &mut Value| {
        if let Value::Object(map) = record {
            let mut out = Map::new();
            for f in fields {
                if let Some(v) = lookup(map, f) {
                    insert(&mut out, f, v.clone());
                }
            }
            *map = out;
        }
    };
    match body {
        Value::Array(items) => items.iter_mut().for_each(keep),
        Value::Object(map) => {
            let list = map
                .iter()
                .filter(|(_, v)| v.is_array())
                .max_by_key(|(_, v)| v.as_array().map_or(0, Vec::len))
                .map(|(k, _)| k.clone());
            match list.and_then(|k| map.get_mut(&k)) {
                Some(Value::Array(items)) => items.iter_mut().for_each(keep),
                _ => keep(body),
            }
        }
        _ => {}
    }
}

fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = map.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

fn insert(out: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            out.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let inner = out
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}

/// Reads a `fields` argument: a list of names or a comma-separated string.
pub fn parse_fields(value: Option<&Value>) -> Result<Vec<String>, ToolError> {
    let names: Vec<String> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or_else(|| format!("`fields` takes key names, got {v}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "`fields` takes a list of key names such as [\"id\", \"name\"], got {other}"
            )
            .into());
        }
    };
    Ok(names.into_iter().filter(|n| !n.is_empty()).collect())
}

/// Reads a `jq` argument: a filter, checked now (a bad one is an error before Mist is called).
pub fn parse_jq(value: Option<&Value>) -> Result<Option<String>, ToolError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            crate::jq::Filter::new(s).map_err(|e| ToolError::from(e.to_string()))?;
            Ok(Some(s.clone()))
        }
        Some(other) => Err(format!(
            "`jq` takes a filter as a string, such as \".[] | {{name, mac}}\", got {other}"
        )
        .into()),
    }
}

/// Runs a `jq` filter over an answer: its one output, or the list of its outputs.
///
/// The filter is compiled again here (it was checked by [`parse_jq`]): a compiled filter holds
/// `Rc`s, so it cannot be kept across the await on Mist's answer.
pub fn apply_jq(body: Value, filter: &str) -> Result<Value, ToolError> {
    let filter = crate::jq::Filter::new(filter).map_err(|e| ToolError::from(e.to_string()))?;
    let mut outputs = filter
        .run(&body, crate::jq::Budget::default())
        .map_err(|e| ToolError::from(e.to_string()))?;
    Ok(if outputs.len() == 1 {
        outputs.remove(0)
    } else {
        Value::Array(outputs)
    })
}

/// The JSON schema of the `jq` argument (short: it is in every list tool's definition).
pub fn jq_schema() -> Value {
    json!({
        "type": "string",
        "description": "A jq filter over the answer, e.g. .[] | select(.status==\"disconnected\") | {name, mac}"
    })
}

/// The JSON schema of the `fields` argument.
pub fn fields_schema() -> Value {
    json!({
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
        "description": "Keep only these keys of each record (dotted names reach nested keys), e.g. [\"id\", \"name\", \"mac\"]: smaller answers"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_cut_at_a_record_boundary_into_valid_json() {
        let mut body = json!(
            (0..100)
                .map(|i| json!({"id": i, "pad": "x".repeat(90)}))
                .collect::<Vec<_>>()
        );
        let cut = fit(&mut body, 2000, 0).expect("cut");
        assert!(serde_json::to_string(&body).expect("json").len() <= 2000);
        assert_eq!(cut.total, 100);
        assert_eq!(body.as_array().map(Vec::len), Some(cut.kept));
        assert!(cut.kept > 10 && cut.kept < 20, "{cut:?}");
        assert_eq!(body[0]["id"], 0);
    }

    #[test]
    fn a_search_answer_keeps_its_envelope() {
        let results: Vec<Value> = (0..50)
            .map(|i| json!({"mac": format!("{i:012}"), "pad": "y".repeat(200)}))
            .collect();
        let mut body =
            json!({"total": 50, "limit": 50, "results": results, "next": "/api/v1/x?page=2"});
        let cut = fit(&mut body, 3000, 200).expect("cut");
        assert_eq!(cut.field.as_deref(), Some("results"));
        assert_eq!(body["total"], 50);
        assert_eq!(body["results"].as_array().map(Vec::len), Some(cut.kept));
        assert!(serde_json::to_string(&body).expect("json").len() <= 2800);
    }

    #[test]
    fn the_records_go_back_to_their_own_field() {
        let results: Vec<Value> = (0..200)
            .map(|i| json!({"i": i, "pad": "z".repeat(50)}))
            .collect();
        let mut body = json!({"results": results, "tags": ["a", "b"]});
        let cut = fit(&mut body, 4000, 0).expect("cut");
        assert_eq!(body["tags"], json!(["a", "b"]));
        assert_eq!(body["results"].as_array().map(Vec::len), Some(cut.kept));
        assert!(cut.kept > 0);
    }

    #[test]
    fn small_answers_are_untouched() {
        let mut body = json!([{"id": 1}]);
        assert!(fit(&mut body, 1000, 100).is_none());
        assert_eq!(body, json!([{"id": 1}]));
    }

    #[test]
    fn projection_keeps_named_and_dotted_keys() {
        let mut body =
            json!({"results": [{"id": 1, "name": "a", "x": 2, "stat": {"cpu": 3, "mem": 4}}]});
        project(
            &mut body,
            &["id".into(), "stat.cpu".into(), "missing".into()],
        );
        assert_eq!(body, json!({"results": [{"id": 1, "stat": {"cpu": 3}}]}));
        let mut single = json!({"id": 1, "name": "a"});
        project(&mut single, &["name".into()]);
        assert_eq!(single, json!({"name": "a"}));
        assert_eq!(
            parse_fields(Some(&json!("id, name"))).expect("ok"),
            vec!["id", "name"]
        );
        assert!(parse_fields(Some(&json!(3))).is_err());
    }
}
