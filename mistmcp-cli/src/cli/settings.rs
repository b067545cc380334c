//! `mistcli config`: the settings of a profile (`org`, `host`, `api_url`, `ws_url`, `output`),
//! read and written in the config file ([`profiles`]), whose other content and mode 0600 edits
//! keep. The profile is `--profile` / `MISTCLI_PROFILE`, else the default one, else `default`.

use super::output;
use super::profiles::{self, Editor};
use super::{Failure, exit};
use clap::{Arg, ArgMatches};
use serde_json::{Map, Value, json};
use std::io::Write;

/// The `config` command.
pub fn command() -> clap::Command {
    let keys = profiles::KEYS
        .iter()
        .map(|k| format!("  {:<8} {}", k.name, k.about))
        .collect::<Vec<_>>()
        .join("\n");
    let key = || Arg::new("key").value_name("KEY").required(true);
    clap::Command::new("config")
        .about("Settings of a profile: org, host, api_url, ws_url, output")
        .after_help(format!(
            "Keys:\n{keys}\nThe profile is --profile, else the default one (mistcli auth switch), else `default`."
        ))
        .subcommand_required(true)
        .subcommand(clap::Command::new("get").about("Print a setting").arg(key()))
        .subcommand(
            clap::Command::new("set")
                .about("Change a setting")
                .arg(key())
                .arg(Arg::new("value").value_name("VALUE").required(true)),
        )
        .subcommand(clap::Command::new("unset").about("Remove a setting").arg(key()))
        .subcommand(clap::Command::new("list").about("Print the profile's settings, KEY=VALUE (-o json)"))
}

/// The profile `config` works on, and whether it is the config's default one.
fn profile_name(matches: &ArgMatches, config: &profiles::Config) -> String {
    matches
        .get_one::<String>("profile")
        .cloned()
        .or_else(|| profiles::default_profile(config).map(|(n, _)| n.to_string()))
        .unwrap_or_else(|| "default".into())
}

/// Runs `mistcli config ...`.
pub fn run(matches: &ArgMatches, sub: &ArgMatches, out: &mut dyn Write) -> Result<(), Failure> {
    let config = profiles::load()?;
    let name = profile_name(matches, &config);
    let key = |m: &ArgMatches| -> Result<&'static profiles::Key, Failure> {
        let given = m.get_one::<String>("key").map(String::as_str).unwrap_or("");
        profiles::key(given).map_err(Failure::from)
    };
    let value_of = |p: &profiles::Profile, k: &profiles::Key| -> Option<String> {
        match k.file_key {
            "org_id" => p.org_id.clone(),
            "host" => p.host.clone(),
            "api_url" => p.api_url.clone(),
            "ws_url" => p.ws_url.clone(),
            "output" => p.output.clone(),
            _ => None,
        }
    };
    let profile = config.profiles.get(&name);
    match sub.subcommand() {
        Some(("get", m)) => {
            let k = key(m)?;
            match profile.and_then(|p| value_of(p, k)) {
                Some(v) => writeln!(out, "{}", output::printable(&v))
                    .map_err(|e| Failure::other(e.to_string())),
                None => Err(Failure {
                    code: exit::OTHER,
                    message: format!("`{}` is not set in profile `{name}`", k.name),
                }),
            }
        }
        Some(("list", _)) => {
            let mut settings = Map::new();
            for k in profiles::KEYS {
                settings.insert(
                    k.name.to_string(),
                    profile
                        .and_then(|p| value_of(p, k))
                        .map_or(Value::Null, Value::from),
                );
            }
            let printing = output::Printing::from_flags(matches)?;
            let shown = json!({"profile": name, "settings": settings});
            let sink = output::Sink::stdout();
            if !printing.wants_text(sink) {
                return printing.print(&shown, sink, out);
            }
            if profile.is_none() {
                say!("note: no profile `{name}` in {}", profiles::shown_path());
            }
            // In the order of `config --help`; a hand-written value is shown, never obeyed.
            for k in profiles::KEYS {
                if let Some(Value::String(v)) = settings.get(k.name) {
                    writeln!(out, "{}={}", k.name, output::printable(v))
                        .map_err(|e| Failure::other(e.to_string()))?;
                }
            }
            Ok(())
        }
        Some(("set", m)) => {
            let k = key(m)?;
            let given = m
                .get_one::<String>("value")
                .map(String::as_str)
                .unwrap_or("");
            let value = k.check(given)?;
            // A profile it makes has a name `auth login` could make too.
            if profile.is_none() {
                profiles::check_name(&name).map_err(Failure::usage)?;
            }
            let mut editor = Editor::open()?;
            editor.set(&name, k.file_key, &value)?;
            // host and api_url both say where the token goes: the one set replaces the other.
            let replaced = match k.name {
                "host" => editor.remove(&name, "api_url").then_some("api_url"),
                "api_url" => editor.remove(&name, "host").then_some("host"),
                _ => None,
            };
            if config.default.is_none() && profile.is_none() && name == "default" {
                editor.set_default(Some(&name));
            }
            editor
                .save()
                .map_err(|e| Failure::other(format!("{e:#}")))?;
            let also = replaced
                .map(|r| format!(" ({r} removed: {} replaces it)", k.name))
                .unwrap_or_default();
            say!("Profile {name}: {} = {value}{also}", k.name);
            Ok(())
        }
        Some(("unset", m)) => {
            let k = key(m)?;
            let mut editor = Editor::open()?;
            if editor.remove(&name, k.file_key) {
                editor
                    .save()
                    .map_err(|e| Failure::other(format!("{e:#}")))?;
                say!("Profile {name}: {} removed", k.name);
            } else {
                say!("Profile {name}: {} was not set", k.name);
            }
            Ok(())
        }
        _ => Err(Failure::usage(
            "`mistcli config` needs get, set, unset or list",
        )),
    }
}
