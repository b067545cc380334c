//! Rendering answers as `gh` does: a table fitted to the terminal for a person, JSON in a pipe
//! for a script; `-o` forces a format, `--json fields` selects fields, `--jq` filters.

use super::Failure;
use serde_json::{Map, Value};
use std::io::{IsTerminal, Write};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// An output format (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON, pretty on a terminal, compact in a pipe.
    Json,
    /// One JSON document per line, one per item.
    Ndjson,
    /// YAML.
    Yaml,
    /// Aligned columns for humans, fitted to the terminal.
    Table,
}

/// Where stdout goes: a terminal (then its width and whether colour is welcome) or a pipe/file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sink {
    /// The terminal's columns, when stdout is a terminal.
    pub terminal_width: Option<u16>,
    /// Colour (bold headers): only on a terminal, and never with `NO_COLOR` set.
    pub colour: bool,
}

impl Sink {
    /// Looks at this process's stdout and environment.
    pub fn stdout() -> Sink {
        if !std::io::stdout().is_terminal() {
            return Sink::PIPE;
        }
        let width = terminal_size::terminal_size_of(std::io::stdout())
            .map(|(w, _)| w.0)
            .filter(|w| *w > 0)
            .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
            .unwrap_or(80);
        // https://no-color.org: set and not empty.
        let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Sink {
            terminal_width: Some(width),
            colour: !no_colour && std::env::var("TERM").map_or(true, |t| t != "dumb"),
        }
    }

    /// A pipe or a file: plain, compact, unbounded.
    pub const PIPE: Sink = Sink {
        terminal_width: None,
        colour: false,
    };

    /// The format when none is chosen: a table for a person, JSON for a program.
    pub fn default_format(self) -> Format {
        if self.terminal_width.is_some() {
            Format::Table
        } else {
            Format::Json
        }
    }
}

/// How an answer is printed: the global flags `-o`, `--json`, `--jq` and `--columns`.
#[derive(Debug, Clone, Default)]
pub struct Printing {
    /// `-o`, when chosen (else the sink's default, or JSON with `--json`).
    pub format: Option<Format>,
    /// `--json a,b,c`: only these fields of each item.
    pub fields: Option<Vec<String>>,
    /// `--jq FILTER`: each output on its own line, strings raw.
    pub jq: Option<String>,
    /// `--columns`: the table's columns.
    pub columns: Vec<String>,
}

impl Printing {
    /// Reads the global flags; a bad `--jq` filter is refused before anything is called.
    pub fn from_flags(m: &clap::ArgMatches) -> Result<Printing, Failure> {
        let chosen = matches!(
            m.value_source("output"),
            Some(clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable)
        );
        let jq = m.get_one::<String>("jq").cloned();
        if let Some(filter) = &jq {
            mistcore::jq::Filter::new(filter).map_err(|e| Failure::usage(e.to_string()))?;
        }
        let fields = m
            .get_many::<String>("json")
            .map(|v| v.map(|f| f.trim().to_string()).filter(|f| !f.is_empty()))
            .map(|v| v.collect::<Vec<_>>());
        if fields.as_ref().is_some_and(Vec::is_empty) {
            return Err(Failure::usage(
                "--json needs field names: --json name,id,status",
            ));
        }
        Ok(Printing {
            format: if chosen {
                m.get_one::<Format>("output").copied()
            } else {
                None
            },
            fields,
            jq,
            columns: m
                .get_many::<String>("columns")
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        })
    }

    /// Whether a command that has a text of its own for people (`auth status`, `config list`)
    /// prints that text: on a terminal or with `-o table`, unless `--json` or `--jq` is given.
    /// Otherwise it prints its answer as every command does (JSON in a pipe).
    pub fn wants_text(&self, sink: Sink) -> bool {
        self.fields.is_none()
            && self.jq.is_none()
            && self.format.unwrap_or(sink.default_format()) == Format::Table
    }

    /// Prints `body` to `out` for `sink`.
    pub fn print(&self, body: &Value, sink: Sink, out: &mut dyn Write) -> Result<(), Failure> {
        let selected;
        let body = match &self.fields {
            Some(fields) => {
                let (value, absent) = select_fields(body, fields);
                if !absent.is_empty() {
                    say!(
                        "note: no item has {}; fields present: {}",
                        absent.join(", "),
                        present_fields(body).join(", ")
                    );
                }
                selected = value;
                &selected
            }
            None => body,
        };
        if let Some(filter) = &self.jq {
            return print_jq(filter, body, out);
        }
        // `--json` asks for JSON (as gh), unless a format is chosen too.
        let format = self.format.unwrap_or(if self.fields.is_some() {
            Format::Json
        } else {
            sink.default_format()
        });
        let columns = match (&self.fields, self.columns.is_empty()) {
            (Some(fields), true) => fields.as_slice(),
            _ => self.columns.as_slice(),
        };
        render(out, body, format, columns, sink).map_err(|e| Failure::other(e.to_string()))
    }
}

/// The outputs of a jq filter, one per line: strings raw, other values as compact JSON.
pub fn print_jq(filter: &str, body: &Value, out: &mut dyn Write) -> Result<(), Failure> {
    use mistcore::jq::{Budget, Filter, JqError};
    let outputs = Filter::new(filter)
        .and_then(|f| f.run(body, Budget::default()))
        .map_err(|e| match e {
            JqError::Syntax { .. } | JqError::Refused { .. } => Failure::usage(e.to_string()),
            _ => Failure::other(e.to_string()),
        })?;
    for value in outputs {
        let line = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        writeln!(out, "{line}").map_err(|e| Failure::other(e.to_string()))?;
    }
    Ok(())
}

/// The items of an answer: a list, the `results` of a search, or the object itself.
pub fn items(body: &Value) -> Vec<&Value> {
    match body {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![body],
        },
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Whether `body` is a list of items (a list, or a search with `results`) rather than one object.
pub fn is_list(body: &Value) -> bool {
    body.is_array() || body.get("results").is_some_and(Value::is_array)
}

/// `--json a,b`: each item with only these fields, in this order (a field an item lacks is
/// `null`, so every object has the same keys); a list stays a list (a search's `results`
/// become the list), one object stays one object. Also returns the fields no item has.
pub fn select_fields(body: &Value, fields: &[String]) -> (Value, Vec<String>) {
    let pick = |item: &Value| -> Value {
        let mut o = Map::new();
        for f in fields {
            o.insert(f.clone(), item.get(f).cloned().unwrap_or(Value::Null));
        }
        Value::Object(o)
    };
    let list = items(body);
    let absent: Vec<String> = if list.is_empty() {
        Vec::new()
    } else {
        fields
            .iter()
            .filter(|f| !list.iter().any(|i| i.get(f.as_str()).is_some()))
            .cloned()
            .collect()
    };
    let value = if is_list(body) {
        Value::Array(list.into_iter().map(pick).collect())
    } else {
        pick(body)
    };
    (value, absent)
}

/// The fields the items of `body` have, in first-seen order.
fn present_fields(body: &Value) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for item in items(body) {
        if let Value::Object(o) = item {
            for k in o.keys() {
                if !seen.contains(k) {
                    seen.push(k.clone());
                }
            }
        }
    }
    seen
}

/// Columns tried, in order, when none are given: the identifying fields of Mist objects.
const PREFERRED: &[&str] = &[
    "name",
    "hostname",
    "ssid",
    "id",
    "mac",
    "serial",
    "model",
    "type",
    "status",
    "ip",
    "version",
    "site_id",
    "org_id",
    "timestamp",
    "count",
    "key",
    "value",
];

/// Spaces between two columns of a table.
const GAP: usize = 2;

/// A column that is cut keeps at least this many columns of the terminal (or its header's).
const MIN_CUT_WIDTH: usize = 8;

/// Columns a person copies whole (ids, MACs, serials): cut only when nothing else is left to cut.
fn keep_whole(column: &str) -> bool {
    column == "id" || column == "mac" || column == "serial" || column.ends_with("_id")
}

fn columns_for(items: &[&Value], asked: &[String]) -> Vec<String> {
    if !asked.is_empty() {
        return asked.to_vec();
    }
    let present = |k: &str| items.iter().any(|i| i.get(k).is_some_and(|v| !v.is_null()));
    let mut cols: Vec<String> = PREFERRED
        .iter()
        .filter(|k| present(k))
        .take(7)
        .map(|k| k.to_string())
        .collect();
    if cols.is_empty() {
        // Unknown shapes: the first scalar fields of the first item.
        if let Some(Value::Object(o)) = items.first() {
            cols = o
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .take(6)
                .map(|(k, _)| k.clone())
                .collect();
        }
    }
    cols
}

/// A cell's text on one line: strings as they are, lists of scalars joined with commas, other
/// values as compact JSON.
fn cell(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        // A list of names or addresses reads as one: `a, b, c`.
        Some(Value::Array(list)) if list.iter().all(|v| !v.is_array() && !v.is_object()) => list
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    };
    one_line(&text)
}

/// A character that must not reach a terminal raw: a control character (C0, DEL, C1: an escape
/// sequence, a carriage return that overwrites the line, a bell) or a bidirectional override
/// that reorders what is shown.
fn is_hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` without control characters: a newline or tab from Mist would break the row, an
/// escape sequence would command the terminal.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if is_hostile(c) { ' ' } else { c })
        .collect()
}

/// Human text (messages, `auth status`, `config list`) that may hold values from Mist or a file:
/// each hostile character shown as its escape (`\u{1b}`), so that it can be seen but not obeyed.
/// Newlines are kept: messages have several lines.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_hostile(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\n' && is_hostile(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// JSON for `sink`: on a terminal, the characters serde_json leaves raw that a terminal would
/// obey (DEL, C1 controls such as U+009B, bidirectional overrides) become `\uXXXX` escapes, which
/// is the same JSON; a pipe gets the text unchanged. Outside strings JSON has none of them, and
/// the newlines of pretty printing are not touched.
fn json_for(sink: Sink, text: &str) -> std::borrow::Cow<'_, str> {
    if sink.terminal_width.is_none() || !text.chars().any(|c| c != '\n' && is_hostile(c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c != '\n' && is_hostile(c) {
            shown.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Writes `body` in `format` for `sink`.
pub fn render(
    out: &mut dyn Write,
    body: &Value,
    format: Format,
    columns: &[String],
    sink: Sink,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let text = if sink.terminal_width.is_some() {
                serde_json::to_string_pretty(body)
            } else {
                serde_json::to_string(body)
            };
            writeln!(
                out,
                "{}",
                json_for(sink, &text.map_err(std::io::Error::other)?)
            )
        }
        Format::Ndjson => {
            for item in items(body) {
                let line = serde_json::to_string(item).map_err(std::io::Error::other)?;
                writeln!(out, "{}", json_for(sink, &line))?;
            }
            Ok(())
        }
        Format::Yaml => {
            let text = serde_norway::to_string(body).map_err(std::io::Error::other)?;
            write!(out, "{text}")
        }
        Format::Table => write_table(out, body, columns, sink),
    }
}

fn write_table(
    out: &mut dyn Write,
    body: &Value,
    columns: &[String],
    sink: Sink,
) -> std::io::Result<()> {
    let (header, rows): (Vec<String>, Vec<Vec<String>>) = match body {
        Value::Object(o) if !is_list(body) && columns.is_empty() => (
            vec!["FIELD".into(), "VALUE".into()],
            o.iter()
                .map(|(k, v)| vec![one_line(k), cell(Some(v))])
                .collect(),
        ),
        _ => {
            let list = items(body);
            let cols = columns_for(&list, columns);
            let rows = list
                .iter()
                .map(|item| cols.iter().map(|c| cell(item.get(c))).collect())
                .collect();
            (
                cols.iter().map(|c| one_line(&c.to_uppercase())).collect(),
                rows,
            )
        }
    };
    if header.is_empty() {
        return Ok(());
    }
    let natural: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain([header[i].width()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let keep: Vec<bool> = header
        .iter()
        .map(|h| keep_whole(&h.to_lowercase()))
        .collect();
    let columns = match sink.terminal_width {
        Some(width) => fit(
            &header,
            &natural,
            &keep,
            usize::from(width),
            !columns.is_empty(),
        ),
        None => natural.iter().copied().enumerate().collect(),
    };
    let line = |cells: &[String]| -> String {
        let mut text = String::new();
        for (n, (i, w)) in columns.iter().enumerate() {
            let shown = cut(&cells[*i], *w);
            text.push_str(&shown);
            if n + 1 < columns.len() {
                let pad = w.saturating_sub(shown.width()) + GAP;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.trim_end().to_string()
    };
    let head = line(&header);
    if sink.colour {
        writeln!(out, "\x1b[1m{head}\x1b[0m")?;
    } else {
        writeln!(out, "{head}")?;
    }
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

/// The columns shown on a terminal of `width` and their widths, as (index, width).
///
/// Each column needs at least its header (and ids, MACs and serials their whole value); when
/// even that is too wide, the last columns (the least identifying) are left out, unless they
/// were chosen with `--columns`. The room left is shared out narrowest first, so short columns
/// stay whole and the long ones (names, lists) are cut with an ellipsis.
fn fit(
    header: &[String],
    natural: &[usize],
    keep: &[bool],
    width: usize,
    chosen: bool,
) -> Vec<(usize, usize)> {
    let least = |i: usize| -> usize {
        if keep[i] {
            natural[i]
        } else {
            natural[i].min(header[i].width().max(MIN_CUT_WIDTH))
        }
    };
    let mut shown: Vec<usize> = (0..header.len()).collect();
    let needs = |shown: &[usize]| -> usize {
        shown.iter().map(|i| least(*i)).sum::<usize>() + GAP * shown.len().saturating_sub(1)
    };
    while !chosen && shown.len() > 1 && needs(&shown) > width {
        shown.pop();
    }
    let mut widths: Vec<usize> = shown.iter().map(|i| least(*i)).collect();
    let mut room = width.saturating_sub(needs(&shown));
    // Narrowest wish first: each column gets what it still wants, up to an equal share of the room.
    let mut order: Vec<usize> = (0..shown.len()).collect();
    order.sort_by_key(|k| natural[shown[*k]] - widths[*k]);
    for (n, k) in order.iter().enumerate() {
        let wants = natural[shown[*k]] - widths[*k];
        let share = room / (order.len() - n);
        let given = wants.min(share);
        widths[*k] += given;
        room -= given;
    }
    shown.into_iter().zip(widths).collect()
}

/// `text` in at most `width` columns of the terminal, cut with an ellipsis.
pub fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        kept.push(c);
        used += w;
    }
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(body: &Value, width: Option<u16>, colour: bool) -> String {
        let mut out = Vec::new();
        render(
            &mut out,
            body,
            Format::Table,
            &[],
            Sink {
                terminal_width: width,
                colour,
            },
        )
        .expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn a_terminal_table_fits_its_width_and_keeps_ids_whole() {
        let id = "978c48e6-6ef6-11e6-8bbf-02e208b2d34f";
        let long = "a very long site name that goes on and on and on and on and on";
        let body =
            json!([{"name": long, "id": id, "model": "AP45", "type": "ap", "version": long}]);
        for width in [60u16, 80, 120] {
            let shown = table(&body, Some(width), false);
            for line in shown.lines() {
                assert!(
                    line.chars().count() <= usize::from(width),
                    "{width}: {line:?}"
                );
            }
            assert!(shown.contains(id), "the id was cut at {width}:\n{shown}");
            assert!(shown.contains('…'), "nothing was cut at {width}:\n{shown}");
            assert_eq!(shown.lines().count(), 2, "a row took two lines:\n{shown}");
        }
        // A pipe gets every cell whole.
        assert!(table(&body, None, false).contains(long));
    }

    #[test]
    fn wide_characters_count_as_two_columns() {
        let body = json!([{"name": "東京オフィス東京オフィス東京オフィス東京オフィス", "id": "x"}]);
        let shown = table(&body, Some(30), false);
        for line in shown.lines() {
            assert!(line.width() <= 30, "{line:?} is {} wide", line.width());
        }
        assert!(shown.contains('…'));
    }

    #[test]
    fn explicit_columns_are_never_left_out() {
        let body = json!([{"a": "x".repeat(50), "b": "y".repeat(50), "c": "z"}]);
        let mut out = Vec::new();
        let sink = Sink {
            terminal_width: Some(20),
            colour: false,
        };
        render(
            &mut out,
            &body,
            Format::Table,
            &["a".into(), "b".into(), "c".into()],
            sink,
        )
        .expect("render");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text.lines().next().map(|l| l.split_whitespace().count()),
            Some(3)
        );
    }

    #[test]
    fn json_on_a_terminal_escapes_what_the_terminal_would_obey() {
        let body = json!({"name": "a\u{9b}2J\u{7f}\u{202e}b"});
        let tty = Sink {
            terminal_width: Some(80),
            colour: false,
        };
        for format in [Format::Json, Format::Ndjson] {
            let mut out = Vec::new();
            render(&mut out, &body, format, &[], tty).expect("render");
            let text = String::from_utf8(out).expect("utf-8");
            assert!(
                !text.chars().any(|c| c != '\n' && is_hostile(c)),
                "{text:?}"
            );
            assert!(
                text.contains("\\u009b") && text.contains("\\u202e"),
                "{text:?}"
            );
            let back: Value = serde_json::from_str(text.trim()).expect("still JSON");
            assert_eq!(back, body);
        }
        // A pipe gets serde_json's bytes unchanged.
        let mut out = Vec::new();
        render(&mut out, &body, Format::Json, &[], Sink::PIPE).expect("render");
        assert_eq!(
            String::from_utf8(out).expect("utf-8").trim(),
            serde_json::to_string(&body).expect("json")
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let body = json!([{"name": "a"}]);
        assert!(table(&body, Some(80), true).starts_with("\x1b[1mNAME"));
        assert!(!table(&body, Some(80), false).contains('\x1b'));
    }

    #[test]
    fn control_characters_do_not_break_rows() {
        let body = json!([{"name": "a\nb\x1b[31m"}]);
        let shown = table(&body, None, false);
        assert_eq!(shown.lines().count(), 2);
        assert!(!shown.contains('\x1b'));
        // Keys of one object are shown too: a hostile key cannot command the terminal.
        let shown = table(&json!({"x\x1b]0;pwned\x07": 1}), Some(80), false);
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07'),
            "{shown:?}"
        );
    }

    #[test]
    fn printable_text_shows_hostile_characters_escaped() {
        assert!(matches!(
            printable("plain\nlines"),
            std::borrow::Cow::Borrowed(_)
        ));
        let shown = printable("a\x1b[2Jb\rc\u{9b}d\u{202e}e\x07");
        assert_eq!(shown, "a\\u{1b}[2Jb\\u{d}c\\u{9b}d\\u{202e}e\\u{7}");
    }

    #[test]
    fn json_fields_select_and_keep_shapes() {
        let list = json!({"results": [{"name": "a", "id": 1, "x": 2}, {"id": 3}], "total": 2});
        let (v, absent) = select_fields(&list, &["name".into(), "id".into(), "nope".into()]);
        assert_eq!(
            v,
            json!([{"name": "a", "id": 1, "nope": null}, {"name": null, "id": 3, "nope": null}])
        );
        assert_eq!(absent, vec!["nope".to_string()]);
        let (one, _) = select_fields(&json!({"name": "s", "id": 9}), &["id".into()]);
        assert_eq!(one, json!({"id": 9}));
    }

    #[test]
    fn the_default_format_follows_the_sink() {
        assert_eq!(Sink::PIPE.default_format(), Format::Json);
        let tty = Sink {
            terminal_width: Some(80),
            colour: false,
        };
        assert_eq!(tty.default_format(), Format::Table);
    }
}
