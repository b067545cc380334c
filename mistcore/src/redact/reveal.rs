//! A write's handles replaced by their values: only a handle of this session, in a place of its
//! own kind (a `psk` handle in a `psk` property or a Junos `community` in `snmp community`), and
//! only in a write to the object it was read from.

use super::RevealError;
use super::WriteTo;
use super::conceal::for_each_object;
use super::find::{secret_flags, spans_of};
use super::vault::{Kept, Vault, handle_kind, handle_ranges, is_handle, leaf_text};
use mistcore_junos::secrets::looks_encrypted;
use serde_json::Value;
use std::ops::Range;

/// The value of `handle` for a place of `kind` in a write to `to`.
fn value_for<'v>(
    vault: &'v Vault,
    handle: &str,
    kind: &str,
    place: &str,
    to: &WriteTo<'_>,
) -> Result<&'v Kept, RevealError> {
    let kept = vault.lookup(handle)?;
    if handle_kind(handle) != Some(kind) {
        return Err(RevealError::Misplaced {
            handle: handle.to_string(),
            place: place.to_string(),
        });
    }
    // Only an update of that very object: a create below it, or anything else, is another object.
    let last = to.place.rsplit('/').next().unwrap_or("");
    let same_object = to.update
        && kept
            .origins
            .iter()
            .any(|o| o.path.as_deref() == Some(to.place) || o.ids.iter().any(|id| id == last));
    if !same_object {
        return Err(RevealError::OtherObject {
            handle: handle.to_string(),
            target: to.place.to_string(),
        });
    }
    Ok(kept)
}

pub(super) fn tree(
    vault: &Vault,
    value: &mut Value,
    parent: Option<&str>,
    to: &WriteTo<'_>,
) -> Result<(), RevealError> {
    match value {
        Value::Object(map) => {
            let secret = secret_flags(map, parent);
            let snmp = parent == Some("snmp");
            for ((k, child), secret) in map.iter_mut().zip(secret) {
                if secret {
                    leaves(vault, child, k, to)?;
                } else if snmp && k == "community" {
                    let mut result = Ok(());
                    for_each_object(child, |c| {
                        for (ck, cv) in c.iter_mut() {
                            let r = if ck == "name" {
                                leaves(vault, cv, "community", to)
                            } else {
                                tree(vault, cv, Some(ck), to)
                            };
                            if result.is_ok() {
                                result = r;
                            }
                        }
                    });
                    result?;
                } else {
                    tree(vault, child, Some(k), to)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            // The lines of a private key split over the items of an array go back as they came.
            items.iter_mut().try_for_each(|i| match i {
                Value::String(s) if handle_kind(s) == Some("private_key") => {
                    leaves(vault, i, "private_key", to)
                }
                _ => tree(vault, i, parent, to),
            })
        }
        // Handles inside JSON text held in a string are not looked for there: the string is
        // text (an SSID, a header), and what it holds stays text.
        Value::String(s) if s.contains(super::vault::HANDLE_OPEN) => {
            *s = string(vault, s, parent.unwrap_or("body"), to)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Under a secret property of `kind`: a whole handle keeps its number; handles within a text
/// are put back as text.
fn leaves(
    vault: &Vault,
    value: &mut Value,
    kind: &str,
    to: &WriteTo<'_>,
) -> Result<(), RevealError> {
    match value {
        Value::String(s) if is_handle(s) => {
            *value = value_for(vault, s, kind, kind, to)?.value.clone();
            Ok(())
        }
        Value::String(s) if s.contains(super::vault::HANDLE_OPEN) => {
            let mut out = String::with_capacity(s.len());
            let mut at = 0;
            for r in handle_ranges(s) {
                out.push_str(&s[at..r.start]);
                out.push_str(&leaf_text(
                    &value_for(vault, &s[r.clone()], kind, kind, to)?.value,
                ));
                at = r.end;
            }
            out.push_str(&s[at..]);
            *s = out;
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|i| leaves(vault, i, kind, to)),
        Value::Object(map) => map
            .values_mut()
            .try_for_each(|v| leaves(vault, v, kind, to)),
        _ => Ok(()),
    }
}

/// Whether `range` of `text` is a word of its own (a Junos token, an XML element's text).
fn whole_token(text: &str, range: &Range<usize>) -> bool {
    let before = text[..range.start].chars().next_back();
    let after = text[range.end..].chars().next();
    let edge = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || "\"';<>{}".contains(c));
    edge(before) && edge(after)
}

/// The word before `at` (a Junos statement's keyword before its value, quoted or not).
fn word_before(text: &str, at: usize) -> &str {
    let head = text[..at].trim_end_matches('"').trim_end();
    head.rsplit(|c: char| c.is_whitespace() || c == '{' || c == ';')
        .next()
        .unwrap_or("")
}

/// A text's handles put back where a secret of their kind stands (Junos statements), or where an
/// encrypted value (`$9$...`) stands after the statement it was read from; any other is refused.
pub(super) fn string(
    vault: &Vault,
    text: &str,
    place: &str,
    to: &WriteTo<'_>,
) -> Result<String, RevealError> {
    let handles = handle_ranges(text);
    if handles.is_empty() {
        return Ok(text.to_string());
    }
    let spans = spans_of(text);
    let mut out = String::with_capacity(text.len());
    // Where each value went in `out`, the kind it must be found as there, and its handle.
    let mut placed: Vec<(Range<usize>, &str, &str)> = Vec::with_capacity(handles.len());
    let mut at = 0;
    for r in handles {
        let handle = &text[r.clone()];
        let kind = handle_kind(handle).unwrap_or("");
        // Both sorted: the span at this handle, if any, by its start.
        let span = spans
            .binary_search_by_key(&r.start, |s| s.range.start)
            .ok()
            .map(|i| &spans[i])
            .filter(|s| s.range == r);
        let kept = match span {
            Some(span) => value_for(vault, handle, &span.kind, &span.kind, to)?,
            // An encrypted value (`$9$...`) back after the statement it was read from.
            None => {
                let keyword = word_before(text, r.start);
                let kept = value_for(vault, handle, keyword, place, to)?;
                if !(whole_token(text, &r) && looks_encrypted(&leaf_text(&kept.value))) {
                    return Err(misplaced(handle, place));
                }
                kept
            }
        };
        out.push_str(&text[at..r.start]);
        let start = out.len();
        out.push_str(&leaf_text(&kept.value));
        placed.push((start..out.len(), kind, handle));
        at = r.end;
    }
    out.push_str(&text[at..]);
    // What is sent must read back as a secret of the same kind where each value went: a value
    // that would be shown as it is (`"see secret $9$..."` in a description, `secret VALUE` in a
    // free-text field) is refused.
    let read_back = spans_of(&out);
    for (range, kind, handle) in placed {
        let found = read_back
            .binary_search_by_key(&range.start, |s| s.range.start)
            .ok()
            .map(|i| &read_back[i])
            .is_some_and(|s| s.range == range && s.kind == kind);
        if !found {
            return Err(misplaced(handle, place));
        }
    }
    Ok(out)
}

fn misplaced(handle: &str, place: &str) -> RevealError {
    RevealError::Misplaced {
        handle: handle.to_string(),
        place: place.to_string(),
    }
}
