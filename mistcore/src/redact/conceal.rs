//! Answers (and a write shown to the human) with their secrets replaced by handles.

use super::ReadFrom;
use super::find::{json_text, pem_begins, secret_flags, spans_of};
use super::vault::{Origin, Vault, is_handle};
use serde_json::{Map, Value};

/// One walk over an answer: the vault, and where the answer was read (the path of a single
/// object, the `id`s of the records around the current value), when it is a Mist or device
/// answer at all.
pub(super) struct Walk<'v> {
    vault: &'v mut Vault,
    /// Whether values get a place to go back to: only what Mist or a device answered does (a
    /// write's own body, an error text or output say nothing of where a value belongs).
    from_answer: bool,
    /// The path of a single object's read, `None` for lists, searches and device output.
    path: Option<String>,
    /// Whether records' ids name their objects (see [`ReadFrom::records`]).
    records: bool,
    ids: Vec<String>,
}

impl<'v> Walk<'v> {
    /// A walk over an answer read `from`.
    pub fn answer(vault: &'v mut Vault, from: ReadFrom<'_>) -> Self {
        Walk {
            vault,
            from_answer: !from.place.is_empty(),
            path: from.single.then(|| from.place.to_string()),
            records: from.records,
            ids: Vec::new(),
        }
    }

    /// A walk over text or JSON whose values go back nowhere.
    pub fn nowhere(vault: &'v mut Vault) -> Self {
        Walk {
            vault,
            from_answer: false,
            path: None,
            records: false,
            ids: Vec::new(),
        }
    }

    fn handle(&mut self, kind: &str, leaf: &Value) -> String {
        if !self.from_answer {
            return self.vault.handle(kind, leaf, None);
        }
        let origin = Origin {
            path: self.path.clone(),
            ids: self.ids.clone(),
        };
        self.vault.handle(kind, leaf, Some(&origin))
    }
}

/// Whether a value is a record of the answer: the answer itself, an item of a list answer or
/// of a search's `results`. Only a record's `id` names the object its secrets go back to (an
/// `id` deeper down, or one a write's echo carries, names nothing).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Record,
    Inner,
}

pub(super) fn tree(w: &mut Walk<'_>, value: &mut Value, parent: Option<&str>) {
    walk(w, value, parent, Level::Record);
}

fn walk(w: &mut Walk<'_>, value: &mut Value, parent: Option<&str>, level: Level) {
    match value {
        Value::Object(map) => {
            // Mist's ids are UUIDs: anything else (`"id": "setting"`, in a hostile answer) would
            // let a value go back to a path that merely ends with that word.
            let id = match map.get("id") {
                Some(Value::String(id))
                    if w.records && level == Level::Record && crate::schema::is_uuid(id) =>
                {
                    Some(id.clone())
                }
                _ => None,
            };
            let pushed = id.is_some();
            w.ids.extend(id);
            let secret = secret_flags(map, parent);
            // Junos JSON: `"snmp": {"community": [{"name": "public", ...}]}`.
            let snmp = parent == Some("snmp");
            for ((k, child), secret) in map.iter_mut().zip(secret) {
                // A search's records are the items of its `results`.
                let below = if level == Level::Record && k == "results" {
                    Level::Record
                } else {
                    Level::Inner
                };
                if secret {
                    leaves(w, k, child);
                } else if snmp && k == "community" {
                    for_each_object(child, |c| {
                        if let Some(name) = c.get_mut("name") {
                            leaves(w, "community", name);
                        }
                        for (ck, cv) in c.iter_mut().filter(|(ck, _)| *ck != "name") {
                            walk(w, cv, Some(ck), Level::Inner);
                        }
                    });
                } else {
                    walk(w, child, Some(k), below);
                }
            }
            if pushed {
                w.ids.pop();
            }
        }
        Value::Array(items) => {
            // A private key split over the items of an array, one line each.
            let mut in_key = false;
            for item in items {
                if let Value::String(s) = item
                    && (in_key || pem_begins(s))
                {
                    in_key = !s.contains("-----END");
                    leaves(w, "private_key", item);
                    continue;
                }
                // The items of a list answer are its records.
                walk(w, item, parent, level);
            }
        }
        Value::String(s) => {
            if let Some(mut inner) = json_text(s) {
                let before = inner.clone();
                walk(w, &mut inner, parent, Level::Inner);
                if inner != before {
                    *s = inner.to_string();
                }
            } else if let Some(new) = text(w, s) {
                *s = new;
            }
        }
        _ => {}
    }
}

pub(super) fn for_each_object(value: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(map) => f(map),
        Value::Array(items) => items.iter_mut().for_each(|i| {
            if let Value::Object(map) = i {
                f(map);
            }
        }),
        _ => {}
    }
}

/// Every string and number under a secret property becomes a handle; `null`, booleans and
/// empty strings stay (they say "not set", which is no secret).
pub(super) fn leaves(w: &mut Walk<'_>, kind: &str, value: &mut Value) {
    match value {
        Value::String(s) if s.is_empty() || is_handle(s) => {}
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(w.handle(kind, value));
        }
        Value::Array(items) => items.iter_mut().for_each(|i| leaves(w, kind, i)),
        Value::Object(map) => map.values_mut().for_each(|v| leaves(w, kind, v)),
        _ => {}
    }
}

/// The text with its secrets replaced, or `None` when it holds none.
pub(super) fn text(w: &mut Walk<'_>, text: &str) -> Option<String> {
    let spans: Vec<_> = spans_of(text)
        .into_iter()
        .filter(|s| !is_handle(&text[s.range.clone()]))
        .collect();
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
        out.push_str(&text[at..s.range.start]);
        let leaf = Value::String(text[s.range.clone()].to_string());
        out.push_str(&w.handle(&s.kind, &leaf));
        at = s.range.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}
