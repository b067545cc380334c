//! `mistcli auth`: sign in as `gh auth` does. `login` checks a token against
//! `GET /api/v1/self` and keeps it for a profile (in the OS keyring when there is one, else in
//! the config file, mode 0600); `status` says who the token is, what it reaches and how risky it
//! is; `switch` chooses the default profile; `logout` removes the token and the profile.
//!
//! The token is never printed, logged or put in an error.

use super::output;
use super::profiles::{self, Editor, Profile};
use super::{Failure, exit, os_keyring};
use crate::checks;
use crate::config;
use crate::transport::{MistTransport, mist_transport};
use clap::{Arg, ArgAction, ArgMatches};
use mistcore::api::{self, ApiError, Credentials, ErrorKind, Secret};
use mistcore::catalog::CLOUD_HOSTS;
use mistcore::resilience::Policy;
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::time::Duration;

/// For tests only: the base URLs `auth login` tries, comma-separated, instead of the spec's Mist
/// clouds, when it looks for the cloud of a token (a test cannot reach the real clouds).
pub const CLOUDS_VAR: &str = "MISTCLI_LOGIN_CLOUDS";

/// The profile `auth login` writes when none is named.
const DEFAULT_PROFILE: &str = "default";

/// The `auth` command.
pub fn command() -> clap::Command {
    clap::Command::new("auth")
        .about("Sign in: keep a token for a profile (OS keyring or config file), show who you are")
        .subcommand_required(true)
        .subcommand(
            clap::Command::new("login")
                .about("Check a token against /api/v1/self and keep it for --profile (default: `default`)")
                .after_help("The token is typed at the prompt (not shown), or read from stdin with --with-token:\n  mistcli auth login --profile prod --host api.eu.mist.com\n  mistcli auth login --with-token < token.txt\nWithout --host or --api-url, the profile's cloud is used, else each Mist cloud is asked in turn.")
                .arg(
                    Arg::new("host")
                        .long("host")
                        .value_name("HOST")
                        .help("The Mist cloud of the token (api.mist.com, api.eu.mist.com, ...)"),
                )
                .arg(
                    Arg::new("with_token")
                        .long("with-token")
                        .action(ArgAction::SetTrue)
                        .help("Read the token from stdin"),
                )
                .arg(
                    Arg::new("no_keyring")
                        .long("no-keyring")
                        .action(ArgAction::SetTrue)
                        .help("Keep the token in the config file (mode 0600), not in the OS keyring"),
                ),
        )
        .subcommand(
            clap::Command::new("status")
                .about("Who the profile's token is, its cloud, orgs and roles, where it is kept, its risk (-o json for scripts)"),
        )
        .subcommand(
            clap::Command::new("switch")
                .about("Make a profile the default one")
                .arg(Arg::new("name").value_name("NAME").help("The profile (without it, a numbered choice on a terminal)")),
        )
        .subcommand(
            clap::Command::new("logout")
                .about("Remove the token of --profile (default: the default profile) and the profile"),
        )
}

/// Runs `mistcli auth ...`.
pub async fn run(
    matches: &ArgMatches,
    sub: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match sub.subcommand() {
        Some(("login", m)) => login(matches, m).await,
        Some(("status", _)) => status(matches, out).await,
        Some(("switch", m)) => switch(m.get_one::<String>("name").map(String::as_str)),
        Some(("logout", _)) => logout(matches),
        _ => Err(Failure::usage(
            "`mistcli auth` needs login, status, switch or logout",
        )),
    }
}

fn auth_failure(message: impl std::fmt::Display) -> Failure {
    Failure {
        code: exit::AUTH,
        message: message.to_string(),
    }
}

/// `--profile` / `MISTCLI_PROFILE`.
fn chosen_profile(matches: &ArgMatches) -> Option<&str> {
    matches.get_one::<String>("profile").map(String::as_str)
}

/// Where a token goes: a Mist cloud by its host, or any other base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Destination {
    /// `host` of a profile (`api.eu.mist.com`).
    Cloud(String),
    /// `api_url` of a profile.
    Url(String),
}

impl Destination {
    fn of_profile(p: &Profile) -> Option<Destination> {
        match (&p.api_url, &p.host) {
            (Some(u), _) => Some(Destination::Url(u.clone())),
            (None, Some(h)) => Some(Destination::Cloud(h.clone())),
            (None, None) => None,
        }
    }

    fn base(&self) -> Result<url::Url, Failure> {
        match self {
            Destination::Cloud(h) => api::cloud_base(h),
            Destination::Url(u) => api::custom_base(u),
        }
        .map_err(Failure::usage)
    }

    /// How messages name it.
    fn shown(&self) -> String {
        match self {
            Destination::Cloud(h) => h.clone(),
            Destination::Url(u) => u.clone(),
        }
    }
}

/// The transport of `auth`, with `--request-timeout` (at most `cap` seconds).
fn transport(matches: &ArgMatches, cap: u64) -> Result<MistTransport, Failure> {
    let seconds = matches.get_one::<u64>("timeout").copied().unwrap_or(30);
    mist_transport(Policy {
        request_timeout: Duration::from_secs(seconds.clamp(1, cap)),
        ..Policy::default()
    })
    .map_err(|e| Failure::other(e.to_string()))
}

/// The token: from stdin with `--with-token`, else typed at the terminal without echo.
fn read_token(with_token: bool) -> Result<String, Failure> {
    let token = if with_token {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read the token from stdin: {e}")))?;
        text
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        say!("A token is made in the Mist dashboard: My Account > API Token.");
        eprint!("Paste your Mist API token (it is not shown): ");
        let _ = std::io::stderr().flush();
        rpassword::read_password()
            .map_err(|e| Failure::usage(format!("cannot read the token: {e}")))?
    } else {
        return Err(Failure::usage(
            "no terminal to type the token in: pipe it with --with-token, e.g. `mistcli auth login --with-token < token.txt`",
        ));
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(Failure::usage(if with_token {
            "no token on stdin"
        } else {
            "no token was typed"
        }));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::usage(
            "the token contains spaces or control characters: give the token alone",
        ));
    }
    Ok(token)
}

/// `/api/v1/self` of `token` at `destination`.
async fn check_token(
    transport: &MistTransport,
    token: &str,
    destination: &Destination,
) -> Result<Value, Failure> {
    let credentials = Credentials {
        token: Some(Secret::new(token)),
        base: destination.base()?,
    };
    api::get_self(transport, &credentials)
        .await
        .map(|answer| answer.body)
        .map_err(|e| match e.kind() {
            ErrorKind::Unauthorized => auth_failure(format!(
                "{} refused the token ({})",
                destination.shown(),
                status_text(&e)
            )),
            _ => {
                let mut f = Failure::from(e);
                f.message = format!(
                    "cannot check the token at {}: {}",
                    destination.shown(),
                    f.message
                );
                f
            }
        })
}

/// The clouds tried when the token's is not given: the spec's, or [`CLOUDS_VAR`]'s for tests.
fn candidate_clouds() -> Vec<Destination> {
    match std::env::var(CLOUDS_VAR) {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(|u| Destination::Url(u.to_string()))
            .collect(),
        _ => CLOUD_HOSTS
            .iter()
            .map(|c| Destination::Cloud(c.host().to_string()))
            .collect(),
    }
}

/// Asks each Mist cloud in turn (the spec's order, api.mist.com first) and stops at the first
/// that accepts the token, so that it goes to as few clouds as can be.
async fn detect_cloud(
    transport: &MistTransport,
    token: &str,
) -> Result<(Destination, Value), Failure> {
    let candidates = candidate_clouds();
    let progress = std::io::stderr().is_terminal();
    let mut refused = Vec::new();
    let mut failed = Vec::new();
    for (i, cloud) in candidates.iter().enumerate() {
        if progress {
            eprint!(
                "\rLooking for the token's cloud: {} ({}/{}){:10}",
                cloud.shown(),
                i + 1,
                candidates.len(),
                ""
            );
            let _ = std::io::stderr().flush();
        }
        match check_token(transport, token, cloud).await {
            Ok(me) => {
                if progress {
                    eprint!("\r{:78}\r", "");
                }
                return Ok((cloud.clone(), me));
            }
            Err(f) if f.code == exit::AUTH => refused.push(cloud.shown()),
            Err(f) => failed.push(f.message),
        }
    }
    if progress {
        eprintln!();
    }
    let mut message = format!(
        "no Mist cloud accepted the token, nothing was stored (refused by {})",
        if refused.is_empty() {
            "none".to_string()
        } else {
            refused.join(", ")
        }
    );
    if !failed.is_empty() {
        message.push_str(&format!("; not reached: {}", failed.join("; ")));
    }
    message.push_str("; give the cloud with --host (or --api-url)");
    Err(Failure {
        code: if refused.is_empty() {
            exit::OTHER
        } else {
            exit::AUTH
        },
        message,
    })
}

/// `First Last`, when `/self` gives them.
fn full_name(me: &Value) -> Option<String> {
    let name = [me["first_name"].as_str(), me["last_name"].as_str()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

/// Who a `/self` answer is: the email, else the name.
fn who(me: &Value) -> String {
    me["email"]
        .as_str()
        .map(str::to_string)
        .or_else(|| full_name(me))
        .unwrap_or_else(|| "an unnamed token".into())
}

async fn login(matches: &ArgMatches, m: &ArgMatches) -> Result<(), Failure> {
    let name = chosen_profile(matches)
        .unwrap_or(DEFAULT_PROFILE)
        .to_string();
    profiles::check_name(&name).map_err(Failure::usage)?;
    let host = m.get_one::<String>("host");
    let api_url = matches.get_one::<String>("api_url");
    let given = match (host, api_url) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(
                "--host and --api-url both name the cloud: give one",
            ));
        }
        (Some(h), None) => {
            // Checked (and `manage.*` turned into its API host) before the token is read.
            let base = api::cloud_base(h).map_err(Failure::usage)?;
            Some(Destination::Cloud(
                base.host_str().unwrap_or(h.as_str()).to_string(),
            ))
        }
        (None, Some(u)) => {
            api::custom_base(u).map_err(Failure::usage)?;
            Some(Destination::Url(u.clone()))
        }
        (None, None) => None,
    };
    let config = profiles::load()?;
    let before = config.profiles.get(&name).cloned();
    let token = read_token(m.get_flag("with_token"))?;
    let transport = transport(matches, 30)?;
    // The cloud given, else the profile's, else the first Mist cloud that accepts the token.
    let (destination, me) = match given
        .or_else(|| before.as_ref().and_then(Destination::of_profile))
    {
        Some(d) => match check_token(&transport, &token, &d).await {
            Ok(me) => (d, me),
            Err(mut f) => {
                f.message = if f.code == exit::AUTH {
                    format!(
                        "{}, nothing was stored: check the token, and that {} is its cloud (--host names another)",
                        f.message,
                        d.shown()
                    )
                } else {
                    format!("{}; nothing was stored", f.message)
                };
                return Err(f);
            }
        },
        None => detect_cloud(&transport, &token).await?,
    };
    let orgs = super::org_cache::orgs_of(&me);
    let in_keyring = if m.get_flag("no_keyring") {
        false
    } else {
        match os_keyring::store(&name, &token) {
            Ok(()) => true,
            Err(e) => {
                say!("note: {e}; the token goes to the config file (mode 0600)");
                false
            }
        }
    };
    let mut editor = Editor::open()?;
    let written = (|| -> anyhow::Result<()> {
        if in_keyring {
            editor.remove(&name, "token");
            editor.set_bool(&name, "token_keyring", true)?;
        } else {
            editor.set(&name, "token", &token)?;
            editor.remove(&name, "token_keyring");
        }
        match &destination {
            Destination::Cloud(h) => {
                editor.set(&name, "host", h)?;
                editor.remove(&name, "api_url");
            }
            Destination::Url(u) => {
                editor.set(&name, "api_url", u)?;
                editor.remove(&name, "host");
            }
        }
        // The stream of another cloud must not carry this token.
        if before.as_ref().and_then(Destination::of_profile) != Some(destination.clone()) {
            editor.remove(&name, "ws_url");
        }
        match orgs.as_slice() {
            [(id, _)] => editor.set(&name, "org_id", id)?,
            _ => {
                let kept = before
                    .as_ref()
                    .and_then(|p| p.org_id.as_ref())
                    .is_some_and(|o| orgs.iter().any(|(id, _)| id == o));
                if !kept {
                    editor.remove(&name, "org_id");
                }
            }
        }
        if profiles::default_profile(&config).is_none() {
            editor.set_default(Some(&name));
        }
        editor.save()
    })();
    if let Err(e) = written {
        if in_keyring && before.as_ref().is_none_or(|p| !p.token_keyring) {
            let _ = os_keyring::delete(&name);
        }
        return Err(Failure::other(format!("{e:#}")));
    }
    // A token the keyring held before and the file holds now is removed from the keyring.
    if !in_keyring && before.as_ref().is_some_and(|p| p.token_keyring) {
        let _ = os_keyring::delete(&name);
    }
    let stored = if in_keyring {
        os_keyring::name().to_string()
    } else {
        format!("{} (mode 0600)", editor.path().display())
    };
    say!(
        "Logged in to {} as {} (profile {name}), token stored in {stored}",
        destination.shown(),
        who(&me)
    );
    if let [(id, org_name)] = orgs.as_slice() {
        say!("Default org: {} ({id})", display_name(org_name));
    }
    match config.default.as_deref() {
        Some(d) if d != name && config.profiles.contains_key(d) => say!(
            "The default profile is still `{d}`: use --profile {name}, or `mistcli auth switch {name}`"
        ),
        _ => {}
    }
    Ok(())
}

fn display_name(name: &str) -> &str {
    if name.is_empty() { "unnamed" } else { name }
}

/// `401 Unauthorized`-like words for a refusal.
fn status_text(e: &ApiError) -> String {
    match e {
        ApiError::Status { status: 401, .. } => "401 Unauthorized".into(),
        ApiError::Status { status: 403, .. } => "403 Forbidden".into(),
        ApiError::Status { status, .. } => status.to_string(),
        other => other.kind().as_str().to_string(),
    }
}

/// Where a profile's token is, in words.
fn token_place(p: &Profile) -> String {
    match p.token_in_keyring() {
        Some(true) => os_keyring::name().to_string(),
        Some(false) => profiles::shown_path(),
        None => "nowhere (no token)".into(),
    }
}

async fn status(matches: &ArgMatches, out: &mut dyn Write) -> Result<(), Failure> {
    let config = profiles::load()?;
    let chosen = chosen_profile(matches);
    let Some((name, profile)) = profiles::active(&config, chosen) else {
        return Err(auth_failure(format!(
            "not logged in: no default profile in {} (profiles: {}); `mistcli auth login` signs in",
            profiles::shown_path(),
            profiles::names_or_none(&config)
        )));
    };
    let Some(profile) = profile.filter(|p| p.token_in_keyring().is_some()) else {
        return Err(auth_failure(format!(
            "not logged in to profile `{name}`: `mistcli auth login --profile {name}` signs in (profiles: {})",
            profiles::names_or_none(&config)
        )));
    };
    let vars = profile.mist_vars(name)?;
    let credentials = config::credentials(vars.token, vars.host, vars.api_url)
        .map_err(|e| Failure::usage(format!("profile `{name}`: {e:#}")))?;
    let cloud = Destination::of_profile(profile)
        .map(|d| d.shown())
        .unwrap_or_else(|| credentials.base.host_str().unwrap_or("").to_string());
    let limits = checks::limits_from_env().map_err(Failure::usage)?;
    let transport = transport(matches, 3600)?;
    let me = match checks::fetch_self(&transport, &credentials).await {
        Ok(me) => me,
        Err(e) => {
            return Err(match e.downcast::<ApiError>() {
                Ok(api) if api.kind() == ErrorKind::Unauthorized => auth_failure(format!(
                    "{cloud} refused the token of profile `{name}` ({}; kept in {}): `mistcli auth login --profile {name}` stores a new one",
                    status_text(&api),
                    token_place(profile)
                )),
                Ok(api) => Failure::from(api),
                Err(other) => Failure::other(other.to_string()),
            });
        }
    };
    let report = mistcore::security::analyze(&me, &limits);
    let is_default = config.default.as_deref() == Some(name);
    let env_token =
        chosen.is_none() && std::env::var("MIST_APITOKEN").is_ok_and(|v| !v.trim().is_empty());
    let others: Vec<Value> = config
        .profiles
        .keys()
        .map(|n| json!({"name": n, "default": config.default.as_deref() == Some(n.as_str()), "active": n == name}))
        .collect();
    let shown = json!({
        "profile": name,
        "default": is_default,
        "cloud": cloud,
        "api_url": credentials.base.as_str(),
        "user": {"email": me["email"], "name": full_name(&me)},
        "token_stored_in": if profile.token_keyring && profile.token.is_none() { "keyring" } else { "file" },
        "token_location": token_place(profile),
        "org_id": profile.org_id,
        "output": profile.output,
        "access": report.grants,
        "risk_level": report.highest,
        "risks": report.risks,
        "profiles": others,
        "environment_token_wins": env_token,
    });
    let printing = output::Printing::from_flags(matches)?;
    let sink = output::Sink::stdout();
    if printing.wants_text(sink) {
        // Names, emails and roles come from Mist, profile names from a file: shown, never obeyed.
        let text = status_text_of(name, profile, &me, &report, &config, &shown);
        out.write_all(output::printable(&text).as_bytes())
            .map_err(|e| Failure::other(e.to_string()))?;
    } else {
        printing.print(&shown, sink, out)?;
    }
    if env_token {
        say!("note: MIST_APITOKEN is set: commands without --profile use it, not profile `{name}`");
    }
    Ok(())
}

/// `auth status` for people.
fn status_text_of(
    name: &str,
    profile: &Profile,
    me: &Value,
    report: &mistcore::security::Report,
    config: &profiles::Config,
    shown: &Value,
) -> String {
    let mut lines = Vec::new();
    let role = if config.default.as_deref() == Some(name) {
        " (default)"
    } else {
        ""
    };
    lines.push(format!("Profile {name}{role}"));
    lines.push(format!(
        "  Cloud:  {}",
        shown["cloud"].as_str().unwrap_or("")
    ));
    let user = match (full_name(me), me["email"].as_str()) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n,
        (None, Some(e)) => e.to_string(),
        (None, None) => "unnamed".into(),
    };
    lines.push(format!("  User:   {user}"));
    lines.push(format!("  Token:  in {}", token_place(profile)));
    let risk = match report.highest {
        None => "none beyond the configured limits".to_string(),
        Some(level) => format!(
            "{level}: {}",
            report
                .risks
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    lines.push(format!("  Risk:   {risk}"));
    if let Some(org) = &profile.org_id {
        lines.push(format!("  Org:    {org} (the profile's default)"));
    }
    if report.grants.is_empty() {
        lines.push("  Access: nothing (no privilege in /self)".into());
    } else {
        lines.push("  Access:".into());
        for g in &report.grants {
            let parent = g
                .parent
                .as_deref()
                .map(|p| {
                    let of = if g.scope == "site" { "org" } else { "msp" };
                    format!(" in {of} {p}")
                })
                .unwrap_or_default();
            lines.push(format!(
                "    {:<5} {} ({}){parent}: {}",
                g.scope,
                g.name.as_deref().unwrap_or("unnamed"),
                g.id,
                g.role
            ));
        }
    }
    let names: Vec<String> = config
        .profiles
        .keys()
        .map(|n| {
            let mut tags = Vec::new();
            if n == name {
                tags.push("active");
            }
            if config.default.as_deref() == Some(n.as_str()) {
                tags.push("default");
            }
            if tags.is_empty() {
                n.clone()
            } else {
                format!("{n} ({})", tags.join(", "))
            }
        })
        .collect();
    lines.push(format!("Profiles: {}", names.join(", ")));
    lines.join("\n") + "\n"
}

fn switch(name: Option<&str>) -> Result<(), Failure> {
    let config = profiles::load()?;
    if config.profiles.is_empty() {
        return Err(Failure::usage(format!(
            "no profile in {}: `mistcli auth login --profile NAME` makes one",
            profiles::shown_path()
        )));
    }
    let names: Vec<&String> = config.profiles.keys().collect();
    let name = match name {
        Some(n) => {
            if !config.profiles.contains_key(n) {
                return Err(Failure::usage(format!(
                    "no profile `{n}`; profiles: {}",
                    profiles::names_or_none(&config)
                )));
            }
            n.to_string()
        }
        None if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() => {
            for (i, n) in names.iter().enumerate() {
                let p = &config.profiles[n.as_str()];
                let cloud = Destination::of_profile(p)
                    .map(|d| d.shown())
                    .unwrap_or_else(|| "api.mist.com".into());
                let default = if config.default.as_deref() == Some(n.as_str()) {
                    " (default)"
                } else {
                    ""
                };
                say!("  {}) {n}  {cloud}{default}", i + 1);
            }
            eprint!("Profile to use by default [1-{}]: ", names.len());
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut answer)
                .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?;
            let answer = answer.trim();
            let picked = answer
                .parse::<usize>()
                .ok()
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| names.get(i))
                .map(|n| n.to_string())
                .or_else(|| {
                    config
                        .profiles
                        .contains_key(answer)
                        .then(|| answer.to_string())
                });
            picked.ok_or_else(|| {
                Failure::usage(format!(
                    "`{answer}` is none of 1-{}: nothing changed",
                    names.len()
                ))
            })?
        }
        None => {
            return Err(Failure::usage(format!(
                "give the profile: `mistcli auth switch NAME`; profiles: {}",
                profiles::names_or_none(&config)
            )));
        }
    };
    let mut editor = Editor::open()?;
    editor.set_default(Some(&name));
    editor
        .save()
        .map_err(|e| Failure::other(format!("{e:#}")))?;
    say!("Default profile: {name}");
    Ok(())
}

fn logout(matches: &ArgMatches) -> Result<(), Failure> {
    let config = profiles::load()?;
    let Some((name, profile)) = profiles::active(&config, chosen_profile(matches)) else {
        return Err(Failure::usage(format!(
            "no default profile to log out of: give --profile NAME (profiles: {})",
            profiles::names_or_none(&config)
        )));
    };
    let Some(profile) = profile else {
        return Err(Failure::usage(format!(
            "no profile `{name}`; profiles: {}",
            profiles::names_or_none(&config)
        )));
    };
    let mut removed = Vec::new();
    let mut left = None;
    if profile.token_keyring {
        match os_keyring::delete(name) {
            Ok(true) => removed.push(format!("token removed from {}", os_keyring::name())),
            Ok(false) => removed.push(format!("{} held no token for it", os_keyring::name())),
            Err(e) => left = Some(e),
        }
    }
    let file = profiles::shown_path();
    let mut editor = Editor::open()?;
    editor.remove_profile(name);
    let was_default = config.default.as_deref() == Some(name);
    if was_default {
        editor.set_default(None);
    }
    editor
        .save()
        .map_err(|e| Failure::other(format!("{e:#}")))?;
    removed.push(if profile.token.is_some() {
        format!("token and profile removed from {file}")
    } else {
        format!("profile removed from {file}")
    });
    say!("Logged out of profile {name}: {}", removed.join(", "));
    let rest = editor.config()?;
    if was_default && !rest.profiles.is_empty() {
        say!(
            "No default profile now (profiles: {}): `mistcli auth switch NAME` chooses one",
            profiles::names_or_none(&rest)
        );
    }
    if let Some(e) = left {
        return Err(Failure::other(format!(
            "the token of profile {name} may still be in {}: {e}; remove the entry of service `{}`, account `{name}` there",
            os_keyring::name(),
            os_keyring::SERVICE
        )));
    }
    Ok(())
}
