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

/// The deepest hierarchy a statement may have (Junos configurations are a few dozen levels deep).
pub const MAX_DEPTH: usize = 64;

fn refused(text: String) -> JunosError {
    JunosError::Refused(text)
}

/// Words that change what groups contribute to the configuration: refused wherever they are,
/// since a group applied elsewhere can hold anything on the deny-list.
const GROUP_APPLICATION: &[&str] = &["apply-groups", "apply-groups-except"];

/// Prefixes that take a name and are looked through.
const NAMED_PREFIXES: &[&str] = &["groups", "logical-systems", "tenants"];

/// Checks each statement as it is read: nothing but the current path is kept, so memory stays
/// bounded by the depth whatever the input.
struct Checker {
    entries: Vec<Vec<String>>,
}

impl Checker {
    /// One statement: its hierarchy path, and whether it removes or replaces what is below it.
    fn statement(&self, path: &[String], covers_below: bool) -> Result<(), JunosError> {
        if path.len() > MAX_DEPTH {
            return Err(refused(format!(
                "the configuration nests deeper than {MAX_DEPTH} levels: refused"
            )));
        }
        if let Some(w) = path
            .iter()
            .find(|w| w.len() >= 3 && GROUP_APPLICATION.iter().any(|g| abbreviates(w, g)))
        {
            return Err(refused(format!(
                "the configuration changes which groups apply (`{w}`): the configuration deny-list cannot see what a group brings, so this is refused; apply groups by hand"
            )));
        }
        for variant in variants(path) {
            let typed: Vec<&str> = variant.iter().map(String::as_str).collect();
            let hit = self.entries.iter().find(|entry| {
                starts_with_entry(&typed, entry)
                    || (covers_below
                        && typed.len() < entry.len()
                        && typed
                            .iter()
                            .zip(entry.iter())
                            .all(|(t, d)| abbreviates(t, d)))
            });
            if let Some(entry) = hit {
                let shown = if path.is_empty() {
                    "the whole configuration".to_string()
                } else {
                    format!("`{}`", path.join(" "))
                };
                return Err(refused(format!(
                    "the configuration touches {shown}, which the configuration deny-list refuses (`{}`): nothing was sent",
                    entry.join(" ")
                )));
            }
        }
        Ok(())
    }
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
    let checker = Checker {
        entries: denylist
            .iter()
            .map(|d| d.split_whitespace().map(str::to_lowercase).collect())
            .filter(|e: &Vec<String>| !e.is_empty())
            .collect(),
    };
    match format {
        Format::Set => set_statements(text, &checker),
        Format::Text => text_statements(text, &checker),
        Format::Xml => xml_statements(text, &checker),
    }
}

/// The path as written and with each `groups NAME` / `logical-systems NAME` / `tenants NAME`
/// prefix looked through (`groups` alone or `groups NAME` alone look through to the whole
/// configuration: deleting a group can delete anything).
fn variants(path: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![path.to_vec()];
    let mut rest = path;
    loop {
        let named = |w: &String| NAMED_PREFIXES.iter().any(|p| abbreviates(w, p));
        match rest {
            [first, _name, tail @ ..] if named(first) => {
                out.push(tail.to_vec());
                rest = tail;
            }
            [first] if named(first) => {
                out.push(Vec::new());
                break;
            }
            _ => break,
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

fn set_statements(text: &str, checker: &Checker) -> Result<(), JunosError> {
    let mut context: Vec<String> = Vec::new();
    // A carriage return ends a line too: the device may read it so.
    for line in text.split(['\n', '\r']) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = words(line)?;
        // `top <command>` and `up [n] <command>` run the command from another level.
        loop {
            let verb = expand(&w[0], SET_VERBS).ok_or_else(|| {
                refused(format!(
                    "`{line}` is not a configuration command (set, delete, deactivate, activate, edit, ...)"
                ))
            })?;
            match verb {
                "top" => {
                    context.clear();
                    w.remove(0);
                }
                "up" | "exit" => {
                    let n = w.get(1).and_then(|n| n.parse::<usize>().ok());
                    let keep = context.len().saturating_sub(n.unwrap_or(1));
                    context.truncate(keep);
                    w.drain(..if n.is_some() { 2 } else { 1 });
                }
                _ => break,
            }
            if w.is_empty() {
                break;
            }
        }
        if w.is_empty() {
            continue;
        }
        let verb = expand(&w[0], SET_VERBS).unwrap_or("set");
        let rest: Vec<String> = w[1..].to_vec();
        let full = |p: &[String]| -> Vec<String> { context.iter().chain(p).cloned().collect() };
        match verb {
            "edit" => {
                let path = full(&rest);
                checker.statement(&path, false)?;
                context = path;
            }
            "wildcard" | "replace" => {
                return Err(refused(format!(
                    "`{line}`: {verb} commands are refused (their reach cannot be checked)"
                )));
            }
            "copy" | "rename" | "insert" => {
                // Both ends: `copy A to B`, `rename A to B`, `insert A before B`.
                let split = rest
                    .iter()
                    .position(|x| ["to", "before", "after"].contains(&x.as_str()))
                    .unwrap_or(rest.len());
                checker.statement(&full(&rest[..split]), true)?;
                if split < rest.len() {
                    let mut dest = full(&rest[..split]);
                    dest.pop();
                    dest.extend(rest[split + 1..].iter().cloned());
                    checker.statement(&dest, true)?;
                }
            }
            other => checker.statement(
                &full(&rest),
                matches!(other, "delete" | "deactivate" | "protect"),
            )?,
        }
    }
    Ok(())
}

fn text_statements(text: &str, checker: &Checker) -> Result<(), JunosError> {
    // Tokens: words (quoted strings are one, marked by a leading NUL), `{`, `}`, `;`, `[`, `]`;
    // comments dropped. Checked as they come: only the current path is kept.
    let mut stack: Vec<(usize, bool)> = Vec::new(); // (words pushed, covers)
    let mut path: Vec<String> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut covers = false;
    let mut in_list = false;
    let unbalanced = || {
        refused(
            "cannot read the configuration: unbalanced braces or a statement without `;`".into(),
        )
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let token: String = match c {
            c if c.is_whitespace() => continue,
            '{' | '}' | ';' | '[' | ']' => c.to_string(),
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
                continue;
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
                continue;
            }
            '"' => {
                let mut word = String::from('\u{0}');
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
                word.to_lowercase()
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
                word.to_lowercase()
            }
        };
        let parent_covers = stack.last().is_some_and(|(_, c)| *c);
        match token.as_str() {
            "[" => in_list = true,
            "]" => in_list = false,
            _ if in_list => pending.push(token.trim_start_matches('\u{0}').to_string()),
            "{" => {
                let pushed = pending.len();
                path.append(&mut pending);
                checker.statement(&path, covers || parent_covers)?;
                stack.push((pushed, covers || parent_covers));
                covers = false;
            }
            ";" => {
                let pushed = pending.len();
                path.append(&mut pending);
                checker.statement(&path, covers || parent_covers)?;
                path.truncate(path.len() - pushed);
                covers = false;
            }
            "}" => {
                let Some((pushed, _)) = stack.pop() else {
                    return Err(unbalanced());
                };
                if !pending.is_empty() {
                    return Err(unbalanced());
                }
                path.truncate(path.len() - pushed);
            }
            tag if tag.ends_with(':') && pending.is_empty() && !tag.starts_with('\u{0}') => {
                // replace:, delete:, inactive:, protect: before a statement.
                covers |= ["replace:", "delete:", "inactive:", "protect:"].contains(&tag);
            }
            word => pending.push(word.trim_start_matches('\u{0}').to_string()),
        }
    }
    if !stack.is_empty() || !pending.is_empty() {
        return Err(unbalanced());
    }
    Ok(())
}

fn xml_statements(text: &str, checker: &Checker) -> Result<(), JunosError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<(String, bool)> = Vec::new();
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
            Event::DocType(_) => {
                return Err(refused(
                    "XML configurations may not hold a DOCTYPE or entities".into(),
                ));
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = element.local_name().as_ref().to_lowercase();
        let mut covers = stack.last().is_some_and(|(_, c)| *c);
        for attr in element.attributes() {
            let attr =
                attr.map_err(|e| refused(format!("cannot read the XML configuration: {e}")))?;
            let key = attr.key.local_name().as_ref().to_lowercase();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| refused(format!("cannot read the XML configuration: {e}")))?
                .to_lowercase();
            if key == "replace-pattern" {
                return Err(refused(
                    "replace-pattern rewrites anywhere below it: refused (its reach cannot be checked)".into(),
                ));
            }
            // On the root, any attribute (an action) reaches everything.
            covers |= stack.is_empty()
                || matches!(
                    key.as_str(),
                    "delete" | "replace" | "inactive" | "rename" | "insert"
                )
                || (key == "operation" && value != "merge" && value != "create");
        }
        if stack.is_empty() {
            roots += 1;
            if name != "configuration" || roots > 1 {
                return Err(refused(
                    "an XML configuration must be one <configuration> element".into(),
                ));
            }
            if covers {
                checker.statement(&[], true)?;
            }
        } else {
            // `groups`, `logical-systems` and `tenants` take their name as a child element: the
            // path below them is looked through by leaving them out (alone, they stand for all).
            let path: Vec<String> = stack
                .iter()
                .skip(1)
                .map(|(n, _)| n.clone())
                .chain([name.clone()])
                .filter(|n| !NAMED_PREFIXES.contains(&n.as_str()))
                .collect();
            checker.statement(&path, covers)?;
        }
        if !empty {
            if stack.len() > MAX_DEPTH {
                return Err(refused(format!(
                    "the configuration nests deeper than {MAX_DEPTH} levels: refused"
                )));
            }
            stack.push((name, covers));
        }
    }
    if !stack.is_empty() || roots == 0 {
        return Err(refused(
            "cannot read the XML configuration: it is not complete".into(),
        ));
    }
    Ok(())
}

/// The XML configuration rebuilt from what was parsed: elements, attributes and text only
/// (comments, processing instructions and CDATA sections dropped or escaped), so that nothing
/// but the checked configuration reaches the device, whatever bytes the text held (`]]>]]>`
/// ends a NETCONF 1.0 message).
pub fn rebuilt_xml(text: &str) -> Result<String, JunosError> {
    use quick_xml::events::{BytesText, Event};
    let mut reader = quick_xml::Reader::from_str(text);
    let mut writer = quick_xml::Writer::new(Vec::new());
    let bad =
        |e: &dyn std::fmt::Display| refused(format!("cannot read the XML configuration: {e}"));
    loop {
        let event = reader.read_event().map_err(|e| bad(&e))?;
        let out = match event {
            Event::Start(e) => Event::Start(e),
            Event::End(e) => Event::End(e),
            Event::Empty(e) => Event::Empty(e),
            Event::Text(t) => Event::Text(t),
            Event::GeneralRef(r) => Event::GeneralRef(r),
            Event::CData(c) => {
                let text = c.into_inner().into_owned();
                Event::Text(BytesText::new(&text).into_owned())
            }
            Event::Eof => break,
            // Comments, processing instructions, the declaration, a DOCTYPE: dropped.
            _ => continue,
        };
        writer.write_event(out).map_err(|e| bad(&e))?;
    }
    let xml = String::from_utf8(writer.into_inner()).map_err(|e| bad(&e))?;
    if xml.contains("]]>") {
        return Err(refused(
            "the XML configuration holds `]]>`, which ends NETCONF messages: refused".into(),
        ));
    }
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny() -> Vec<String> {
        DEFAULT_DENYLIST.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn deep_or_long_input_is_refused_without_growing() {
        let d = deny();
        let deep_text = format!("{}{}", "a {".repeat(16_000), "}".repeat(16_000));
        assert!(check(Format::Text, &deep_text, &d).is_err());
        let deep_xml = format!(
            "<configuration>{}{}</configuration>",
            "<a>".repeat(16_000),
            "</a>".repeat(16_000)
        );
        assert!(check(Format::Xml, &deep_xml, &d).is_err());
        let long_edit = format!("edit {}\n{}", "a ".repeat(40_000), "set x\n".repeat(20_000));
        assert!(check(Format::Set, &long_edit, &d).is_err());
    }

    #[test]
    fn rebuilt_xml_keeps_only_the_configuration() {
        let smuggled = "<configuration><system><host-name>h</host-name></system><!--]]>]]><rpc><commit-configuration/></rpc>]]>]]>--></configuration>";
        let rebuilt = rebuilt_xml(smuggled).expect("rebuilt");
        assert_eq!(
            rebuilt,
            "<configuration><system><host-name>h</host-name></system></configuration>"
        );
        assert!(
            rebuilt_xml("<configuration><a><![CDATA[]]>]]>]]></a></configuration>").is_err()
                || !rebuilt_xml("<configuration><a><![CDATA[x]]></a></configuration>")
                    .expect("cdata")
                    .contains("]]>")
        );
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
            (Format::Set, "delete"),
            (
                Format::Set,
                "top set system login user eve class super-user",
            ),
            (
                Format::Set,
                "edit interfaces\nup set system services ssh root-login allow",
            ),
            (Format::Set, "replace pattern read-only with super-user"),
            (Format::Set, "delete groups"),
            (Format::Set, "delete groups G"),
            (Format::Set, "edit groups G\ndelete"),
            (Format::Set, "delete apply-groups"),
            (Format::Set, "set system apply-groups-except G"),
            (
                Format::Set,
                "set interfaces ge-0/0/0 description x\rset system services ssh root-login allow",
            ),
            (
                Format::Text,
                "# note\rsystem { login { user eve { class super-user; } } }",
            ),
            (Format::Text, "delete: groups;"),
            (Format::Text, "groups { delete: G; }"),
            (
                Format::Xml,
                "<configuration><system><services operation=\"&#100;elete\"/></system></configuration>",
            ),
            (
                Format::Xml,
                "<configuration replace-pattern=\"read-only\" with=\"super-user\"/>",
            ),
            (
                Format::Xml,
                "<configuration><groups delete=\"delete\"/></configuration>",
            ),
        ] {
            assert!(
                check(format, text, &d).is_err(),
                "{format:?} {text:?} passed"
            );
        }
    }
}
