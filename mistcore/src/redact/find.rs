//! Where a secret is: properties of the spec's classification and Junos configuration elements,
//! the entries of free-form maps (`headers`, `vars`) with secret-like names, Junos statements in
//! text, PEM private keys, and the password of a URL.

use crate::catalog::secrets::is_secret_in;
use mistcore_junos::secrets::{SecretSpan, is_secret_element, secret_spans};
use serde_json::{Map, Value};

/// Maps whose entries are named by their users (a webhook's HTTP headers, a site's template
/// variables): an entry is a secret when its name looks like one.
const FREE_FORM_MAPS: &[&str] = &["headers", "req_headers", "resp_headers", "vars"];

/// What makes the name of a free-form entry a secret's (`Authorization`, `X-Api-Key`, `radius_secret`).
const SECRET_LIKE: &[&str] = &[
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "psk",
    "key",
    "community",
    "cookie",
    "credential",
];

/// Whether the property `name` of an object whose other property names `has` tells, under the
/// property `parent`, holds a secret.
pub(super) fn secret_property(
    name: &str,
    parent: Option<&str>,
    has: impl Fn(&str) -> bool,
) -> bool {
    // Junos configuration elements (JSON) have a dash; the one-word ones are the spec's too.
    is_secret_in(name, has)
        || (name.contains('-') && is_secret_element(name))
        || (parent.is_some_and(|p| FREE_FORM_MAPS.contains(&p)) && {
            let lower = name.to_ascii_lowercase();
            SECRET_LIKE.iter().any(|w| lower.contains(w))
        })
}

/// For each property of `map` (under `parent`), in its order, whether it holds a secret (one
/// pass over the names, whatever their number).
pub(super) fn secret_flags(map: &Map<String, Value>, parent: Option<&str>) -> Vec<bool> {
    map.keys()
        .map(|k| secret_property(k, parent, |n| map.contains_key(n)))
        .collect()
}

/// Whether a string is JSON text worth parsing (an object or array, as webhook deliveries and
/// `config_json`-like fields hold them).
pub(super) fn json_text(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(s)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// Whether a string starts or ends a PEM private key (for keys split over array items).
pub(super) fn pem_begins(s: &str) -> bool {
    s.contains("-----BEGIN") && s.contains("PRIVATE KEY") && !s.contains("-----END")
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

/// The password of URLs with credentials (`https://user:PASSWORD@host/...`).
fn url_passwords(text: &str) -> Vec<SecretSpan> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("://").map(|p| p + from + 3) {
        let authority_end = text[at..]
            .find(|c: char| c.is_whitespace() || "/?#\"'<>".contains(c))
            .map_or(text.len(), |p| p + at);
        let authority = &text[at..authority_end];
        if let Some(userinfo) = authority.rfind('@').map(|p| &authority[..p])
            && let Some(colon) = userinfo.find(':')
            && colon + 1 < userinfo.len()
        {
            out.push(SecretSpan {
                range: at + colon + 1..at + userinfo.len(),
                kind: "url_password".into(),
            });
        }
        from = authority_end.max(at);
    }
    out
}

/// The secrets of a string: Junos statements and encrypted values, PEM private keys, URL
/// passwords; in order, without overlaps.
pub(super) fn spans_of(text: &str) -> Vec<SecretSpan> {
    let mut spans = secret_spans(text);
    let before = spans.len();
    if text.contains("PRIVATE KEY") {
        spans.extend(private_keys(text));
    }
    if text.contains("://") {
        spans.extend(url_passwords(text));
    }
    if spans.len() > before {
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
