//! Free text for the client (error texts): JSON quoted in it, `name=value` and `"name": "value"`
//! pairs of secret properties (in HTML or JSON cut short), Junos statements, and every value the
//! session knows as a secret, in its own or escaped form, even cut short by a `…`.
//!
//! A value the caller itself sent (a guess in an argument, echoed in the error) is left as it
//! is: replacing it would tell the caller its guess was right. A value put back from a handle
//! in the same call is always replaced (its echo is the secret itself).

use super::conceal::{self, Walk};
use super::find::secret_property;
use super::vault::{MIN_SCRUB, Vault, handle_ranges, is_handle, leaf_text};
use std::ops::Range;

/// The most JSON values parsed out of one text.
const MAX_EMBEDDED: usize = 32;

pub(super) fn redact(
    vault: &mut Vault,
    text: &str,
    caller: &[&str],
    revealed: &[String],
) -> String {
    let text = embedded_json(vault, text);
    let text = pairs(vault, &text);
    let mut walk = Walk::nowhere(vault);
    let text = conceal::text(&mut walk, &text).unwrap_or(text);
    scrub(vault, &text, caller, revealed)
}

/// JSON objects and arrays quoted in the text, redacted as answers are.
fn embedded_json(vault: &mut Vault, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut tries = 0;
    let mut from = 0;
    while tries < MAX_EMBEDDED
        && let Some(start) = text[from..].find(['{', '[']).map(|p| p + from)
    {
        tries += 1;
        let mut values =
            serde_json::Deserializer::from_str(&text[start..]).into_iter::<serde_json::Value>();
        match values.next() {
            Some(Ok(mut value)) if value.is_object() || value.is_array() => {
                let end = start + values.byte_offset();
                let before = value.clone();
                // An error may echo the model's own body: its ids say nothing of where a value goes.
                let mut walk = Walk::nowhere(vault);
                conceal::tree(&mut walk, &mut value, None);
                if value != before {
                    out.push_str(&text[at..start]);
                    out.push_str(&value.to_string());
                    at = end;
                }
                from = end;
            }
            _ => from = start + 1,
        }
    }
    out.push_str(&text[at..]);
    out
}

/// `psk=VALUE`, `"psk": "VALUE"`, `secret: VALUE` for the names of secret properties.
fn pairs(vault: &mut Vault, text: &str) -> String {
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let handles = handle_ranges(text);
    let mut next_handle = 0;
    let mut spans: Vec<(Range<usize>, String)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        // Nothing inside a handle (`«secret:psk:...»` is no `secret: VALUE`).
        while handles.get(next_handle).is_some_and(|h| h.end <= i) {
            next_handle += 1;
        }
        if let Some(h) = handles.get(next_handle)
            && h.start <= i
        {
            i = h.end;
            continue;
        }
        if !is_name(bytes[i]) || (i > 0 && is_name(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let name = &text[start..i];
        if !secret_property(name, None, |_| false) {
            continue;
        }
        // An optional closing quote of the name, spaces, `:` or `=`, spaces, an optional quote.
        let mut j = i;
        if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || !(bytes[j] == b':' || bytes[j] == b'=') {
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let quote = bytes.get(j).copied().filter(|b| *b == b'"' || *b == b'\'');
        if quote.is_some() {
            j += 1;
        }
        let value_start = j;
        while j < bytes.len() {
            let b = bytes[j];
            let ends = match quote {
                Some(q) => b == q && bytes[j - 1] != b'\\',
                None => b.is_ascii_whitespace() || b",&;}])<".contains(&b),
            };
            if ends {
                break;
            }
            j += 1;
        }
        let value = &text[value_start..j];
        if !value.is_empty() && !is_handle(value) && !value.starts_with(super::vault::HANDLE_OPEN) {
            spans.push((value_start..j, name.to_string()));
        }
        i = j;
    }
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (range, kind) in spans {
        out.push_str(&text[at..range.start]);
        let leaf = serde_json::Value::String(text[range.clone()].to_string());
        out.push_str(&vault.handle(&kind, &leaf, None));
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Every known value replaced by its handle (the longest where values overlap, never inside a
/// handle, never one the caller sent), in one pass whatever the number of values; a known value
/// cut short by a final `…` too.
fn scrub(vault: &mut Vault, text: &str, caller: &[&str], revealed: &[String]) -> String {
    let clipped = clipped(vault, text, caller, revealed);
    let Some(scrubber) = vault.scrubber() else {
        return text.to_string();
    };
    let handles = handle_ranges(text);
    let mut next_handle = 0;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in scrubber.automaton.find_iter(text) {
        // Both in text order: the handles that end before this match are behind for good.
        while handles.get(next_handle).is_some_and(|h| h.end <= m.start()) {
            next_handle += 1;
        }
        let inside_handle = handles.get(next_handle).is_some_and(|h| h.start < m.end());
        let handle = &scrubber.handles[m.pattern().as_usize()];
        // A value the caller's own arguments hold is not replaced (only matches are checked),
        // unless it was put back from a handle in this call.
        let own = !revealed.contains(handle) && caller.iter().any(|c| c.contains(&text[m.range()]));
        if inside_handle || own || m.start() < at {
            continue;
        }
        out.push_str(&text[at..m.start()]);
        out.push_str(handle);
        at = m.end();
    }
    // Known values cut short by a `…` (Mist's error texts are clipped, then go on).
    let mut rest = at;
    for (start, end, handle) in clipped.into_iter().filter(|(s, _, _)| *s >= at) {
        if start < rest {
            continue;
        }
        out.push_str(&text[rest..start]);
        out.push_str(&handle);
        rest = end;
    }
    out.push_str(&text[rest..]);
    out
}

/// Known values cut short before a `…` (`... LongKnownPs…. Hint: ...`): where each starts,
/// where it ends (the `…`), and its handle; at most 16 cuts are looked at.
fn clipped(
    vault: &Vault,
    text: &str,
    caller: &[&str],
    revealed: &[String],
) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for (cut_at, _) in text.match_indices('\u{2026}').take(16) {
        let body = &text[..cut_at];
        let mut best: Option<(usize, String)> = None;
        for (handle, kept) in &vault.kept {
            let value = leaf_text(&kept.value);
            let own =
                !revealed.contains(handle) && caller.iter().any(|c| c.contains(value.as_ref()));
            if value.len() < MIN_SCRUB || own {
                continue;
            }
            let cuts: Vec<usize> = value
                .char_indices()
                .map(|(i, _)| i)
                .skip(MIN_SCRUB)
                .collect();
            for cut in cuts.into_iter().rev() {
                if body.ends_with(&value[..cut]) {
                    let start = body.len() - cut;
                    if best.as_ref().is_none_or(|(s, _)| start < *s) {
                        best = Some((start, handle.clone()));
                    }
                    break;
                }
            }
        }
        if let Some((start, handle)) = best {
            out.push((start, cut_at, handle));
        }
    }
    out
}
