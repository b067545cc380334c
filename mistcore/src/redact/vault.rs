//! The values a session handed out as handles: the handle format, the keyed tags, the bounds,
//! where each value was read (to put it back only there), and the search for known values.

use super::RevealError;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;

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
/// The most bytes of values (and where they were read) one session keeps.
pub const MAX_BYTES: usize = 1 << 20;
/// The most places one value is remembered to come from.
const MAX_ORIGINS: usize = 4;
/// Known values shorter than this are not searched for in free text (errors): a two-letter
/// secret would turn every word holding those letters into a handle.
pub(super) const MIN_SCRUB: usize = 4;

/// Where a value was read: the path of a single object's read (a write to that path may put it
/// back), and the `id`s of the objects around it (a write to a path ending in one of them may).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Origin {
    pub path: Option<String>,
    pub ids: Vec<String>,
}

impl Origin {
    fn size(&self) -> usize {
        self.path.as_ref().map_or(0, String::len) + self.ids.iter().map(String::len).sum::<usize>()
    }
}

/// A value handed out, and where it was read.
pub(super) struct Kept {
    pub value: Value,
    pub origins: Vec<Origin>,
}

/// Finds every known value (and its JSON-escaped forms) in a text at once.
pub(super) struct Scrubber {
    pub automaton: aho_corasick::AhoCorasick,
    /// The handle of each pattern.
    pub handles: Vec<String>,
}

pub(super) struct Vault {
    key: [u8; 32],
    pub kept: HashMap<String, Kept>,
    /// Handles in the order they were kept, the oldest first.
    order: VecDeque<String>,
    pub bytes: usize,
    /// Built at the first search after a change.
    scrubber: Option<Scrubber>,
}

pub(super) fn leaf_text(leaf: &Value) -> Cow<'_, str> {
    match leaf {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
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

/// The byte ranges of handles (and of anything that starts like one) in `text`, linear in it.
pub(super) fn handle_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(HANDLE_OPEN).map(|p| p + from) {
        let rest = &text[at + HANDLE_OPEN.len()..];
        // Only the next few bytes are searched for the end.
        let mut window = rest
            .len()
            .min(MAX_KIND + 1 + TAG_HEX + HANDLE_CLOSE.len_utf8());
        while !rest.is_char_boundary(window) {
            window -= 1;
        }
        // A broken handle is taken to the end of its word, so that it is refused whole.
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

/// The kind of a well-formed handle (`psk` of `«secret:psk:4f1c9a2b»`).
pub(super) fn handle_kind(text: &str) -> Option<&str> {
    let inner = text.strip_prefix(HANDLE_OPEN)?.strip_suffix(HANDLE_CLOSE)?;
    let (kind, tag) = inner.rsplit_once(':')?;
    let well_formed = tag.len() == TAG_HEX
        && tag.bytes().all(|b| b.is_ascii_hexdigit())
        && clean_kind(kind) == kind;
    well_formed.then_some(kind)
}

/// Whether `text` is exactly one well-formed handle.
pub(super) fn is_handle(text: &str) -> bool {
    handle_kind(text).is_some()
}

/// `s` as JSON writes it inside a string, and with every non-ASCII character escaped
/// (`\u00f6`), when those differ from `s`: error texts quote values in those forms.
fn escaped_forms(s: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let json = serde_json::to_string(s).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    if json != s {
        forms.push(json.clone());
    }
    if !json.is_ascii() {
        let mut ascii = String::with_capacity(json.len() * 2);
        for c in json.chars() {
            if c.is_ascii() {
                ascii.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    ascii.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        forms.push(ascii);
    }
    forms
}

impl Vault {
    pub fn new(key: [u8; 32]) -> Self {
        Vault {
            key,
            kept: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            scrubber: None,
        }
    }

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

    /// The handle of `leaf` as a value of `kind`, kept with where it was read.
    pub fn handle(&mut self, kind: &str, leaf: &Value, origin: Option<&Origin>) -> String {
        let kind = clean_kind(kind);
        let mut handle = String::new();
        // Two values with one tag: the next round's tag (stable while both are kept).
        for round in 0..4 {
            handle = format!(
                "{HANDLE_OPEN}{kind}:{}{HANDLE_CLOSE}",
                self.tag(leaf, round)
            );
            match self.kept.get_mut(&handle) {
                Some(kept) if kept.value == *leaf => {
                    if let Some(o) = origin
                        && !kept.origins.contains(o)
                    {
                        if kept.origins.len() >= MAX_ORIGINS {
                            let old = kept.origins.remove(0);
                            self.bytes -= old.size();
                        }
                        self.bytes += o.size();
                        kept.origins.push(o.clone());
                    }
                    return handle;
                }
                Some(_) => continue,
                None => {
                    let size = leaf_text(leaf).len() + origin.map_or(0, Origin::size);
                    if size <= MAX_BYTES / 16 {
                        let origins = origin.cloned().into_iter().collect();
                        self.keep(handle.clone(), leaf.clone(), origins, size);
                    }
                    return handle;
                }
            }
        }
        handle
    }

    fn keep(&mut self, handle: String, value: Value, origins: Vec<Origin>, size: usize) {
        while !self.order.is_empty()
            && (self.kept.len() >= MAX_VALUES || self.bytes + size > MAX_BYTES)
        {
            if let Some(old) = self.order.pop_front()
                && let Some(k) = self.kept.remove(&old)
            {
                self.bytes -=
                    leaf_text(&k.value).len() + k.origins.iter().map(Origin::size).sum::<usize>();
            }
        }
        self.bytes += size;
        self.order.push_back(handle.clone());
        self.kept.insert(handle, Kept { value, origins });
        self.scrubber = None;
    }

    pub fn lookup(&self, handle: &str) -> Result<&Kept, RevealError> {
        self.kept.get(handle).ok_or_else(|| RevealError::Unknown {
            handle: handle.to_string(),
        })
    }

    /// The search for every known value of at least [`MIN_SCRUB`] bytes, in its own and its
    /// escaped forms (the longest match wins); `None` when there is none.
    pub fn scrubber(&mut self) -> Option<&Scrubber> {
        if self.scrubber.is_none() {
            let mut patterns: Vec<String> = Vec::new();
            let mut handles = Vec::new();
            for (handle, kept) in &self.kept {
                let text = leaf_text(&kept.value);
                if text.len() < MIN_SCRUB {
                    continue;
                }
                for form in std::iter::once(text.to_string()).chain(escaped_forms(&text)) {
                    patterns.push(form);
                    handles.push(handle.clone());
                }
            }
            if patterns.is_empty() {
                return None;
            }
            let automaton = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&patterns)
                .ok()?;
            self.scrubber = Some(Scrubber { automaton, handles });
        }
        self.scrubber.as_ref()
    }
}
