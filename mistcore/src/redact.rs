//! What the model sees: secrets in answers (pre-shared keys, RADIUS secrets, SNMP communities,
//! API keys and tokens, passwords, private keys, Junos `$9$` strings) become handles such as
//! `«secret:psk:4f1c9a2b»`, and the handles of a write become the values again before it is sent.
//!
//! A [`Redactor`] belongs to one session: its handles are an HMAC of the value under a random
//! key of its own, so a handle is the same for the same value within the session, says nothing of
//! the value or its length, and means nothing in another session. It keeps the values it handed
//! out (at most [`MAX_VALUES`], [`MAX_BYTES`] in all, the oldest forgotten first) to put them back.
//!
//! Where a secret is: a property the spec's classification names
//! ([`crate::catalog::secrets`]), a Junos statement or element ([`mistcore_junos::secrets`]) in
//! text, XML or JSON, and a PEM private key in any string. A handle is put back only where a
//! secret belongs: a handle copied into a name, a description or a URL is refused, so a write
//! cannot carry a secret to a place where it would be shown or sent elsewhere.

use crate::catalog::secrets::is_secret_in;
use hmac::{Hmac, Mac};
use mistcore_junos::secrets::{SecretSpan, is_secret_element, looks_encrypted, secret_spans};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard};

/// How a handle starts: `«secret:`, then the kind (the property or statement), `:`, 8 hex digits, `»`.
pub const HANDLE_OPEN: &str = "\u{ab}secret:";
/// How a handle ends.
pub const HANDLE_CLOSE: char = '\u{bb}';
/// Hex digits of a handle's tag (32 bits of HMAC-SHA256).
const TAG_HEX: usize = 8;
/// The longest kind in a handle.
const MAX_KIND: usize = 40;
/// The most values one session keeps to put back in writes.
pub const MAX_VALUES: usize = 8192;
/// The most bytes of values one session keeps.
pub const MAX_BYTES: usize = 1 << 20;
/// Known values shorter than this are not searched for in free text (errors, questions): a
/// two-letter secret would turn every word holding those letters into a handle.
const MIN_SCRUB: usize = 4;

/// A write that carries a handle the server cannot put back: nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevealError {
    /// Not a handle this session gave out (another session's, a forgotten one, or made up).
    #[error(
        "{handle} was not given out in this session (a handle means something only in the session that read it, and the oldest are forgotten after {MAX_VALUES} values): read the object again in this session, or give the new value itself; nothing was sent"
    )]
    Unknown {
        /// The handle as written.
        handle: String,
    },
    /// A handle where none was given out: a session that shows secrets, or mistcli.
    #[error(
        "{handle} is the handle of a secret in a redacted answer: only the MCP session that gave it out can put its value back; give the value itself; nothing was sent"
    )]
    NotGivenOut {
        /// The handle as written.
        handle: String,
    },
    /// A handle where no secret belongs (a name, a description, a URL).
    #[error(
        "{handle} stands in `{place}`, where no secret belongs: a secret's handle is put back only in the field it came from (psk, secret, password, ...); nothing was sent"
    )]
    Misplaced {
        /// The handle as written.
        handle: String,
        /// The property (or statement) it stands in.
        place: String,
    },
}

/// The system's random source failed: no session key for the handles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no random source for the session's secret handles: {0}")]
pub struct NoRandomness(pub String);

struct Vault {
    key: [u8; 32],
    /// Handle to value (a string or a number of the answer).
    values: HashMap<String, Value>,
    /// Handles in the order they were kept, the oldest first.
    order: VecDeque<String>,
    bytes: usize,
}

fn leaf_text(leaf: &Value) -> Cow<'_, str> {
    match leaf {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

impl Vault {
    fn tag(&self, leaf: &Value, round: u8) -> String {
        let mut mac =
            <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(&[round, u8::from(leaf.is_string())]);
        mac.update(leaf_text(leaf).as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..TAG_HEX / 2]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The handle of `leaf` as a value of `kind`, kept to be put back.
    fn handle(&mut self, kind: &str, leaf: &Value) -> String {
        let kind = clean_kind(kind);
        let size = leaf_text(leaf).len();
        let mut handle = String::new();
        // Two values with one tag: the next round's tag (stable while both are kept).
        for round in 0..4 {
            handle = format!(
                "{HANDLE_OPEN}{kind}:{}{HANDLE_CLOSE}",
                self.tag(leaf, round)
            );
            match self.values.get(&handle) {
                Some(kept) if kept == leaf => return handle,
                Some(_) => continue,
                None => {
                    if size <= MAX_BYTES / 16 {
                        self.keep(handle.clone(), leaf.clone(), size);
                    }
                    return handle;
                }
            }
        }
        handle
    }

    fn keep(&mut self, handle: String, leaf: Value, size: usize) {
        while !self.order.is_empty()
            && (self.values.len() >= MAX_VALUES || self.bytes + size > MAX_BYTES)
        {
            if let Some(old) = self.order.pop_front()
                && let Some(v) = self.values.remove(&old)
            {
                self.bytes -= leaf_text(&v).len();
            }
        }
        self.bytes += size;
        self.order.push_back(handle.clone());
        self.values.insert(handle, leaf);
    }

    fn lookup(&self, handle: &str) -> Result<&Value, RevealError> {
        self.values.get(handle).ok_or_else(|| RevealError::Unknown {
            handle: handle.to_string(),
        })
    }
}

fn clean_kind(kind: &str) -> &str {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_KIND
        && kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { kind } else { "secret" }
}

/// The byte ranges of handles (and of anything that starts like one) in `text`.
fn handle_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(HANDLE_OPEN).map(|p| p + from) {
        let rest = &text[at + HANDLE_OPEN.len()..];
        // A well-formed handle ends at its `»`; a broken one is taken to the end of its word, so
        // that it is refused whole rather than sent as text.
        // Only the next few bytes are searched: text full of openings stays linear.
        let mut window = rest
            .len()
            .min(MAX_KIND + 1 + TAG_HEX + HANDLE_CLOSE.len_utf8());
        while !rest.is_char_boundary(window) {
            window -= 1;
        }
        let len = match rest[..window].find(HANDLE_CLOSE) {
            Some(close) => close + HANDLE_CLOSE.len_utf8(),
            None => rest
                .find(|c: char| c.is_whitespace() || c == '"' || c == ';' || c == '\u{ab}')
                .unwrap_or(rest.len()),
        };
        let end = at + HANDLE_OPEN.len() + len;
        out.push(at..end);
        from = end;
    }
    out
}

fn is_handle(text: &str) -> bool {
    text.starts_with(HANDLE_OPEN) && handle_ranges(text).first() == Some(&(0..text.len()))
}

/// PEM private keys (`-----BEGIN ... PRIVATE KEY-----` to its `-----END ...-----`).
fn private_keys(text: &str) -> Vec<SecretSpan> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(begin) = text[from..].find("-----BEGIN ").map(|p| p + from) {
        let header_end = text[begin + 11..]
            .find("-----")
            .map_or(text.len(), |p| p + begin + 11 + 5);
        if !text[begin..header_end].contains("PRIVATE KEY") {
            from = header_end;
            continue;
        }
        let end = text[header_end..]
            .find("-----END ")
            .and_then(|e| {
                let after = header_end + e + 9;
                text[after..].find("-----").map(|p| after + p + 5)
            })
            .unwrap_or(text.len());
        out.push(SecretSpan {
            range: begin..end,
            kind: "private_key".into(),
        });
        from = end;
    }
    out
}

/// The secrets of a string: Junos statements and encrypted values, PEM private keys.
fn spans_of(text: &str) -> Vec<SecretSpan> {
    let mut spans = secret_spans(text);
    if text.contains("PRIVATE KEY") {
        spans.extend(private_keys(text));
        spans.sort_by_key(|s| s.range.start);
        let mut kept: Vec<SecretSpan> = Vec::with_capacity(spans.len());
        for s in spans {
            match kept.last_mut() {
                Some(last) if s.range.start < last.range.end => {
                    last.range.end = last.range.end.max(s.range.end);
                }
                _ => kept.push(s),
            }
        }
        spans = kept;
    }
    spans
}

/// Whether `name` names a secret in an object whose property names `has` tells: the spec's
/// classification, or a Junos configuration element (JSON configurations; their names have a
/// dash, the one-word ones are the spec's too or shown encrypted).
fn secret_property(name: &str, has: impl Fn(&str) -> bool) -> bool {
    is_secret_in(name, has) || (name.contains('-') && is_secret_element(name))
}

/// The names of `map` that hold secrets.
fn secret_names(map: &Map<String, Value>) -> Vec<String> {
    map.keys()
        .filter(|k| secret_property(k, |n| map.contains_key(n)))
        .cloned()
        .collect()
}

/// Replaces every secret of a session by its handle, and puts handles back in writes.
/// Clones share the session's values.
#[derive(Clone)]
pub struct Redactor {
    vault: Arc<Mutex<Vault>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the values, nor the key.
        write!(f, "Redactor({} values kept)", self.len())
    }
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.vault, &other.vault)
    }
}

impl Eq for Redactor {}

impl Redactor {
    /// A redactor with a random key of its own.
    pub fn new() -> Result<Self, NoRandomness> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| NoRandomness(e.to_string()))?;
        Ok(Redactor::with_key(key))
    }

    /// A redactor with the given key (tests; a key must otherwise be random and never shown).
    pub fn with_key(key: [u8; 32]) -> Self {
        Redactor {
            vault: Arc::new(Mutex::new(Vault {
                key,
                values: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
            })),
        }
    }

    fn vault(&self) -> MutexGuard<'_, Vault> {
        // A panic while holding the lock leaves at worst a value not kept: keep serving.
        self.vault.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many values are kept to put back.
    pub fn len(&self) -> usize {
        self.vault().values.len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the secrets of an answer (or of a write shown to the human) by their handles.
    pub fn redact_json(&self, value: &mut Value) {
        let mut vault = self.vault();
        conceal_tree(&mut vault, value, None);
    }

    /// Replaces the secrets of device text (command output, configurations, diffs) by handles.
    pub fn redact_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut vault = self.vault();
        match conceal_text(&mut vault, text) {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(text),
        }
    }

    /// Like [`Redactor::redact_text`], and every value this session knows as a secret is
    /// replaced wherever it stands: for error texts, confirmation questions and logs, which
    /// may quote a value anywhere.
    pub fn redact_message(&self, text: &str) -> String {
        let mut vault = self.vault();
        let text = conceal_text(&mut vault, text).unwrap_or_else(|| text.to_string());
        scrub(&vault, &text)
    }

    /// Puts the values back for the handles of a write body, where secrets belong.
    pub fn reveal_json(&self, value: &mut Value) -> Result<(), RevealError> {
        let vault = self.vault();
        reveal_tree(&vault, value, "body")
    }

    /// Puts the values back for the handles of a device configuration (set, text or XML).
    pub fn reveal_text(&self, text: &str) -> Result<String, RevealError> {
        let vault = self.vault();
        reveal_string(&vault, text, "configuration")
    }
}

fn conceal_tree(vault: &mut Vault, value: &mut Value, parent: Option<&str>) {
    match value {
        Value::Object(map) => {
            let secret = secret_names(map);
            // Junos JSON: `"snmp": {"community": [{"name": "public", ...}]}`.
            let snmp = parent == Some("snmp");
            for (k, child) in map.iter_mut() {
                if secret.contains(k) {
                    conceal_leaves(vault, k, child);
                } else if snmp && k == "community" {
                    for_each_object(child, |c| {
                        if let Some(name) = c.get_mut("name") {
                            conceal_leaves(vault, "community", name);
                        }
                        for (ck, cv) in c.iter_mut().filter(|(ck, _)| *ck != "name") {
                            conceal_tree(vault, cv, Some(ck));
                        }
                    });
                } else {
                    conceal_tree(vault, child, Some(k));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                conceal_tree(vault, item, parent);
            }
        }
        Value::String(s) => {
            if let Some(new) = conceal_text(vault, s) {
                *s = new;
            }
        }
        _ => {}
    }
}

fn for_each_object(value: &mut Value, mut f: impl FnMut(&mut Map<String, Value>)) {
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
fn conceal_leaves(vault: &mut Vault, kind: &str, value: &mut Value) {
    match value {
        Value::String(s) if s.is_empty() || is_handle(s) => {}
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(vault.handle(kind, value));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| conceal_leaves(vault, kind, i)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| conceal_leaves(vault, kind, v)),
        _ => {}
    }
}

/// The text with its secrets replaced, or `None` when it holds none.
fn conceal_text(vault: &mut Vault, text: &str) -> Option<String> {
    let spans: Vec<SecretSpan> = spans_of(text)
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
        out.push_str(&vault.handle(&s.kind, &leaf));
        at = s.range.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Every known value in `text` replaced by its handle (the longest where values overlap, never
/// inside a handle), in one pass over the text whatever the number of values.
fn scrub(vault: &Vault, text: &str) -> String {
    let known: Vec<(Cow<'_, str>, &String)> = vault
        .values
        .iter()
        .map(|(h, v)| (leaf_text(v), h))
        .filter(|(v, _)| v.len() >= MIN_SCRUB)
        .collect();
    if known.is_empty() {
        return text.to_string();
    }
    let Ok(automaton) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(known.iter().map(|(v, _)| v.as_bytes()))
    else {
        return text.to_string();
    };
    let handles = handle_ranges(text);
    let mut next_handle = 0;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in automaton.find_iter(text) {
        // Both in text order: the handles that end before this match are behind for good.
        while handles.get(next_handle).is_some_and(|h| h.end <= m.start()) {
            next_handle += 1;
        }
        let inside_handle = handles.get(next_handle).is_some_and(|h| h.start < m.end());
        if inside_handle || m.start() < at {
            continue;
        }
        out.push_str(&text[at..m.start()]);
        out.push_str(known[m.pattern().as_usize()].1);
        at = m.end();
    }
    out.push_str(&text[at..]);
    out
}

fn reveal_tree(vault: &Vault, value: &mut Value, place: &str) -> Result<(), RevealError> {
    match value {
        Value::Object(map) => {
            let secret = secret_names(map);
            let snmp = place == "snmp";
            for (k, child) in map.iter_mut() {
                if secret.contains(k) {
                    reveal_leaves(vault, child)?;
                } else if snmp && k == "community" {
                    let mut result = Ok(());
                    for_each_object(child, |c| {
                        for (ck, cv) in c.iter_mut() {
                            let r = if ck == "name" {
                                reveal_leaves(vault, cv)
                            } else {
                                reveal_tree(vault, cv, ck)
                            };
                            if result.is_ok() {
                                result = r;
                            }
                        }
                    });
                    result?;
                } else {
                    reveal_tree(vault, child, k)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|i| reveal_tree(vault, i, place)),
        Value::String(s) if s.contains(HANDLE_OPEN) => {
            *s = reveal_string(vault, s, place)?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Under a secret property every handle is put back (a whole handle keeps its number).
fn reveal_leaves(vault: &Vault, value: &mut Value) -> Result<(), RevealError> {
    match value {
        Value::String(s) if is_handle(s) => {
            *value = vault.lookup(s)?.clone();
            Ok(())
        }
        Value::String(s) if s.contains(HANDLE_OPEN) => {
            let mut out = String::with_capacity(s.len());
            let mut at = 0;
            for r in handle_ranges(s) {
                out.push_str(&s[at..r.start]);
                out.push_str(&leaf_text(vault.lookup(&s[r.clone()])?));
                at = r.end;
            }
            out.push_str(&s[at..]);
            *s = out;
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| reveal_leaves(vault, i)),
        Value::Object(map) => map.values_mut().try_for_each(|v| reveal_leaves(vault, v)),
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

/// A text's handles put back where its secrets stand (Junos statements), or where a token of
/// its own stands for an encrypted value (`$9$...`, which Junos shows as such wherever it is);
/// any other is refused.
fn reveal_string(vault: &Vault, text: &str, place: &str) -> Result<String, RevealError> {
    let handles = handle_ranges(text);
    if handles.is_empty() {
        return Ok(text.to_string());
    }
    let spans = spans_of(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in handles {
        let handle = &text[r.clone()];
        let value = vault.lookup(handle)?;
        let in_place = spans.iter().any(|s| s.range == r)
            || (whole_token(text, &r) && looks_encrypted(&leaf_text(value)));
        if !in_place {
            return Err(RevealError::Misplaced {
                handle: handle.to_string(),
                place: place.to_string(),
            });
        }
        out.push_str(&text[at..r.start]);
        out.push_str(&leaf_text(value));
        at = r.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Refuses a write that carries a handle where no redactor gave any out (a session that shows
/// secrets, mistcli): it would be sent as text, a PSK set to `«secret:psk:...»`.
pub fn refuse_handles(value: &Value) -> Result<(), RevealError> {
    match value {
        Value::String(s) => match handle_ranges(s).first() {
            Some(r) => Err(RevealError::NotGivenOut {
                handle: s[r.clone()].to_string(),
            }),
            None => Ok(()),
        },
        Value::Array(items) => items.iter().try_for_each(refuse_handles),
        Value::Object(map) => map.values().try_for_each(refuse_handles),
        _ => Ok(()),
    }
}

/// The redactors of callers that keep no session (protocol 2026-07-28, the edge module), by
/// a key of the caller's identity: at most `capacity`, the least recently used forgotten first.
#[derive(Debug)]
pub struct Redactors {
    kept: Mutex<RedactorMap>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct RedactorMap {
    by_key: HashMap<String, (Redactor, u64)>,
    tick: u64,
}

impl Redactors {
    /// Keeps the redactors of at most `capacity` callers.
    pub fn new(capacity: usize) -> Self {
        Redactors {
            kept: Mutex::new(RedactorMap::default()),
            capacity: capacity.max(1),
        }
    }

    /// The redactor of the caller `key` (a new one for a caller not seen or forgotten).
    pub fn for_caller(&self, key: &str) -> Result<Redactor, NoRandomness> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.tick += 1;
        let tick = kept.tick;
        if let Some((r, used)) = kept.by_key.get_mut(key) {
            *used = tick;
            return Ok(r.clone());
        }
        if kept.by_key.len() >= self.capacity
            && let Some(oldest) = kept
                .by_key
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            kept.by_key.remove(&oldest);
        }
        let fresh = Redactor::new()?;
        kept.by_key.insert(key.to_string(), (fresh.clone(), tick));
        Ok(fresh)
    }

    /// How many callers have a redactor.
    pub fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_key
            .len()
    }

    /// Whether no caller has one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactor() -> Redactor {
        Redactor::with_key([7; 32])
    }

    #[test]
    fn answers_lose_their_secrets_and_writes_get_them_back() {
        let r = redactor();
        let mut wlan = json!({
            "ssid": "corp", "psk": "hunter2hunter2", "psk_id": "abc", "vlan_id": 10,
            "auth": {"type": "psk", "psk": "hunter2hunter2", "keys": ["0123456789", null], "key_idx": 1},
            "radius": [{"host": "10.0.0.1", "secret": "radius-s3cret", "port": 1812}],
            "passphrase": "", "password": null,
        });
        r.redact_json(&mut wlan);
        let text = wlan.to_string();
        assert!(
            !text.contains("hunter2")
                && !text.contains("radius-s3cret")
                && !text.contains("0123456789"),
            "{text}"
        );
        assert_eq!(wlan["psk"], wlan["auth"]["psk"], "one value, one handle");
        assert_eq!(wlan["psk_id"], "abc");
        assert_eq!(wlan["passphrase"], "");
        assert!(wlan["password"].is_null() && wlan["auth"]["keys"][1].is_null());
        let handle = wlan["psk"].as_str().expect("a handle").to_string();
        assert!(
            handle.starts_with("\u{ab}secret:psk:")
                && handle.len() == "\u{ab}secret:psk:12345678\u{bb}".len()
        );
        // The model renames the WLAN and sends the object back.
        wlan["ssid"] = json!("corp-new");
        r.reveal_json(&mut wlan).expect("handles of this session");
        assert_eq!(wlan["psk"], "hunter2hunter2");
        assert_eq!(wlan["auth"]["keys"][0], "0123456789");
        assert_eq!(wlan["radius"][0]["secret"], "radius-s3cret");
    }

    #[test]
    fn handles_are_per_session_and_stay_where_secrets_belong() {
        let (a, b) = (redactor(), Redactor::with_key([8; 32]));
        let mut one = json!({"psk": "same-value-1"});
        let mut two = json!({"psk": "same-value-1"});
        a.redact_json(&mut one);
        b.redact_json(&mut two);
        assert_ne!(one, two, "other key, other handle");
        assert!(matches!(
            b.reveal_json(&mut one.clone()),
            Err(RevealError::Unknown { .. })
        ));
        let handle = one["psk"].as_str().expect("handle").to_string();
        let mut leak = json!({"ssid": handle, "psk": handle});
        assert!(
            matches!(a.reveal_json(&mut leak), Err(RevealError::Misplaced { ref place, .. }) if place == "ssid")
        );
        let mut url = json!({"url": format!("https://evil.example/?k={handle}")});
        assert!(a.reveal_json(&mut url).is_err());
        let mut made_up = json!({"psk": "\u{ab}secret:psk:00000000\u{bb}"});
        assert!(matches!(
            a.reveal_json(&mut made_up),
            Err(RevealError::Unknown { .. })
        ));
    }

    #[test]
    fn context_decides_for_key_and_junos_json() {
        let r = redactor();
        let mut v = json!({
            "tokens": [{"name": "ci", "key": "AbCdEf0123456789", "privileges": []}],
            "consts": [{"key": "device_down", "display": "Device down"}],
            "cert": {"cert": "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----", "key": "k"},
            "note": "x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y",
            "configuration": {"snmp": {"community": [{"name": "public", "authorization": "read-only"}]},
                "system": {"root-authentication": {"encrypted-password": "$6$a$b"}},
                "policy-options": {"community": [{"name": "BGP", "members": ["65000:1"]}]}},
            "additional_config_cmds": ["set snmp community c0mm", "set system host-name sw1"],
        });
        r.redact_json(&mut v);
        let text = v.to_string();
        for secret in ["AbCdEf0123456789", "MIIE", "public", "$6$a$b", "c0mm"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        for shown in [
            "device_down",
            "MII\\n",
            "BGP",
            "sw1",
            "x \u{ab}secret:private_key:",
        ] {
            assert!(text.contains(shown), "{shown} missing from {text}");
        }
        assert_ne!(v["cert"]["key"], "k");
        // A private key found in free text has no place a write could put it back.
        let mut back = v.clone();
        assert!(
            matches!(r.reveal_json(&mut back), Err(RevealError::Misplaced { ref place, .. }) if place == "note")
        );
        back.as_object_mut().expect("object").remove("note");
        r.reveal_json(&mut back).expect("all in place");
        assert_eq!(
            back["configuration"]["snmp"]["community"][0]["name"],
            "public"
        );
        assert_eq!(back["additional_config_cmds"][0], "set snmp community c0mm");
    }

    #[test]
    fn text_and_messages() {
        let r = redactor();
        let config = "set snmp community public authorization read-only\nset system radius-server 10.0.0.1 secret \"$9$abc\"\n";
        let shown = r.redact_text(config).into_owned();
        assert!(
            !shown.contains("public") && !shown.contains("$9$abc"),
            "{shown}"
        );
        assert_eq!(r.reveal_text(&shown).expect("in place"), config);
        assert!(matches!(
            r.reveal_text(&format!(
                "set system host-name {}",
                shown.split_whitespace().nth(3).unwrap_or("")
            )),
            Err(RevealError::Misplaced { .. })
        ));
        // An error text quoting a known value anywhere.
        let message = r.redact_message("Mist said: invalid community 'public' for public-facing");
        assert!(
            !message.contains("'public'") && !message.contains("public-facing"),
            "{message}"
        );
        assert_eq!(r.redact_message("no secret here"), "no secret here");
    }

    #[test]
    fn handles_are_stable_and_memory_is_bounded() {
        let r = redactor();
        let mut first = json!({"psk": "v-0"});
        r.redact_json(&mut first);
        for i in 0..(MAX_VALUES + 10) {
            r.redact_json(&mut json!({"psk": format!("v-{i}")}));
        }
        assert!(r.len() <= MAX_VALUES);
        let mut again = json!({"psk": "v-0"});
        r.redact_json(&mut again);
        assert_eq!(
            first, again,
            "the same handle after being forgotten and seen again"
        );
        let big = "x".repeat(MAX_BYTES / 8);
        r.redact_json(&mut json!({"psk": big}));
        assert!(r.vault().bytes <= MAX_BYTES);
    }

    #[test]
    fn every_classified_property_round_trips() {
        let r = redactor();
        for (i, name) in crate::catalog::secrets::SECRET.iter().enumerate() {
            let value = format!("value-{i}-of-{name}");
            let original = json!({"outer": [{ *name: value, "name": "shown" }]});
            let mut seen = original.clone();
            r.redact_json(&mut seen);
            let text = seen.to_string();
            assert!(
                !text.contains(&value) && text.contains("shown"),
                "{name}: {text}"
            );
            r.reveal_json(&mut seen).expect("in place");
            assert_eq!(seen, original, "{name}");
        }
        // An encrypted value stands anywhere Junos shows one; a private key only in its property.
        let original = json!({"cmds": ["set interfaces ge-0/0/0 description \"$9$odd.Place\""]});
        let mut seen = original.clone();
        r.redact_json(&mut seen);
        assert!(!seen.to_string().contains("$9$odd"));
        r.reveal_json(&mut seen)
            .expect("an encrypted value put back");
        assert_eq!(seen, original);
    }

    #[test]
    fn hostile_input_stays_bounded() {
        let r = redactor();
        // Deep nesting is walked (serde_json limits parse depth to 128), long text once.
        let mut deep = json!("set snmp community deep");
        for _ in 0..120 {
            deep = json!({"a": [deep]});
        }
        r.redact_json(&mut deep);
        assert!(!deep.to_string().contains("community deep"));
        let long = format!("{}secret \"x\"", "key ".repeat(200_000));
        assert!(!r.redact_text(&long).contains("\"x\""));
        let many = "\u{ab}secret:".repeat(10_000);
        let spaced = "\u{ab}secret: ".repeat(100_000);
        assert!(r.reveal_text(&spaced).is_err());
        assert!(r.reveal_text(&many).is_err());
        assert_eq!(
            r.redact_message(&many),
            many,
            "text that only looks like handles stays"
        );
    }

    #[test]
    fn redactors_are_bounded() {
        let all = Redactors::new(2);
        let a = all.for_caller("a").expect("random");
        assert_eq!(all.for_caller("a").expect("random"), a);
        all.for_caller("b").expect("random");
        all.for_caller("c").expect("random");
        assert_eq!(all.len(), 2);
        assert_ne!(
            all.for_caller("a").expect("random"),
            a,
            "the oldest was forgotten"
        );
    }
}
