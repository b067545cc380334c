//! Where a Junos text holds secrets: configurations in `set`, curly-brace and XML form,
//! `show | compare` diffs, and command output that quotes them.
//!
//! Junos shows most secrets encrypted (`$9$...`) or hashed (`$6$...`) and marks their lines
//! `## SECRET-DATA`; an SNMP community is shown in clear as the name of its statement. This
//! module only finds them ([`secret_spans`]); what replaces them is the caller's business.

use std::ops::Range;

/// Statements whose value is a secret when it is quoted (or on a `## SECRET-DATA` line):
/// `secret "..."`, `encrypted-password "..."`, `authentication-key "..."`, `key "..."` ...
/// Also the element names of secrets in XML and JSON configurations.
pub const SECRET_STATEMENTS: &[&str] = &[
    "ascii-text",
    "auth-key",
    "authentication-key",
    "authentication-password",
    "chap-secret",
    "community-name",
    "encrypted-password",
    "hexadecimal",
    "key",
    "password",
    "pre-shared-key",
    "privacy-password",
    "secret",
    "shared-secret",
    "simple-password",
];

/// The words that start a `set`-style line (the statement path follows).
const SET_VERBS: &[&str] = &[
    "set",
    "delete",
    "deactivate",
    "activate",
    "insert",
    "protect",
    "unprotect",
    "rename",
    "copy",
];

/// The deepest path followed (`edit` contexts, blocks, XML elements): Junos configurations are
/// a few dozen levels deep.
const MAX_DEPTH: usize = 64;

/// The marker Junos puts after a statement that holds a secret.
const SECRET_DATA: &str = "## SECRET-DATA";

/// A secret found in a text: its bytes (without quotes) and the statement it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpan {
    /// The byte range of the value in the text.
    pub range: Range<usize>,
    /// The statement the value belongs to (`encrypted-password`, `community`, `secret`).
    pub kind: String,
}

/// Whether a value is an encrypted or hashed Junos secret: `$9$...` (reversible), or a crypt
/// hash (`$1$`, `$5$`, `$6$`, `$8$`, `$sha1$`, `$2b$` ...).
pub fn looks_encrypted(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('$') else {
        return false;
    };
    let Some((scheme, tail)) = rest.split_once('$') else {
        return false;
    };
    !tail.is_empty()
        && matches!(
            scheme,
            "9" | "1" | "5" | "6" | "8" | "sha1" | "2a" | "2b" | "2y" | "y"
        )
}

/// Whether a JSON or XML element of a Junos configuration named `name` holds a secret.
pub fn is_secret_element(name: &str) -> bool {
    SECRET_STATEMENTS.contains(&name)
}

/// Whether a text may hold a secret at all: a cheap test before [`secret_spans`].
pub fn may_hold_secrets(text: &str) -> bool {
    text.contains("$9$")
        || text.contains("$1$")
        || text.contains("$5$")
        || text.contains("$6$")
        || text.contains("$8$")
        || text.contains("$sha1$")
        || text.contains("SECRET-DATA")
        || text.contains("community")
        || text.contains("secret")
        || text.contains("password")
        || text.contains("key")
        || text.contains("ascii-text")
        || text.contains("hexadecimal")
}

/// Every secret value in `text`, in order, without overlaps.
pub fn secret_spans(text: &str) -> Vec<SecretSpan> {
    if !may_hold_secrets(text) {
        return Vec::new();
    }
    let mut spans = lines(text);
    if text.contains("</") {
        spans.extend(xml(text));
    }
    spans.sort_by_key(|s| (s.range.start, std::cmp::Reverse(s.range.end)));
    let mut out: Vec<SecretSpan> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last() {
            Some(last) if s.range.start < last.range.end => {}
            _ => out.push(s),
        }
    }
    out
}

/// A token of a Junos line: a word (bare or quoted; `range` without the quotes) or `{ } ;`.
#[derive(Debug, Clone)]
struct Token {
    range: Range<usize>,
    quoted: bool,
    punct: Option<u8>,
}

fn tokenize(line: &str, offset: usize) -> Vec<Token> {
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\r' => i += 1,
            b'{' | b'}' | b';' => {
                tokens.push(Token {
                    range: offset + i..offset + i + 1,
                    quoted: false,
                    punct: Some(b),
                });
                i += 1;
            }
            // A comment runs to the end of the line.
            b'#' => break,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(bytes.len());
                tokens.push(Token {
                    range: offset + start..offset + end,
                    quoted: true,
                    punct: None,
                });
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'{' | b'}' | b';' | b'"')
                {
                    i += 1;
                }
                tokens.push(Token {
                    range: offset + start..offset + i,
                    quoted: false,
                    punct: None,
                });
            }
        }
    }
    tokens
}

/// The line rules: `set` lines (with `edit`/`up`/`top` contexts), curly-brace blocks (with the
/// block path for SNMP communities), diff lines and `[edit ...]` headers, `## SECRET-DATA` lines,
/// encrypted values anywhere.
fn lines(text: &str) -> Vec<SecretSpan> {
    let mut spans = Vec::new();
    // The words of each open block's header, outermost first.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    // The `edit` path of `set`-style input.
    let mut edit: Vec<&str> = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let mut line = raw.trim_end_matches(['\n', '\r']);
        let mut start = line_start;
        // Diff markers (`show | compare`, unified diffs): `+ `, `- `, `! `.
        if let Some(rest) = line
            .strip_prefix(['+', '-', '!'])
            .filter(|r| r.starts_with([' ', '\t']) || r.is_empty())
        {
            start += line.len() - rest.len();
            line = rest;
        }
        let trimmed = line.trim_start();
        if let Some(header) = trimmed
            .strip_prefix("[edit")
            .and_then(|h| h.trim_end().strip_suffix(']'))
        {
            let header_start = start + (line.len() - trimmed.len()) + "[edit".len();
            let tokens = tokenize(header, header_start);
            let words: Vec<&Token> = tokens.iter().filter(|t| t.punct.is_none()).collect();
            community_rule(text, &[], &words, &mut spans);
            blocks = vec![words.iter().map(|t| &text[t.range.clone()]).collect()];
            continue;
        }
        let tokens = tokenize(line, start);
        let secret_data = line.contains(SECRET_DATA);
        let mut words: Vec<&Token> = tokens.iter().filter(|t| t.punct.is_none()).collect();
        // `inactive:` and `protect:` prefixes of the curly-brace form.
        if words
            .first()
            .is_some_and(|t| !t.quoted && text[t.range.clone()].ends_with(':'))
        {
            words.remove(0);
        }
        let word = |t: &Token| &text[t.range.clone()];
        let first = words.first().map(|t| word(t));
        match first {
            Some("edit") => {
                let before = edit.len();
                community_rule(text, &edit, &words[1..], &mut spans);
                edit.extend(words[1..].iter().map(|t| word(t)));
                // Junos configurations are a few dozen levels deep: a longer path is hostile.
                edit.truncate(MAX_DEPTH.max(before));
                continue;
            }
            Some("top") => {
                edit.clear();
                continue;
            }
            Some("up") => {
                let n = words
                    .get(1)
                    .and_then(|t| word(t).parse::<usize>().ok())
                    .unwrap_or(1);
                edit.truncate(edit.len().saturating_sub(n));
                continue;
            }
            _ => {}
        }
        let set_line = first.is_some_and(|w| SET_VERBS.contains(&w));
        let seq: &[&Token] = if set_line { &words[1..] } else { &words };
        // The statement's last word: a value, when a secret statement's keyword precedes it.
        let last = if set_line {
            seq.len().checked_sub(1)
        } else {
            // Curly-brace form: the word before `;`.
            tokens
                .iter()
                .position(|t| t.punct == Some(b';'))
                .and_then(|p| p.checked_sub(1))
                .filter(|p| tokens[*p].punct.is_none())
                .and_then(|p| seq.iter().position(|t| t.range == tokens[p].range))
        };
        // `authentication-key N type md5 value V` (NTP): `value` is a keyword after it.
        let mut authentication_key = false;
        for (i, token) in seq.iter().enumerate() {
            let value = word(token);
            let previous = i
                .checked_sub(1)
                .map(|p| seq[p])
                .filter(|p| !p.quoted)
                .map(word);
            let keyword = previous
                .filter(|p| SECRET_STATEMENTS.contains(p) || (*p == "value" && authentication_key));
            authentication_key |= value == "authentication-key";
            let encrypted = looks_encrypted(value);
            // A placeholder (`«...»`, a redacted secret handed back) counts as stated too.
            let stated = keyword.is_some()
                && (token.quoted || secret_data || value.starts_with('\u{ab}') || last == Some(i));
            let kind = || {
                previous
                    .filter(|p| is_word(p))
                    .unwrap_or("secret")
                    .to_string()
            };
            if encrypted || stated {
                spans.push(SecretSpan {
                    range: token.range.clone(),
                    kind: kind(),
                });
            } else if token.quoted && value.contains('$') {
                // An encrypted value within a quoted text (`description "see $9$..."`).
                let mut from = 0;
                for part in value.split(' ') {
                    if looks_encrypted(part) {
                        let start = token.range.start + from;
                        spans.push(SecretSpan {
                            range: start..start + part.len(),
                            kind: kind(),
                        });
                    }
                    from += part.len() + 1;
                }
            }
        }
        // On a `## SECRET-DATA` line the value is the last word before `;`.
        if secret_data
            && let Some(pos) = tokens.iter().position(|t| t.punct == Some(b';'))
            && pos > 0
            && tokens[pos - 1].punct.is_none()
        {
            let value = &tokens[pos - 1];
            let kind = tokens[..pos - 1]
                .iter()
                .rev()
                .find(|t| t.punct.is_none() && !t.quoted)
                .map_or("secret", |t| word(t));
            spans.push(SecretSpan {
                range: value.range.clone(),
                kind: kind.to_string(),
            });
        }
        let context: &[&str] = if set_line {
            &edit
        } else {
            blocks.last().map_or(&[], Vec::as_slice)
        };
        community_rule(text, context, seq, &mut spans);
        if !set_line {
            let mut header: Vec<&str> = Vec::new();
            for t in &tokens {
                match t.punct {
                    Some(b'{') if blocks.len() < MAX_DEPTH => {
                        blocks.push(std::mem::take(&mut header))
                    }
                    Some(b'{') => header.clear(),
                    Some(b'}') => {
                        blocks.pop();
                    }
                    Some(_) => header.clear(),
                    None => header.push(word(t)),
                }
            }
        }
    }
    spans
}

fn is_word(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `snmp community NAME`: in a `set` path (after the `edit` context), in a diff header, as
/// `community NAME` inside a block whose header ends with `snmp`, and `rename`/`copy ... to
/// community NAME` of an SNMP community.
fn community_rule(text: &str, context: &[&str], seq: &[&Token], spans: &mut Vec<SecretSpan>) {
    let word = |t: &Token| &text[t.range.clone()];
    let mut push = |t: &Token| {
        spans.push(SecretSpan {
            range: t.range.clone(),
            kind: "community".into(),
        })
    };
    if context.last() == Some(&"snmp") && seq.len() > 1 && word(seq[0]) == "community" {
        push(seq[1]);
    }
    // Only the last words of a context matter (`snmp` is a top-level statement, or under
    // `groups G` or `logical-systems L`): a hostile context cannot make this quadratic.
    let recent = &context[context.len().saturating_sub(4)..];
    let snmp = recent.contains(&"snmp") || seq.iter().any(|t| word(t) == "snmp");
    for w in seq.windows(3) {
        let (a, b) = (word(w[0]), word(w[1]));
        if (a == "snmp" || (a == "to" && snmp)) && b == "community" {
            push(w[2]);
        }
    }
}

/// A namespaced name (`junos:secret`) by its local part.
fn local_of(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The XML rules: `<secret>...</secret>`-like elements, encrypted values, and the `<name>` of a
/// `<community>` inside `<snmp>`.
fn xml(text: &str) -> Vec<SecretSpan> {
    let mut spans = Vec::new();
    // The open elements, by local name (bounded: a hostile text cannot grow it past its own size).
    let mut open: Vec<&str> = Vec::new();
    let mut i = 0;
    while let Some(lt) = text[i..].find('<').map(|p| p + i) {
        let Some(gt) = text[lt..].find('>').map(|p| p + lt) else {
            break;
        };
        let tag = &text[lt + 1..gt];
        i = gt + 1;
        if let Some(closing) = tag.strip_prefix('/') {
            let name = local_of(closing.trim());
            // Close up to the matching element (a stray closing tag closes nothing).
            if let Some(at) = open.iter().rposition(|o| *o == name) {
                open.truncate(at);
            }
            continue;
        }
        if tag.starts_with(['?', '!']) || tag.ends_with('/') {
            continue;
        }
        let name = tag
            .split(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or("");
        // Namespaced names (`junos:secret`) count by their local part.
        let local = local_of(name);
        // A simple element: text up to its closing tag.
        let end = text[i..].find('<').map_or(text.len(), |p| p + i);
        let closes = text[end..]
            .strip_prefix("</")
            .is_some_and(|rest| rest.starts_with(name) && rest[name.len()..].starts_with('>'));
        let value = &text[i..end];
        if closes && !value.trim().is_empty() {
            let parent = open.last().copied();
            let community_name = local == "name"
                && parent == Some("community")
                && open.len() >= 2
                && open[open.len() - 2] == "snmp";
            if is_secret_element(local) || looks_encrypted(value.trim()) || community_name {
                let lead = value.len() - value.trim_start().len();
                spans.push(SecretSpan {
                    range: i + lead..i + lead + value.trim().len(),
                    kind: if community_name {
                        "community".into()
                    } else {
                        local.to_string()
                    },
                });
            }
        }
        // The stack is capped, so closing tags stay linear on hostile text.
        if open.len() < MAX_DEPTH {
            open.push(local);
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, String)> {
        secret_spans(text)
            .into_iter()
            .map(|s| (&text[s.range], s.kind))
            .collect()
    }

    #[test]
    fn set_lines() {
        let text = "set system root-authentication encrypted-password \"$6$abc$def\"\n\
set snmp community public authorization read-only\n\
set groups G snmp community s3cret-Comm clients 10.0.0.0/8\n\
set access radius-server 10.1.1.1 secret \"$9$xyz\"\n\
set policy-options community BGP-OUT members 65000:100\n\
set system login password minimum-length 8\n\
set security ike policy P pre-shared-key ascii-text \"plain words\"\n\
set system login user bob authentication ssh-rsa \"ssh-rsa AAAA bob\"\n";
        assert_eq!(
            found(text),
            vec![
                ("$6$abc$def", "encrypted-password".to_string()),
                ("public", "community".to_string()),
                ("s3cret-Comm", "community".to_string()),
                ("$9$xyz", "secret".to_string()),
                ("plain words", "ascii-text".to_string()),
            ]
        );
    }

    #[test]
    fn curly_text_and_secret_data() {
        let text = "system {\n    root-authentication {\n        encrypted-password \"$6$x$y\"; ## SECRET-DATA\n    }\n}\n\
snmp {\n    community public {\n        authorization read-only;\n    }\n    inactive: community other;\n}\n\
policy-options {\n    community BGP members 65000:1;\n}\n\
protocols {\n    ospf {\n        area 0 {\n            interface ge-0/0/0 {\n                authentication {\n                    md5 1 key \"$9$abc\"; ## SECRET-DATA\n                }\n            }\n        }\n    }\n}\n\
services {\n    thing {\n        token unmarked; ## SECRET-DATA\n    }\n}\n";
        assert_eq!(
            found(text),
            vec![
                ("$6$x$y", "encrypted-password".to_string()),
                ("public", "community".to_string()),
                ("other", "community".to_string()),
                ("$9$abc", "key".to_string()),
                ("unmarked", "token".to_string()),
            ]
        );
    }

    #[test]
    fn diffs_and_headers() {
        let text = "[edit snmp]\n+   community newcomm {\n+       authorization read-only;\n+   }\n\
[edit snmp community oldcomm]\n-    authorization read-write;\n\
[edit system]\n+  radius-server 10.0.0.1 secret \"$9$q\"; ## SECRET-DATA\n";
        assert_eq!(
            found(text),
            vec![
                ("newcomm", "community".to_string()),
                ("oldcomm", "community".to_string()),
                ("$9$q", "secret".to_string()),
            ]
        );
    }

    #[test]
    fn xml_elements() {
        let text = "<configuration><system><root-authentication>\n<encrypted-password>$6$a$b</encrypted-password>\n</root-authentication></system>\n\
<snmp><community><name>public</name><authorization>read-only</authorization></community></snmp>\n\
<policy-options><community><name>BGP</name><members>65000:1</members></community></policy-options>\n\
<interfaces><interface><name>ge-0/0/0</name><description>$9$looks</description></interface></interfaces></configuration>";
        assert_eq!(
            found(text),
            vec![
                ("$6$a$b", "encrypted-password".to_string()),
                ("public", "community".to_string()),
                ("$9$looks", "description".to_string()),
            ]
        );
    }

    #[test]
    fn unquoted_values_edit_contexts_and_renames() {
        let text = "set system radius-server 10.0.0.1 secret PlainRadius1\n\
set security ike policy P pre-shared-key ascii-text PlainIke1\n\
set protocols bgp group G authentication-key PlainBgp1\n\
set system ntp authentication-key 1 type md5 value PlainNtp1\n\
edit snmp\n\
set community EditComm1 authorization read-only\n\
top\n\
rename snmp community A1 to community RenameComm1\n\
set system login password minimum-length 8\n";
        let secrets: Vec<&str> = found(text).into_iter().map(|(v, _)| v).collect();
        assert_eq!(
            secrets,
            vec![
                "PlainRadius1",
                "PlainIke1",
                "PlainBgp1",
                "PlainNtp1",
                "EditComm1",
                "A1",
                "RenameComm1"
            ]
        );
        let curly =
            "access {\n    radius-server 10.0.0.1 {\n        secret CurlySecret1;\n    }\n}\n";
        assert_eq!(found(curly), vec![("CurlySecret1", "secret".to_string())]);
        let xml = "<snmp><community><authorization>read-only</authorization><name>LateName</name></community></snmp>";
        assert_eq!(found(xml), vec![("LateName", "community".to_string())]);
    }

    #[test]
    fn hostile_text_stays_linear() {
        for text in [
            format!("{} key", "value ".repeat(200_000)),
            format!("{}key", "edit x\n".repeat(100_000)),
            format!("{}{}key", "<a>".repeat(100_000), "</b>".repeat(100_000)),
            format!("{}snmp community x", "{ ".repeat(100_000)),
        ] {
            // A quadratic walk takes minutes on these (no timing assertion: the suite shows it).
            assert!(secret_spans(&text).len() <= 2);
        }
    }

    #[test]
    fn encrypted_values_within_quoted_text() {
        let text = "set interfaces ge-0/0/1 description \"old key $9$abcDEF and more\"\n";
        assert_eq!(found(text), vec![("$9$abcDEF", "description".to_string())]);
    }

    #[test]
    fn plain_output_has_none() {
        assert!(found("Interface ge-0/0/0 is up\nPhysical link is Up\n").is_empty());
        assert!(found("the community of practice meets on Tuesday").is_empty());
        assert!(!looks_encrypted("$100 off") && !looks_encrypted("$9$") && looks_encrypted("$9$a"));
    }
}
