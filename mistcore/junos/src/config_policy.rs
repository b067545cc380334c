//! The configuration deny-list: statements no write may touch (root authentication, login
//! users, the management services that keep the device reachable, scripts that run code),
//! checked in every format a write can load (`set` commands, curly-brace text, XML) before
//! anything is sent.
//!
//! Each statement's hierarchy path is read, `groups NAME`, `logical-systems NAME` and
//! `tenants NAME` prefixes are looked through (a group applied elsewhere is the same
//! statement), and typed words match deny-list words as Junos abbreviations. A `delete`,
//! `deactivate` or `replace` of a parent (`delete system`) hits the entries below it.
//! What cannot be read is refused.

use crate::JunosError;
use crate::words::{abbreviates, expand, starts_with_entry};
use std::str::FromStr;

/// The format of a configuration to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `set` commands, one per line.
    Set,
    /// Curly-brace text, as `show configuration` prints it.
    Text,
    /// Junos XML, a `<configuration>` element.
    Xml,
}

impl FromStr for Format {
    type Err = JunosError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "set" => Ok(Format::Set),
            "text" => Ok(Format::Text),
            "xml" => Ok(Format::Xml),
            other => Err(JunosError::Argument(format!(
                "unknown configuration format `{other}`: use set, text or xml"
            ))),
        }
    }
}

impl Format {
    /// The name of the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Set => "set",
            Format::Text => "text",
            Format::Xml => "xml",
        }
    }
}

/// Entries refused in every write unless `MISTMCP_JUNOS_CONFIG_DENYLIST` names a list of its own.
pub const DEFAULT_DENYLIST: &[&str] = &[
    "system root-authentication",
    "system login",
    "system authentication-order",
    "system radius-server",
    "system tacplus-server",
    "system services ssh",
    "system services netconf",
    "system scripts",
    "system extensions",
    "event-options",
];

/// The most a configuration to load may hold.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// One statement: its hierarchy path, and whether it removes or replaces what is below it.
struct Statement {
    path: Vec<String>,
    covers_below: bool,
}

fn refused(text: String) -> JunosError {
    JunosError::Refused(text)
}

/// Checks a configuration against the deny-list; the error names the statement and the entry.
pub fn check(format: Format, text: &str, denylist: &[String]) -> Result<(), JunosError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(refused(format!(
            "the configuration is {} bytes: at most {MAX_CONFIG_BYTES}",
            text.len()
        )));
    }
    if text.trim().is_empty() {
        return Err(JunosError::Argument(
            "the configuration is empty: give the statements to load".into(),
        ));
    }
    let statements = match format {
        Format::Set => set_statements(text)?,
        Format::Text => text_statements(text)?,
        Format::Xml => xml_statements(text)?,
    };
    let entries: Vec<Vec<String>> = denylist
        .iter()
        .map(|d| d.split_whitespace().map(str::to_lowercase).collect())
        .filter(|e: &Vec<String>| !e.is_empty())
        .collect();
    for statement in &statements {
        for variant in variants(&statement.path) {
            let typed: Vec<&str> = variant.iter().map(String::as_str).collect();
            let hit = entries.iter().find(|entry| {
                starts_with_entry(&typed, entry)
                    || (statement.covers_below
                        && !typed.is_empty()
                        && typed.len() < entry.len()
                        && typed
                            .iter()
                            .zip(entry.iter())
                            .all(|(t, d)| abbreviates(t, d)))
            });
            if let Some(entry) = hit {
                return Err(refused(format!(
                    "the configuration touches `{}`, which the configuration deny-list refuses (`{}`): nothing was sent",
                    statement.path.join(" "),
                    entry.join(" ")
                )));
            }
        }
    }
    Ok(())
}

/// The path as written and with each `groups NAME` / `logical-systems NAME` / `tenants NAME`
/// prefix looked through.
fn variants(path: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![path.to_vec()];
    let mut rest = path;
    while let [first, _name, tail @ ..] = rest {
        if ["groups", "logical-systems", "tenants"]
            .iter()
            .any(|w| abbreviates(first, w))
        {
            out.push(tail.to_vec());
            rest = tail;
        } else {
            break;
        }
    }
    out
}

/// Splits a line into words; a quoted string is one word, without its quotes.
fn words(line: &str) -> Result<Vec<String>, JunosError> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => word.extend(chars.next()),
                    '"' => {
                        closed = true;
                        break;
                    }
                    _ => word.push(c),
                }
            }
            if !closed {
                return Err(refused(format!("unclosed quote in `{line}`")));
            }
        } else {
            word.push(c);
            while let Some(c) = chars.peek().copied() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word.to_lowercase());
    }
    Ok(out)
}

const SET_VERBS: &[&str] = &[
    "activate",
    "annotate",
    "copy",
    "deactivate",
    "delete",
    "edit",
    "exit",
    "insert",
    "protect",
    "rename",
    "replace",
    "set",
    "top",
    "unprotect",
    "up",
    "wildcard",
];

fn set_statements(text: &str) -> Result<Vec<Statement>, JunosError> {
    let mut context: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w = words(line)?;
        let verb = expand(&w[0], SET_VERBS).ok_or_else(|| {
            refused(format!(
                "`{line}` is not a configuration command (set, delete, deactivate, activate, edit, ...)"
            ))
        })?;
        let rest: Vec<String> = w[1..].to_vec();
        let full = |p: &[String]| -> Vec<String> { context.iter().chain(p).cloned().collect() };
        match verb {
            "top" => context.clear(),
            "up" | "exit" => {
                let n = rest
                    .first()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(1);
                let keep = context.len().saturating_sub(n);
                context.truncate(keep);
            }
            "edit" => {
                let path = full(&rest);
                out.push(Statement {
                    path: path.clone(),
                    covers_below: false,
                });
                context = path;
            }
            "wildcard" => {
                return Err(refused(format!(
                    "`{line}`: wildcard commands are refused (their reach cannot be checked)"
                )));
            }
            "copy" | "rename" | "insert" => {
                // Both ends: `copy A to B`, `rename A to B`, `insert A before B`.
                let split = rest
                    .iter()
                    .position(|x| ["to", "before", "after"].contains(&x.as_str()))
                    .unwrap_or(rest.len());
                out.push(Statement {
                    path: full(&rest[..split]),
                    covers_below: true,
                });
                if split < rest.len() {
                    let mut dest = full(&rest[..split]);
                    dest.pop();
                    dest.extend(rest[split + 1..].iter().cloned());
                    out.push(Statement {
                        path: dest,
                        covers_below: true,
                    });
                }
            }
            other => out.push(Statement {
                path: full(&rest),
                covers_below: matches!(other, "delete" | "deactivate" | "replace" | "protect"),
            }),
        }
    }
    Ok(out)
}

fn text_statements(text: &str) -> Result<Vec<Statement>, JunosError> {
    // Tokens: words (quoted strings are one), `{`, `}`, `;`, `[`, `]`; comments dropped.
    let mut tokens: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '{' | '}' | ';' | '[' | ']' => tokens.push(c.to_string()),
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                let mut closed = false;
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        closed = true;
                        break;
                    }
                    last = c;
                }
                if !closed {
                    return Err(refused("unclosed /* comment in the configuration".into()));
                }
            }
            '"' => {
                let mut word = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => word.extend(chars.next()),
                        '"' => {
                            closed = true;
                            break;
                        }
                        _ => word.push(c),
                    }
                }
                if !closed {
                    return Err(refused("unclosed quote in the configuration".into()));
                }
                tokens.push(format!("\u{0}{}", word.to_lowercase()));
            }
            c => {
                let mut word = c.to_string();
                while let Some(c) = chars.peek().copied() {
                    if c.is_whitespace() || "{};[]\"".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(word.to_lowercase());
            }
        }
    }
    let mut stack: Vec<(Vec<String>, bool)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut covers = false;
    let mut out = Vec::new();
    let mut in_list = false;
    let current = |stack: &Vec<(Vec<String>, bool)>| -> Vec<String> {
        stack.iter().flat_map(|(w, _)| w.iter().cloned()).collect()
    };
    for token in tokens {
        match token.as_str() {
            "[" => in_list = true,
            "]" => in_list = false,
            _ if in_list => pending.push(token.trim_start_matches('\u{0}').to_string()),
            "{" => {
                let mut path = current(&stack);
                path.extend(pending.iter().cloned());
                let parent_covers = stack.last().is_some_and(|(_, c)| *c);
                out.push(Statement {
                    path,
                    covers_below: covers || parent_covers,
                });
                stack.push((std::mem::take(&mut pending), covers || parent_covers));
                covers = false;
            }
            ";" => {
                let mut path = current(&stack);
                path.append(&mut pending);
                let parent_covers = stack.last().is_some_and(|(_, c)| *c);
                out.push(Statement {
                    path,
                    covers_below: covers || parent_covers,
                });
                covers = false;
            }
            "}" => {
                if stack.pop().is_none() || !pending.is_empty() {
                    return Err(refused(
                        "cannot read the configuration: unbalanced braces or a statement without `;`".into(),
                    ));
                }
            }
            tag if tag.ends_with(':') && pending.is_empty() && !tag.starts_with('\u{0}') => {
                // replace:, delete:, inactive:, protect: before a statement.
                covers |= ["replace:", "delete:", "inactive:", "protect:"].contains(&tag);
            }
            word => pending.push(word.trim_start_matches('\u{0}').to_string()),
        }
    }
    if !stack.is_empty() || !pending.is_empty() {
        return Err(refused(
            "cannot read the configuration: unbalanced braces or a statement without `;`".into(),
        ));
    }
    Ok(out)
}

fn xml_statements(text: &str) -> Result<Vec<Statement>, JunosError> {
    use quick_xml::events::Event;
    if text.contains("<!") && !text.contains("<!--")
        || text.contains("<!DOCTYPE")
        || text.contains("<!ENTITY")
    {
        return Err(refused(
            "XML configurations may not hold a DOCTYPE or entities".into(),
        ));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<(String, bool)> = Vec::new();
    let mut out = Vec::new();
    let mut roots = 0;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| refused(format!("cannot read the XML configuration: {e}")))?;
        let (element, empty) = match &event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                stack.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().as_ref().to_lowercase();
        let mut covers = stack.last().is_some_and(|(_, c)| *c);
        for attr in element.attributes().flatten() {
            let key = attr.key.local_name().as_ref().to_lowercase();
            let value = attr.value.to_lowercase();
            covers |= matches!(
                key.as_str(),
                "delete" | "replace" | "inactive" | "rename" | "insert"
            ) || (key == "operation"
                && matches!(value.as_str(), "delete" | "replace" | "remove"));
        }
        if stack.is_empty() {
            roots += 1;
            if name != "configuration" || roots > 1 {
                return Err(refused(
                    "an XML configuration must be one <configuration> element".into(),
                ));
            }
        } else {
            // `groups`, `logical-systems` and `tenants` take their name as a child element: the
            // path below them is looked through by leaving them out.
            let path: Vec<String> = stack
                .iter()
                .skip(1)
                .map(|(n, _)| n.clone())
                .chain([name.clone()])
                .filter(|n| !["groups", "logical-systems", "tenants"].contains(&n.as_str()))
                .collect();
            out.push(Statement {
                path,
                covers_below: covers,
            });
        }
        if !empty {
            stack.push((name, covers));
        }
    }
    if !stack.is_empty() || roots == 0 {
        return Err(refused(
            "cannot read the XML configuration: it is not complete".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny() -> Vec<String> {
        DEFAULT_DENYLIST.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ordinary_changes_pass_in_every_format() {
        check(
            Format::Set,
            "set interfaces ge-0/0/1 description \"uplink to core\"\nset system host-name r1",
            &deny(),
        )
        .expect("set");
        check(
            Format::Text,
            "interfaces { ge-0/0/1 { description \"uplink\"; } }\nsystem { host-name r1; }",
            &deny(),
        )
        .expect("text");
        check(
            Format::Xml,
            "<configuration><system><host-name>r1</host-name></system></configuration>",
            &deny(),
        )
        .expect("xml");
    }

    #[test]
    fn denied_statements_are_refused_in_every_format_and_spelling() {
        let d = deny();
        for (format, text) in [
            (
                Format::Set,
                "set system root-authentication plain-text-password-value x",
            ),
            (Format::Set, "set sys root-auth encrypted-password $6$x"),
            (
                Format::Set,
                "set groups G system login user eve class super-user",
            ),
            (
                Format::Set,
                "edit system\nset login user eve class super-user",
            ),
            (
                Format::Set,
                "edit system login\nup\nset services ssh root-login allow",
            ),
            (Format::Set, "delete system"),
            (Format::Set, "deactivate system services"),
            (Format::Set, "wildcard delete interfaces ge-*"),
            (Format::Set, "frobnicate system"),
            (
                Format::Text,
                "system { login { user eve { class super-user; } } }",
            ),
            (
                Format::Text,
                "groups { G { system { root-authentication { encrypted-password \"x\"; } } } }",
            ),
            (Format::Text, "replace: system { host-name r1; }"),
            (
                Format::Text,
                "system { services { ssh { root-login allow; } }",
            ),
            (
                Format::Xml,
                "<configuration><system><login><user><name>eve</name></user></login></system></configuration>",
            ),
            (
                Format::Xml,
                "<configuration><groups><name>G</name><system><root-authentication/></system></groups></configuration>",
            ),
            (
                Format::Xml,
                "<configuration><system operation=\"delete\"/></configuration>",
            ),
            (
                Format::Xml,
                "<!DOCTYPE x [<!ENTITY a \"b\">]><configuration/>",
            ),
            (Format::Xml, "<configuration><system>"),
        ] {
            assert!(
                check(format, text, &d).is_err(),
                "{format:?} {text:?} passed"
            );
        }
    }
}
