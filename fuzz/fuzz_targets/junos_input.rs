//! What is hostile in the Junos path, on arbitrary text: a model's commands and configurations
//! (`words::check_command`, `words::pfe_command`, `config_policy::check` in set, text and XML)
//! and a device's replies (`rpc::element_text`, `rpc::errors`, `rpc::xml_to_json`,
//! `rpc::configuration_text`, `commit::pretty_xml`).
//!
//! Input layout: byte 0 selects the function, the rest is the text. Asserts that nothing
//! panics, that an accepted command is accepted again as sent (the check is idempotent) and
//! starts with a read-only verb, and that a configuration holding a denied statement spelled out
//! in full is never accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::junos::core::{commit, config_policy, rpc, words};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let deny: Vec<String> = config_policy::DEFAULT_DENYLIST.iter().map(|s| s.to_string()).collect();
    let commands: Vec<String> = words::DEFAULT_DENYLIST.iter().map(|s| s.to_string()).collect();
    match which % 8 {
        0 => {
            if let Ok(sent) = words::check_command(&text, &commands) {
                let verb = sent.split(' ').next().unwrap_or_default();
                assert!(words::COMMAND_VERBS.contains(&verb), "{text:?} was sent as {sent:?}");
                assert_eq!(words::check_command(&sent, &commands).as_deref(), Ok(sent.as_str()));
            }
        }
        1 => {
            let _ = words::pfe_command("fpc0", &text);
        }
        2 => {
            let _ = config_policy::check(config_policy::Format::Set, &text, &deny);
            let denied = format!("{text}\ntop\nset system root-authentication encrypted-password x");
            assert!(config_policy::check(config_policy::Format::Set, &denied, &deny).is_err());
        }
        3 => {
            let _ = config_policy::check(config_policy::Format::Text, &text, &deny);
        }
        4 => {
            let _ = config_policy::check(config_policy::Format::Xml, &text, &deny);
        }
        5 => {
            let _ = rpc::element_text(&text, "output");
            let _ = rpc::errors(&text);
        }
        6 => {
            let _ = rpc::xml_to_json(&text);
            let _ = rpc::configuration_text(&text, rpc::ReadFormat::Set);
        }
        _ => {
            let _ = commit::pretty_xml(&text);
        }
    }
});
