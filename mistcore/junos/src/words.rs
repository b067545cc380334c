//! Junos CLI words. The Junos CLI accepts any unambiguous abbreviation of a word (`req sys reb`
//! is `request system reboot`), so every check here matches typed words as prefixes of the words
//! they stand for, and refuses what it cannot resolve (fail closed).
//!
//! [`first_denied`] is the one deny-list engine: it guards commands sent to devices directly
//! ([`check_command`]) and through Mist remote shells (`mistcore-client`'s `device` module).

use crate::JunosError;

/// Whether `typed` is an abbreviation of `full` (or `full` itself).
pub fn abbreviates(typed: &str, full: &str) -> bool {
    !typed.is_empty() && full.starts_with(typed)
}

/// Whether the typed words begin with the words of a deny-list entry, each typed word
/// abbreviating the entry's word.
pub fn starts_with_entry(typed: &[&str], entry: &[String]) -> bool {
    !entry.is_empty()
        && typed.len() >= entry.len()
        && entry.iter().zip(typed).all(|(d, t)| abbreviates(t, d))
}

/// The first deny-list entry (lower case, words separated by spaces) that one of `segments`
/// (the typed words of each part of a command: before the first `|`, after each) begins with.
pub fn first_denied(segments: &[Vec<&str>], denylist: &[String]) -> Option<String> {
    denylist.iter().find_map(|denied| {
        let words: Vec<String> = denied.split_whitespace().map(str::to_lowercase).collect();
        segments
            .iter()
            .any(|typed| starts_with_entry(typed, &words))
            .then(|| words.join(" "))
    })
}

/// Reads a deny-list file's text: one entry per line, `#` comments and blank lines skipped.
pub fn parse_denylist(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or_default()
                .trim()
                .to_lowercase()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// Every top-level word of the Junos operational CLI: a typed first word must abbreviate
/// exactly one of them.
pub const TOP_LEVEL: &[&str] = &[
    "clear",
    "configure",
    "exit",
    "file",
    "help",
    "load",
    "monitor",
    "mtrace",
    "op",
    "ping",
    "quit",
    "request",
    "restart",
    "save",
    "set",
    "show",
    "ssh",
    "start",
    "telnet",
    "test",
    "traceroute",
];

/// The first words sent to devices: read-only operational commands (`monitor` only as
/// `monitor traffic ... count N`).
pub const COMMAND_VERBS: &[&str] = &["show", "ping", "traceroute", "monitor"];

/// What may follow `|` in a command.
pub const PIPES: &[&str] = &[
    "match", "except", "count", "last", "no-more", "display", "find", "trim", "resolve",
];

/// Entries refused on direct device commands unless `MISTMCP_JUNOS_DENYLIST` names a list of
/// its own: the configuration, current or of a rollback (its `$9$` secrets are reversible;
/// `get_junos_config` reads it).
pub const DEFAULT_DENYLIST: &[&str] = &["show configuration", "show system rollback"];

/// The most packets a `ping` or `monitor traffic` asks for; a `ping` without `count` gets 5.
pub const MAX_COUNT: u64 = 1000;

/// The one word of `among` that `typed` abbreviates, if exactly one.
pub fn expand<'a>(typed: &str, among: &[&'a str]) -> Option<&'a str> {
    if let Some(exact) = among.iter().find(|w| **w == typed) {
        return Some(exact);
    }
    let mut hits = among.iter().filter(|w| abbreviates(typed, w));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

fn refused(text: String) -> JunosError {
    JunosError::Refused(text)
}

/// The characters and shapes no command may have: non-printable or non-ASCII characters, quotes,
/// chaining or redirection. Returns the words, lower case, with runs of spaces collapsed.
fn plain_words(command: &str) -> Result<String, JunosError> {
    if command.len() > 1024 {
        return Err(refused(format!(
            "the command is {} bytes long: at most 1024",
            command.len()
        )));
    }
    if let Some(c) = command
        .chars()
        .find(|c| !(*c == ' ' || *c == '\t' || c.is_ascii_graphic()) || *c == '"' || *c == '\'')
    {
        return Err(refused(format!(
            "the command holds {c:?}: only printable ASCII without quotes is accepted"
        )));
    }
    let normalized = command.split_whitespace().collect::<Vec<_>>().join(" ");
    if normalized.is_empty() {
        return Err(refused(
            "the command is empty: give one operational command such as `show version`".into(),
        ));
    }
    if normalized.contains([';', '`', '&', '$', '>', '<', '\\']) {
        return Err(refused(format!(
            "`{normalized}` chains or redirects commands: give exactly one operational command"
        )));
    }
    Ok(normalized)
}

/// The packet count of a command: every `count` (or `cou`, `coun`) must be followed by 1 to
/// [`MAX_COUNT`]; the last one given counts.
fn count_value(words: &[&str]) -> Result<Option<u64>, JunosError> {
    let mut found = None;
    for (at, _) in words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.len() >= 3 && abbreviates(w, "count"))
    {
        let n = words
            .get(at + 1)
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| {
                refused(format!(
                    "`count` takes a number of packets from 1 to {MAX_COUNT}"
                ))
            })?;
        found = Some(n);
    }
    Ok(found)
}

/// Checks one operational command for a device and returns the command to send: the verb
/// spelled out (`sh ver` → `show ver`), `count 5` added to a `ping` without a count.
///
/// Refused (nothing sent): a verb that is not read-only or is ambiguous, `monitor` other than
/// `monitor traffic ... count N`, file options, chaining, pipes other than [`PIPES`], and any
/// deny-list entry matched by abbreviation at the start of the command or after a pipe.
pub fn check_command(command: &str, denylist: &[String]) -> Result<String, JunosError> {
    let normalized = plain_words(command)?;
    let lower = normalized.to_lowercase();
    let mut segments: Vec<Vec<&str>> = lower
        .split('|')
        .map(|s| s.split_whitespace().collect())
        .collect();
    let first = segments.first().cloned().unwrap_or_default();
    let typed_verb = first.first().copied().unwrap_or_default();
    let verb = match expand(typed_verb, TOP_LEVEL) {
        Some(v) if COMMAND_VERBS.contains(&v) => v,
        Some(v) => {
            return Err(refused(format!(
                "`{normalized}` is `{v} ...`, not a read-only command: commands must start with {}",
                COMMAND_VERBS.join(", ")
            )));
        }
        None => {
            return Err(refused(format!(
                "`{typed_verb}` is not one Junos command word (unknown or ambiguous): commands must start with {}",
                COMMAND_VERBS.join(", ")
            )));
        }
    };
    let mut sent: Vec<String> = first.iter().map(|w| w.to_string()).collect();
    sent[0] = verb.to_string();
    // `monitor traffic` takes file options by any abbreviation (`w` is `write-file`).
    let shortest = if verb == "monitor" { 1 } else { 2 };
    let file_option = |w: &&str| {
        w.len() >= shortest && (abbreviates(w, "write-file") || abbreviates(w, "read-file"))
    };
    if first.iter().skip(1).any(file_option) {
        return Err(refused(format!(
            "`{normalized}` reads or writes files on the device: refused"
        )));
    }
    match verb {
        "monitor" => {
            let sub = first.get(1).copied().unwrap_or_default();
            let subs = [
                "ethernet",
                "interface",
                "label-switched-path",
                "list",
                "start",
                "static-lsp",
                "stop",
                "traffic",
            ];
            if expand(sub, &subs) != Some("traffic") {
                return Err(refused(format!(
                    "`{normalized}`: only `monitor traffic ... count N` ends by itself over NETCONF; use a `show` command instead"
                )));
            }
            if count_value(&first)?.is_none() {
                return Err(refused(format!(
                    "`{normalized}`: `monitor traffic` needs `count N` (1-{MAX_COUNT}) so that it ends"
                )));
            }
            sent[1] = "traffic".into();
        }
        "traceroute"
            if first
                .iter()
                .skip(1)
                .any(|w| w.len() >= 3 && abbreviates(w, "monitor")) =>
        {
            return Err(refused(format!(
                "`{normalized}`: `traceroute monitor` runs until stopped; use `traceroute HOST`"
            )));
        }
        "ping" if count_value(&first)?.is_none() => {
            sent.push("count".into());
            sent.push("5".into());
        }
        _ => {}
    }
    for pipe in segments.iter().skip(1) {
        let word = pipe.first().copied().unwrap_or_default();
        if !PIPES.contains(&word) {
            return Err(refused(format!(
                "`| {word}` is not allowed: only {} may follow a pipe",
                PIPES.join(", ")
            )));
        }
    }
    segments[0][0] = verb;
    if let Some(entry) = first_denied(&segments, denylist) {
        return Err(refused(format!(
            "`{normalized}` is refused by the command deny-list (`{entry}`)"
        )));
    }
    // The original spelling of the arguments (interface names keep their case), verb spelled out.
    let original: Vec<&str> = normalized
        .split('|')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let mut out: Vec<String> = original.iter().map(|w| w.to_string()).collect();
    out[0] = sent[0].clone();
    if verb == "monitor" {
        out[1] = sent[1].clone();
    }
    if sent.len() > out.len() {
        out.extend(sent[out.len()..].iter().cloned());
    }
    let mut text = out.join(" ");
    for pipe in normalized.split('|').skip(1) {
        text.push_str(" | ");
        text.push_str(pipe.trim());
    }
    Ok(text)
}

/// Checks a PFE command (`show ...` only: PFE shells also take commands that change state) and
/// its target (`fpc0`), and returns the operational command that runs it.
pub fn pfe_command(target: &str, command: &str) -> Result<String, JunosError> {
    let valid_target = (1..=16).contains(&target.len())
        && target
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
        && target
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid_target {
        return Err(refused(format!(
            "`{target}` is not a PFE target: give one such as fpc0"
        )));
    }
    let normalized = plain_words(command)?;
    if normalized.contains('|') {
        return Err(refused("PFE commands take no pipes".into()));
    }
    let first = normalized
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    if !(abbreviates(&first, "show") && first.len() >= 2) {
        return Err(refused(format!(
            "`{normalized}` is not a read-only PFE command: it must start with `show`"
        )));
    }
    let rest = normalized.split_once(' ').map_or("", |(_, r)| r);
    let shown = if rest.is_empty() {
        "show".to_string()
    } else {
        format!("show {rest}")
    };
    Ok(format!(
        "request pfe execute target {target} command \"{shown}\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_list() -> Vec<String> {
        DEFAULT_DENYLIST.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn read_only_commands_pass_with_the_verb_spelled_out() {
        let deny = default_list();
        assert_eq!(check_command("sh ver", &deny).expect("ok"), "show ver");
        assert_eq!(
            check_command("show interfaces ge-0/0/0 | match Up", &deny).expect("ok"),
            "show interfaces ge-0/0/0 | match Up"
        );
        assert_eq!(
            check_command("ping 10.0.0.1", &deny).expect("ok"),
            "ping 10.0.0.1 count 5"
        );
        assert_eq!(
            check_command("mon tr interface ge-0/0/0 count 10", &deny).expect("ok"),
            "monitor traffic interface ge-0/0/0 count 10"
        );
    }

    #[test]
    fn writes_abbreviations_and_escapes_are_refused() {
        let deny = default_list();
        for bad in [
            "req sys reb",
            "request system reboot",
            "s version",
            "conf",
            "clear bgp neighbor all",
            "show version; request system halt",
            "show version | save /tmp/x",
            "show conf",
            "sh configuration system",
            "show version | no-more | sh conf",
            "monitor interface ge-0/0/0",
            "monitor traffic interface ge-0/0/0",
            "monitor traffic count 5 write-file /var/tmp/x",
            "monitor traffic interface ge-0/0/0 count 5 w /var/tmp/x",
            "ping 10.0.0.1 count 1 count 100000",
            "ping 10.0.0.1 cou 100000",
            "traceroute monitor 10.0.0.1",
            "show system rollback 0",
            "ping 10.0.0.1 count 100000",
            "show \"version\"",
            "show version\u{7}",
            "",
        ] {
            assert!(check_command(bad, &deny).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn pfe_commands_are_show_only() {
        assert_eq!(
            pfe_command("fpc0", "show jnh 0 pool").expect("ok"),
            "request pfe execute target fpc0 command \"show jnh 0 pool\""
        );
        assert!(pfe_command("fpc0", "set jnh 0 pool").is_err());
        assert!(pfe_command("fpc0; x", "show x").is_err());
        assert!(pfe_command("fpc0", "show x | match y").is_err());
    }
}
