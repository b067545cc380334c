//! The RPCs sent to devices and the replies read from them.
//!
//! Junos devices (their hello names `http://xml.juniper.net/netconf/junos/1.0`) get Junos RPCs:
//! `<command>`, `<get-configuration>`, `<load-configuration>`, `<commit-configuration>`. Other
//! NETCONF servers get the RFC 6241 operations where one exists (`<get-config>`, `<edit-config>`,
//! `<validate>`, `<commit>`); Junos-only reads are refused for them with a clear error.
//! Replies are read with quick-xml; text is unescaped, nothing is evaluated.

use crate::config_policy::Format;
use quick_xml::escape::escape;
use quick_xml::events::Event;

/// What kind of NETCONF server a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Junos: Junos RPCs, confirm timeouts in minutes.
    Junos,
    /// Any other NETCONF server: RFC 6241 operations only.
    Netconf,
}

/// The capability a Junos hello names.
pub const JUNOS_CAPABILITY: &str = "http://xml.juniper.net/netconf/junos/1.0";

/// The format of a configuration read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFormat {
    /// `set` commands.
    Set,
    /// Curly-brace text.
    Text,
    /// JSON.
    Json,
    /// XML.
    Xml,
}

impl std::str::FromStr for ReadFormat {
    type Err = crate::JunosError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "set" => Ok(ReadFormat::Set),
            "text" => Ok(ReadFormat::Text),
            "json" => Ok(ReadFormat::Json),
            "xml" => Ok(ReadFormat::Xml),
            other => Err(crate::JunosError::Argument(format!(
                "unknown configuration format `{other}`: use set, text, json or xml"
            ))),
        }
    }
}

impl ReadFormat {
    /// The name of the format.
    pub fn name(self) -> &'static str {
        match self {
            ReadFormat::Set => "set",
            ReadFormat::Text => "text",
            ReadFormat::Json => "json",
            ReadFormat::Xml => "xml",
        }
    }
}

/// An operational command, answered as text.
pub fn command(command: &str) -> String {
    format!("<command format=\"text\">{}</command>", escape(command))
}

/// The configuration with inherited groups applied and no comments
/// (`show configuration | display inheritance no-comments`), in `format`. JSON is asked as XML
/// and converted ([`xml_to_json`]): Junos sends JSON as bare text in the reply, which NETCONF
/// clients (rustnetconf among them) refuse as text outside a payload.
pub fn get_configuration(format: ReadFormat) -> String {
    let asked = match format {
        ReadFormat::Json => "xml",
        other => other.name(),
    };
    format!("<get-configuration inherit=\"inherit\" format=\"{asked}\"/>")
}

/// The deepest XML [`xml_to_json`] converts (Junos configurations are a few dozen levels deep).
pub const MAX_DEPTH: usize = 128;

/// An XML configuration as JSON in Junos's shape: elements are keys, leaves strings, empty
/// statements `[null]`, and list entries (elements with a `<name>`) arrays, even of one.
pub fn xml_to_json(xml: &str) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    struct Node {
        name: String,
        children: Vec<Node>,
        text: String,
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<Node> = vec![Node {
        name: String::new(),
        children: vec![],
        text: String::new(),
    }];
    loop {
        match reader.read_event().ok()? {
            // The conversion below recurses: a hostile device's deep nesting must not reach it.
            Event::Start(_) if stack.len() > MAX_DEPTH => return None,
            Event::Start(e) => stack.push(Node {
                name: e.local_name().as_ref().to_string(),
                children: vec![],
                text: String::new(),
            }),
            Event::Empty(e) => {
                let node = Node {
                    name: e.local_name().as_ref().to_string(),
                    children: vec![],
                    text: String::new(),
                };
                stack.last_mut()?.children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop()?;
                stack.last_mut()?.children.push(node);
            }
            Event::Text(t) => stack.last_mut()?.text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => stack
                .last_mut()?
                .text
                .push_str(&unescape_ref(&r.into_inner())),
            Event::Eof => break,
            _ => {}
        }
    }
    fn convert(node: &Node) -> Value {
        if node.children.is_empty() {
            let text = node.text.trim();
            return if text.is_empty() {
                json_null_list()
            } else {
                Value::String(text.to_string())
            };
        }
        let mut map = Map::new();
        for child in &node.children {
            let value = convert(child);
            let is_entry = child.children.iter().any(|c| c.name == "name");
            match map.get_mut(&child.name) {
                Some(Value::Array(items)) if is_entry || items.len() > 1 => items.push(value),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, value]);
                }
                None if is_entry => {
                    map.insert(child.name.clone(), Value::Array(vec![value]));
                }
                None => {
                    map.insert(child.name.clone(), value);
                }
            }
        }
        Value::Object(map)
    }
    fn json_null_list() -> Value {
        Value::Array(vec![Value::Null])
    }
    let root = stack.pop()?;
    let configuration = root.children.iter().find(|c| c.name == "configuration")?;
    let mut out = Map::new();
    out.insert("configuration".into(), convert(configuration));
    Some(Value::Object(out))
}

/// The running configuration of a NETCONF server.
pub const GET_RUNNING: &str = "<get-config><source><running/></source></get-config>";
/// The candidate configuration of a NETCONF server.
pub const GET_CANDIDATE: &str = "<get-config><source><candidate/></source></get-config>";

/// The difference between the candidate and rollback `n` (`show | compare rollback n`; 0 is
/// the active configuration).
pub fn compare_rollback(n: u32) -> String {
    format!("<get-configuration compare=\"rollback\" rollback=\"{n}\" format=\"text\"/>")
}

/// Software version, model and host name.
pub const SOFTWARE_INFORMATION: &str = "<get-software-information/>";
/// The chassis and its serial number.
pub const CHASSIS_INVENTORY: &str = "<get-chassis-inventory/>";
/// Locks the candidate configuration (Junos and RFC 6241).
pub const LOCK: &str = "<lock><target><candidate/></target></lock>";
/// Unlocks the candidate configuration.
pub const UNLOCK: &str = "<unlock><target><candidate/></target></unlock>";
/// Drops the changes of the candidate.
pub const DISCARD: &str = "<discard-changes/>";
/// RFC 6241 validation of the candidate.
pub const VALIDATE: &str = "<validate><source><candidate/></source></validate>";
/// Junos `commit check`.
pub const COMMIT_CHECK: &str = "<commit-configuration><check/></commit-configuration>";
/// RFC 6241 cancel of a confirmed commit (`:confirmed-commit:1.1`).
pub const CANCEL_COMMIT: &str = "<cancel-commit/>";

/// Loads a configuration into the candidate: Junos `load-configuration` (`set` as
/// `action="set"`, text and XML merged), or RFC 6241 `edit-config` of the `<configuration>`
/// element's children for other servers (XML only).
pub fn load(dialect: Dialect, format: Format, text: &str) -> Result<String, String> {
    match (dialect, format) {
        (Dialect::Junos, Format::Set) => Ok(format!(
            "<load-configuration action=\"set\" format=\"text\"><configuration-set>{}</configuration-set></load-configuration>",
            escape(text)
        )),
        (Dialect::Junos, Format::Text) => Ok(format!(
            "<load-configuration action=\"merge\" format=\"text\"><configuration-text>{}</configuration-text></load-configuration>",
            escape(text)
        )),
        // XML is sent as rebuilt from its parse, never as the caller's bytes.
        (Dialect::Junos, Format::Xml) => Ok(format!(
            "<load-configuration action=\"merge\" format=\"xml\">{}</load-configuration>",
            crate::config_policy::rebuilt_xml(text).map_err(|e| e.to_string())?
        )),
        (Dialect::Netconf, Format::Xml) => {
            let rebuilt = crate::config_policy::rebuilt_xml(text).map_err(|e| e.to_string())?;
            let inner = inner_of_root(&rebuilt)
                .ok_or("an XML configuration must be one <configuration> element")?;
            Ok(format!(
                "<edit-config><target><candidate/></target><config>{inner}</config></edit-config>"
            ))
        }
        (Dialect::Netconf, other) => Err(format!(
            "this device is not Junos: it loads XML configurations only, not `{}`",
            other.name()
        )),
    }
}

/// A confirmed commit that the device reverts by itself unless confirmed within `seconds`
/// (Junos counts minutes: at least one).
pub fn commit_confirmed(dialect: Dialect, seconds: u32, comment: &str) -> String {
    match dialect {
        Dialect::Junos => format!(
            "<commit-configuration><confirmed/><confirm-timeout>{}</confirm-timeout><log>{}</log></commit-configuration>",
            seconds.div_ceil(60).max(1),
            escape(comment)
        ),
        Dialect::Netconf => format!(
            "<commit><confirmed/><confirm-timeout>{}</confirm-timeout></commit>",
            seconds.max(1)
        ),
    }
}

/// The commit that confirms a confirmed commit (or commits the candidate).
pub fn commit(dialect: Dialect, comment: &str) -> String {
    match dialect {
        Dialect::Junos => format!(
            "<commit-configuration><log>{}</log></commit-configuration>",
            escape(comment)
        ),
        Dialect::Netconf => "<commit/>".to_string(),
    }
}

/// Loads rollback `n` into the candidate (Junos).
pub fn load_rollback(n: u32) -> String {
    format!("<load-configuration rollback=\"{n}\"/>")
}

/// The text between the root element's tags of `xml`, if it is one element.
fn inner_of_root(xml: &str) -> Option<&str> {
    let xml = xml.trim();
    let open_end = xml.find('>')?;
    if xml[..open_end].ends_with('/') {
        return Some("");
    }
    let close = xml.rfind("</")?;
    (close > open_end).then(|| &xml[open_end + 1..close])
}

/// The unescaped text of the first element named `name` (local name) in `xml`, with the text
/// of its descendants.
pub fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut depth = 0usize;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth > 0 {
                    depth += 1;
                } else if e.local_name().as_ref() == name {
                    depth = 1;
                }
            }
            Ok(Event::Empty(e)) if depth == 0 && e.local_name().as_ref() == name => {
                return Some(String::new());
            }
            Ok(Event::End(_)) if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(text);
                }
            }
            Ok(Event::Text(t)) if depth > 0 => text.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) if depth > 0 => text.push_str(&t.into_inner()),
            Ok(Event::GeneralRef(r)) if depth > 0 => {
                text.push_str(&unescape_ref(&r.into_inner()));
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
    }
}

fn unescape_ref(name: &str) -> String {
    match name {
        "lt" => "<".into(),
        "gt" => ">".into(),
        "amp" => "&".into(),
        "quot" => "\"".into(),
        "apos" => "'".into(),
        n => n
            .strip_prefix("#x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32)
            .map_or_else(String::new, |c| c.to_string()),
    }
}

/// The error messages of the `<rpc-error>`s of severity `error` in a reply (Junos reports load
/// and commit errors inside `<load-configuration-results>` and `<commit-results>`), with or
/// without a namespace prefix. A reply that does not parse is one error.
pub fn errors(xml: &str) -> Vec<String> {
    #[derive(Default)]
    struct RpcError {
        severity: String,
        message: String,
        tag: String,
        at: String,
    }
    let mut out = Vec::new();
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut current: Option<RpcError> = None;
    let mut field: Option<String> = None;
    let finish = |e: RpcError, out: &mut Vec<String>| {
        if e.severity.trim() == "warning" {
            return;
        }
        let message = [e.message.trim(), e.tag.trim()]
            .into_iter()
            .find(|m| !m.is_empty())
            .unwrap_or("the device reported an error")
            .to_string();
        out.push(match e.at.trim() {
            "" => message,
            at => format!("{message} (at {at})"),
        });
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name().as_ref().to_string();
                if name == "rpc-error" {
                    current = Some(RpcError::default());
                } else if current.is_some() {
                    field = Some(name);
                }
            }
            Ok(Event::Empty(e)) if e.local_name().as_ref() == "rpc-error" => {
                finish(RpcError::default(), &mut out);
            }
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == "rpc-error" {
                    if let Some(done) = current.take() {
                        finish(done, &mut out);
                    }
                } else {
                    field = None;
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(e), Some(f)) = (current.as_mut(), field.as_deref()) {
                    let text = t.xml10_content();
                    match f {
                        "error-severity" => e.severity.push_str(&text),
                        "error-message" => e.message.push_str(&text),
                        "error-tag" => e.tag.push_str(&text),
                        "error-path" | "bad-element" => e.at.push_str(&text),
                        _ => {}
                    }
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let (Some(e), Some("error-message")) = (current.as_mut(), field.as_deref()) {
                    e.message.push_str(&unescape_ref(&r.into_inner()));
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => {
                out.push(format!("the device's reply does not parse: {e}"));
                break;
            }
            _ => {}
        }
    }
    if let Some(open) = current {
        finish(open, &mut out);
    }
    out
}

/// The text of a configuration read: the `<configuration-set>`, `<configuration-text>` or
/// `<configuration-output>` element, or the reply itself (JSON, XML).
pub fn configuration_text(reply: &str, format: ReadFormat) -> String {
    let element = match format {
        ReadFormat::Set => "configuration-set",
        ReadFormat::Text => "configuration-text",
        ReadFormat::Json | ReadFormat::Xml => "",
    };
    if !element.is_empty()
        && let Some(text) = element_text(reply, element)
    {
        return text.trim_matches('\n').to_string();
    }
    if format == ReadFormat::Json {
        return element_text(&format!("<r>{reply}</r>"), "r")
            .unwrap_or_default()
            .trim()
            .to_string();
    }
    reply.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read_as_junos_documents_them() {
        let output = "<output>\nHostname: r1 &amp; more\n</output>";
        assert_eq!(
            element_text(output, "output").as_deref(),
            Some("\nHostname: r1 & more\n")
        );
        let load = "<load-configuration-results><rpc-error><error-severity>error</error-severity><error-message>syntax error</error-message></rpc-error><load-error-count>1</load-error-count></load-configuration-results>";
        assert_eq!(errors(load), vec!["syntax error".to_string()]);
        let warn = "<commit-results><rpc-error><error-severity>warning</error-severity><error-message>w</error-message></rpc-error><commit-success/></commit-results>";
        assert!(errors(warn).is_empty());
        let prefixed = "<nc:rpc-error xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\"><nc:error-severity>error</nc:error-severity><nc:error-message>refused</nc:error-message></nc:rpc-error>";
        assert_eq!(errors(prefixed), vec!["refused".to_string()]);
        assert_eq!(element_text(warn, "commit-success").as_deref(), Some(""));
        assert_eq!(
            configuration_text(
                "<configuration-set>\nset a b\n</configuration-set>",
                ReadFormat::Set
            ),
            "set a b"
        );
    }

    #[test]
    fn xml_configurations_convert_to_junos_json() {
        let xml = "<configuration><system><host-name>r1</host-name><services><ssh/></services></system><interfaces><interface><name>ge-0/0/0</name><description>a &amp; b</description></interface></interfaces></configuration>";
        let json = xml_to_json(xml).expect("converts");
        assert_eq!(json["configuration"]["system"]["host-name"], "r1");
        assert_eq!(
            json["configuration"]["system"]["services"]["ssh"],
            serde_json::json!([null])
        );
        assert_eq!(
            json["configuration"]["interfaces"]["interface"][0]["description"],
            "a & b"
        );
    }

    #[test]
    fn loads_are_escaped_and_plain_netconf_takes_xml_only() {
        let l = load(Dialect::Junos, Format::Set, "set system host-name <x>").expect("set");
        assert!(l.contains("host-name &lt;x&gt;"), "{l}");
        assert!(load(Dialect::Netconf, Format::Set, "set x").is_err());
        let e = load(
            Dialect::Netconf,
            Format::Xml,
            "<configuration><a/></configuration>",
        )
        .expect("xml");
        assert_eq!(
            e,
            "<edit-config><target><candidate/></target><config><a/></config></edit-config>"
        );
        assert!(
            commit_confirmed(Dialect::Junos, 300, "c")
                .contains("<confirm-timeout>5</confirm-timeout>")
        );
        assert!(
            commit_confirmed(Dialect::Netconf, 300, "c")
                .contains("<confirm-timeout>300</confirm-timeout>")
        );
    }
}
