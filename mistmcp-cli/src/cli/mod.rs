//! `mistcli`: the Mist API from the shell. Commands are derived from the catalog
//! ([`commands`]); answers are rendered by [`output`]; credentials come from the environment,
//! a `.env` file or a profile ([`profiles`]).

/// `eprintln!` for human text that may hold values from Mist, a device or a file: hostile
/// characters are shown escaped ([`output::printable`]), never sent to the terminal raw.
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::cli::output::printable(&format!($($arg)*)))
    };
}

mod api_command;
mod auth;
pub mod commands;
mod extras;
mod help;
mod junos;
mod org_cache;
mod os_keyring;
mod output;
pub mod profiles;
mod settings;

use crate::checks;
use crate::config;
use crate::transport::{MistTransport, mist_transport};
use clap::{Arg, ArgAction, ArgMatches};
use commands::{Command, Scope};
use mistcore::api::{self, ApiError, Credentials, ErrorKind, Pagination};
use mistcore::catalog::{self, Operation, ParamLocation, ParamType};
use mistcore::policy::{self, Confirm, Confirmation, Question};
use mistcore::redact::Redactor;
use mistcore::resilience::Policy;
use mistcore::schema::{self, expected_form};
use output::Format;
use serde_json::{Map, Value, json};
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::time::Duration;

/// Exit codes, as documented in the README.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other failure (network, 5xx, unexpected answer).
    pub const OTHER: u8 = 1;
    /// Bad usage: unknown command, bad flag or value, refused write.
    pub const USAGE: u8 = 2;
    /// Authentication or permission: no token, 401, 403.
    pub const AUTH: u8 = 3;
    /// 404.
    pub const NOT_FOUND: u8 = 4;
    /// 429: the hourly API budget is spent.
    pub const RATE_LIMITED: u8 = 5;
    /// `self security`: the token has a CRITICAL risk.
    pub const CRITICAL: u8 = 6;
}

/// A failure: the exit code and what to print on stderr.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message (without the `error: ` prefix).
    pub message: String,
}

impl Failure {
    fn usage(message: impl std::fmt::Display) -> Self {
        Failure {
            code: exit::USAGE,
            message: message.to_string(),
        }
    }
    fn other(message: impl std::fmt::Display) -> Self {
        Failure {
            code: exit::OTHER,
            message: message.to_string(),
        }
    }
}

/// What mistcli says to a user without a Mist token.
pub const TOKEN_ADVICE: &str = "sign in with `mistcli auth login`, set MIST_APITOKEN, choose a profile with --profile (in ~/.config/mistcli/config.toml), or put the token in a .env file given with --env-file / MIST_ENV_FILE";

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        let code = match e.kind() {
            ErrorKind::NoToken | ErrorKind::Unauthorized => exit::AUTH,
            ErrorKind::NotFound => exit::NOT_FOUND,
            ErrorKind::RateLimited => exit::RATE_LIMITED,
            _ => exit::OTHER,
        };
        let message = match &e {
            ApiError::MissingToken => format!("{e}: {TOKEN_ADVICE}"),
            _ => e.to_string(),
        };
        Failure { code, message }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        // A profile's token that the OS keyring cannot give is an authentication failure.
        let code = if e.downcast_ref::<profiles::TokenUnavailable>().is_some() {
            exit::AUTH
        } else {
            exit::USAGE
        };
        Failure {
            code,
            message: format!("{e:#}"),
        }
    }
}

/// The long flag (without `--`) of an operation's parameter: `max_results` is `max-results`;
/// the page size `limit` is `page-size`, since `--limit` counts items across pages (as gh).
fn flag_name(param: &str) -> String {
    match param {
        "limit" => "page-size".to_string(),
        other => other.replace('_', "-"),
    }
}

/// The flag a user gives for an operation's parameter: the scope ids are `--org`, `--site` and
/// `--msp`, the others their [`flag_name`].
fn flag_of(param: &str) -> String {
    match param {
        "org_id" => "--org".to_string(),
        "site_id" => "--site".to_string(),
        "msp_id" => "--msp".to_string(),
        other => format!("--{}", flag_name(other)),
    }
}

fn global_args() -> Vec<Arg> {
    vec![
        Arg::new("output")
            .short('o')
            .long("output")
            .global(true)
            .value_parser(clap::value_parser!(Format))
            .value_name("FORMAT")
            .help("json, ndjson, yaml, table (default: table on a terminal, JSON in a pipe)"),
        Arg::new("json")
            .long("json")
            .global(true)
            .value_name("FIELDS")
            .value_delimiter(',')
            .help("JSON with only these fields of each item: --json name,id,status"),
        Arg::new("org")
            .long("org")
            .global(true)
            .value_name("ORG_ID")
            .help("Org id (default: MIST_ORG_ID, the profile's, or the token's only org)"),
        Arg::new("site")
            .long("site")
            .global(true)
            .value_name("SITE_ID")
            .help("Site id: selects the site-level operation"),
        Arg::new("msp")
            .long("msp")
            .global(true)
            .value_name("MSP_ID")
            .help("MSP id: selects the MSP-level operation"),
        Arg::new("all")
            .long("all")
            .global(true)
            .visible_alias("paginate")
            .action(ArgAction::SetTrue)
            .help("Follow pagination to the last page"),
        // Not `limit`: that id is the page-size parameter of the operations.
        Arg::new("item_limit")
            .long("limit")
            .global(true)
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(1..))
            .help("At most N items, across pages (the page size is --page-size)"),
        Arg::new("max_pages")
            .long("max-pages")
            .global(true)
            .value_name("N")
            .value_parser(clap::value_parser!(u64).range(1..))
            .default_value("1000")
            .help("With --all or --limit: stop with an error after N pages (1000)"),
        Arg::new("max_seconds")
            .long("max-seconds")
            .global(true)
            .value_name("S")
            .value_parser(clap::value_parser!(u64).range(1..))
            .default_value("600")
            .help("With --all or --limit: stop with an error after S seconds (600)"),
        Arg::new("jq")
            .long("jq")
            .global(true)
            .value_name("FILTER")
            .help("A jq filter over the answer: each output on its own line, strings raw"),
        Arg::new("columns")
            .long("columns")
            .global(true)
            .value_delimiter(',')
            .value_name("COLS")
            .help("Table columns, comma-separated"),
        Arg::new("profile")
            .long("profile")
            .global(true)
            .env("MISTCLI_PROFILE")
            .value_name("NAME")
            .help("Profile to use (mistcli auth login; MISTCLI_PROFILE)"),
        Arg::new("env_file")
            .short('e')
            .long("env-file")
            .global(true)
            .env("MIST_ENV_FILE")
            .value_name("FILE")
            .help("A .env file (default ./.env, when no token comes from elsewhere)"),
        Arg::new("redact")
            .long("redact")
            .global(true)
            .env("MISTCLI_REDACT")
            .value_parser(clap::builder::FalseyValueParser::new())
            .action(ArgAction::SetTrue)
            .help("Secrets (PSKs, RADIUS secrets, passwords) as handles, for a model"),
        Arg::new("yes")
            .short('y')
            .long("yes")
            .global(true)
            .action(ArgAction::SetTrue)
            .help("Run writes without asking"),
        Arg::new("api_url")
            .long("api-url")
            .global(true)
            .value_name("URL")
            .help("API base URL (tests, private deployments; MIST_API_URL)"),
        Arg::new("timeout")
            .long("request-timeout")
            .visible_alias("timeout")
            .global(true)
            .env("MISTCLI_REQUEST_TIMEOUT")
            .value_parser(clap::value_parser!(u64))
            .default_value("30")
            .value_name("S")
            .help("Seconds a request may take, retries included (30)"),
        Arg::new("rate_limit")
            .long("rate-limit")
            .global(true)
            .env("MISTCLI_RATE_LIMIT")
            .value_parser(clap::value_parser!(u32))
            .default_value("5000")
            .value_name("N")
            .help("Calls per hour per token within one run (5000; 0: none)"),
    ]
}

/// The whole command: the global flags, the commands that are not resources, and `resources`
/// (of `resource_count` in all).
fn root(resources: Vec<clap::Command>, resource_count: usize) -> clap::Command {
    let globals = global_args();
    let overview = help::overview(&globals, resource_count);
    clap::Command::new("mistcli")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The Juniper Mist API from the shell: tables on a terminal, JSON in a pipe, honest exit codes.")
        // The overview lists the global flags once; each command's help points there.
        .override_help(overview)
        .after_help(help::GLOBAL_FLAGS_HINT)
        .subcommand_required(true)
        .disable_help_subcommand(true)
        .args(
            globals
                .into_iter()
                .map(|a| a.hide_short_help(true).hide_long_help(true)),
        )
        .subcommand(
            clap::Command::new("help")
                .about("mistcli help all: every resource; mistcli help <resource> [verb]")
                .arg(Arg::new("topic").num_args(0..).value_name("all|RESOURCE [VERB]")),
        )
        .subcommand(
            clap::Command::new("call")
                .about("Call any operation by id: mistcli call listOrgSites org_id=... limit=5")
                .arg(Arg::new("operation").required(true))
                .arg(Arg::new("params").num_args(0..).value_name("KEY=VALUE"))
                .arg(Arg::new("body").long("body").value_name("@FILE|-|JSON").help("Request body of a write")),
        )
        .subcommand(
            clap::Command::new("ops")
                .about("Discover operations")
                .subcommand_required(true)
                .subcommand(clap::Command::new("search").about("Search operations by words").arg(Arg::new("words").num_args(1..).required(true)))
                .subcommand(clap::Command::new("show").about("Describe an operation and its command").arg(Arg::new("operation").required(true)))
                .subcommand(clap::Command::new("list").about("Every operation with its command")),
        )
        .subcommand(api_command::command())
        .subcommand(junos::command())
        .subcommand(auth::command())
        .subcommand(settings::command())
        .subcommand(
            clap::Command::new("completions")
                .about("Shell completions: mistcli completions bash > /etc/bash_completion.d/mistcli")
                .arg(Arg::new("shell").required(true).value_parser(clap::value_parser!(clap_complete::Shell))),
        )
        .subcommands(resources)
}

/// The clap command of a resource, with one subcommand per verb.
fn resource_command(resource: &'static str, cmds: &[Command]) -> clap::Command {
    let mut verbs: Vec<(&str, Vec<Command>)> = Vec::new();
    for c in cmds {
        match verbs.iter_mut().find(|(v, _)| *v == c.verb) {
            Some((_, list)) => list.push(*c),
            None => verbs.push((c.verb, vec![*c])),
        }
    }
    let mut rc = clap::Command::new(resource)
        .subcommand_required(true)
        .disable_help_subcommand(true)
        .after_help(help::GLOBAL_FLAGS_HINT)
        .about(format!(
            "{} ({})",
            cmds.first().map(|c| c.op.tag).unwrap_or(""),
            verbs.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(", ")
        ));
    for (verb, variants) in verbs {
        rc = rc.subcommand(verb_command(verb, &variants));
    }
    rc
}

fn verb_command(verb: &'static str, variants: &[Command]) -> clap::Command {
    // One line in the resource's list: the summary of the default scope's operation, and the
    // flags that pick the others.
    let first = variants
        .iter()
        .find(|c| c.scope == Scope::Org)
        .or(variants.first());
    let others: Vec<&str> = variants
        .iter()
        .filter(|c| Some(*c) != first)
        .filter_map(|c| c.scope.flag())
        .filter(|f| *f != "--org")
        .collect();
    let about = format!(
        "{}{}",
        first
            .map(|c| summary_line(c.op.summary))
            .unwrap_or_default(),
        if others.is_empty() {
            String::new()
        } else {
            format!(" (also with {})", others.join(", "))
        }
    );
    // `--help` of the verb: every operation it may call.
    let long_about = variants
        .iter()
        .map(|c| {
            let how = match c.scope.flag() {
                Some("--org") | None => String::new(),
                Some(f) => format!("with {f}: "),
            };
            format!(
                "{how}{} ({} {} {})",
                c.op.summary, c.op.id, c.op.method, c.op.path
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut vc = clap::Command::new(verb)
        .about(about)
        .long_about(long_about)
        .after_help(help::GLOBAL_FLAGS_HINT);
    let mut seen: Vec<&str> = Vec::new();
    for c in variants {
        for p in c.op.params {
            if matches!(p.name, "org_id" | "site_id" | "msp_id") || seen.contains(&p.name) {
                continue;
            }
            seen.push(p.name);
            let in_all = variants
                .iter()
                .all(|v| v.op.param(p.name).is_some_and(|q| q.required));
            let mut help = format!(
                "{}{}",
                p.description,
                if p.description.is_empty() { "" } else { " " }
            );
            help.push_str(&format!("[{}]", expected_form(p)));
            if let Some(d) = p.default {
                help.push_str(&format!(" (default {d})"));
            }
            let mut arg = Arg::new(p.name)
                .long(flag_name(p.name))
                .help(help)
                .required(in_all && p.location == ParamLocation::Path);
            arg = match p.ty {
                ParamType::Integer => arg.value_name("INT"),
                ParamType::Number => arg.value_name("NUMBER"),
                ParamType::Boolean => arg.value_name("BOOL").value_parser(["true", "false"]),
                ParamType::Array => arg
                    .value_name("LIST")
                    .value_delimiter(',')
                    .action(ArgAction::Append),
                ParamType::String if !p.enum_values.is_empty() => arg.value_parser(
                    clap::builder::PossibleValuesParser::new(p.enum_values.iter().copied()),
                ),
                ParamType::String => arg.value_name(p.name.to_uppercase()),
            };
            vc = vc.arg(arg);
        }
        if c.op.body.is_some() && !seen.contains(&"body") {
            seen.push("body");
            vc = vc.arg(
                Arg::new("body")
                    .long("body")
                    .value_name("@FILE|-|JSON")
                    .help(format!(
                        "Request body{}",
                        c.op.body
                            .and_then(|b| b.schema)
                            .map(|s| format!(" (schema {s})"))
                            .unwrap_or_default()
                    )),
            );
        }
    }
    vc
}

/// Stdout that remembers a closed pipe (`mistcli ... | head -1`): the reader went away, so the
/// command ends quietly with exit 0, as Unix tools do.
struct Stdout<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> Write for Stdout<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.note(e))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.note(e))
    }
}

impl<W> Stdout<W> {
    fn note(&mut self, e: &std::io::Error) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            self.closed = true;
        }
    }
}

/// Runs mistcli with these arguments; returns the exit code.
pub async fn run(argv: Vec<OsString>) -> u8 {
    let mut stdout = Stdout {
        inner: std::io::stdout().lock(),
        closed: false,
    };
    let result = dispatch(argv, &mut stdout).await;
    if stdout.closed {
        return exit::OK;
    }
    match result {
        Ok(()) => exit::OK,
        Err(f) => {
            let _ = stdout.flush();
            if !f.message.is_empty() {
                let message = match REDACTOR.get() {
                    // What the command line holds is not replaced (that would confirm a guess).
                    Some(r) => {
                        let argv: Vec<String> = std::env::args().collect();
                        let caller: Vec<&str> = argv.iter().map(String::as_str).collect();
                        r.redact_message(&f.message, &caller, &Default::default())
                    }
                    None => f.message,
                };
                eprintln!("error: {}", output::printable(&message));
            }
            f.code
        }
    }
}

/// `--redact`: one redactor for the run, so that a value has one handle in all of its output.
static REDACTOR: std::sync::OnceLock<Redactor> = std::sync::OnceLock::new();

/// The run's redactor when `--redact` is given (made at the first call).
fn redactor(global: &ArgMatches) -> Result<Option<&'static Redactor>, Failure> {
    if !global.get_flag("redact") {
        return Ok(None);
    }
    if let Some(r) = REDACTOR.get() {
        return Ok(Some(r));
    }
    let fresh = Redactor::new().map_err(Failure::other)?;
    Ok(Some(REDACTOR.get_or_init(|| fresh)))
}

/// What is printed of `body`: with its secrets as handles under `--redact`.
pub(crate) fn shown<'v>(
    redactor: Option<&Redactor>,
    body: &'v Value,
) -> std::borrow::Cow<'v, Value> {
    match redactor {
        Some(r) => {
            let mut copy = body.clone();
            r.redact_json(&mut copy, mistcore::redact::ReadFrom::NOWHERE);
            std::borrow::Cow::Owned(copy)
        }
        None => std::borrow::Cow::Borrowed(body),
    }
}

/// A write's body or configuration must not carry a handle: nothing here gave one out, and it
/// would be sent as text (a PSK set to `«secret:psk:...»`).
pub(crate) fn refuse_handles(value: &Value) -> Result<(), Failure> {
    mistcore::redact::refuse_handles(value).map_err(Failure::usage)
}

async fn dispatch(argv: Vec<OsString>, out: &mut dyn Write) -> Result<(), Failure> {
    // Build only the resource that is asked for: 500 resources with all their flags would cost
    // more than the whole call.
    let (wanted, verb) = first_words(&argv);
    let resources = commands::resources();
    let mut app = command_for(wanted, verb, resources);
    // `mistcli` alone: the overview, as `mistcli --help`.
    if argv.len() <= 1 {
        return write(out, app.render_help().to_string());
    }
    let matches = match app.try_get_matches_from_mut(argv) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            // clap has printed the error (with its suggestions) or the help.
            return if code == exit::OK {
                Ok(())
            } else {
                Err(Failure {
                    code,
                    message: String::new(),
                })
            };
        }
    };
    let (name, sub) = matches
        .subcommand()
        .ok_or_else(|| Failure::usage("a command is needed"))?;
    // Made before anything runs, so that errors are redacted too.
    redactor(&matches)?;
    match name {
        "help" => {
            let topic: Vec<&str> = sub
                .get_many::<String>("topic")
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            help_topic(&topic, resources, out)
        }
        "completions" => {
            let shell = *sub
                .get_one::<clap_complete::Shell>("shell")
                .ok_or_else(|| Failure::usage("a shell is needed"))?;
            write_completion_script(shell, out)
        }
        "ops" => ops(sub, out),
        "api" => api_command::run(sub, &matches, out).await,
        "junos" => junos::run(&matches, sub, out).await,
        "auth" => auth::run(&matches, sub, out).await,
        "config" => settings::run(&matches, sub, out),
        "call" => {
            let id = sub
                .get_one::<String>("operation")
                .map(String::as_str)
                .unwrap_or("");
            let op = catalog::operation(id).ok_or_else(|| {
                let near = catalog::closest(id, catalog::OPERATIONS.iter().map(|o| o.id), 3);
                Failure::usage(format!(
                    "unknown operation `{id}`{}; `mistcli ops search <words>` finds one",
                    hint(&near)
                ))
            })?;
            let mut args = Map::new();
            for kv in sub.get_many::<String>("params").into_iter().flatten() {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| Failure::usage(format!("`{kv}` is not KEY=VALUE")))?;
                let value = match op.param(k) {
                    Some(p) if p.ty == ParamType::Array => json!(v.split(',').collect::<Vec<_>>()),
                    _ => json!(v),
                };
                args.insert(k.to_string(), value);
            }
            let mut ctx = Ctx::new(&matches)?;
            execute(&mut ctx, op, args, sub.get_one::<String>("body"), out).await
        }
        resource => {
            let (verb, vm) = sub.subcommand().ok_or_else(|| {
                Failure::usage(format!(
                    "`mistcli {resource}` needs a verb: see mistcli {resource} --help"
                ))
            })?;
            if let Some(done) = extras::run(resource, verb, vm, &matches, out).await {
                return done;
            }
            let variants: Vec<&Command> = resources
                .get(resource)
                .into_iter()
                .flatten()
                .filter(|c| c.verb == verb)
                .collect();
            let scope = if matches.get_one::<String>("site").is_some()
                && variants.iter().any(|c| c.scope == Scope::Site)
            {
                Scope::Site
            } else if matches.get_one::<String>("msp").is_some()
                && variants.iter().any(|c| c.scope == Scope::Msp)
            {
                Scope::Msp
            } else if variants.iter().any(|c| c.scope == Scope::Org) {
                Scope::Org
            } else if variants.iter().any(|c| c.scope == Scope::Global) {
                // `orgs create` without --msp: the global operation.
                Scope::Global
            } else {
                variants.first().map(|c| c.scope).unwrap_or(Scope::Global)
            };
            let command = variants
                .iter()
                .find(|c| c.scope == scope)
                .ok_or_else(|| Failure::usage("no such command"))?;
            let op = command.op;
            let mut args = Map::new();
            for p in op.params {
                if let Some(values) = vm.try_get_many::<String>(p.name).ok().flatten() {
                    let values: Vec<&String> = values.collect();
                    let v = if p.ty == ParamType::Array {
                        json!(values)
                    } else {
                        json!(values[0])
                    };
                    args.insert(p.name.to_string(), v);
                }
            }
            let mut ctx = Ctx::new(&matches)?;
            execute(
                &mut ctx,
                op,
                args,
                vm.try_get_one::<String>("body").ok().flatten(),
                out,
            )
            .await
        }
    }
}

/// A spec summary on one short line: its first sentence, at most 80 characters.
fn summary_line(summary: &str) -> String {
    let first = summary
        .split(". ")
        .next()
        .unwrap_or(summary)
        .trim()
        .trim_end_matches('.');
    output::cut(first, 80)
}

/// `mistcli help [all | RESOURCE [VERB]]`.
fn help_topic(
    topic: &[&str],
    resources: &std::collections::BTreeMap<&'static str, Vec<Command>>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut app = command_for(topic.first().copied(), topic.get(1).copied(), resources);
    let text = match topic {
        [] => app.render_help().to_string(),
        ["all"] => help::all(resources),
        [name, rest @ ..] => {
            let mut cmd = app.find_subcommand_mut(name).ok_or_else(|| {
                Failure::usage(format!(
                    "no command `{name}`: mistcli help all lists every resource"
                ))
            })?;
            let mut path = vec![*name];
            for word in rest {
                cmd = cmd.find_subcommand_mut(word).ok_or_else(|| {
                    Failure::usage(format!(
                        "`mistcli {}` has no `{word}`: mistcli help {}",
                        path.join(" "),
                        path.join(" ")
                    ))
                })?;
                path.push(word);
            }
            let mut cmd = cmd.clone().bin_name(format!("mistcli {}", path.join(" ")));
            cmd.render_long_help().to_string()
        }
    };
    write(out, text.trim_end().to_string())
}

/// The command tree with only the resource `wanted` built in full.
///
/// Names of an earlier mistcli (`multiple-devices restart`) build today's command
/// (`devices restart-many`) with the typed words as hidden aliases, and only the verb they name:
/// the old verb may be the name of another verb today (`devices restart`).
fn command_for(
    wanted: Option<&str>,
    verb: Option<&str>,
    resources: &std::collections::BTreeMap<&'static str, Vec<Command>>,
) -> clap::Command {
    let renamed = wanted.and_then(|w| commands::renamed(w, verb));
    // The resource typed, in full. An earlier name builds today's resource with only the verb
    // it leads to, answering to the old words as hidden aliases; when the old name is a resource
    // today too (`events device` is `webhook-example device-events`), that one is left out so
    // that it does not shadow the alias.
    let mut built: Vec<&str> = Vec::new();
    let mut left_out = None;
    let mut full: Vec<clap::Command> = Vec::new();
    match (renamed, wanted) {
        (Some(to), Some(typed)) => {
            if let Some((name, cmds)) = resources.get_key_value(to.resource) {
                let cmds: Vec<Command> = cmds
                    .iter()
                    .filter(|c| to.verb.is_none_or(|v| c.verb == v))
                    .copied()
                    .collect();
                let mut rc = resource_command(name, &cmds);
                if typed != *name {
                    rc = rc.alias(typed.to_string());
                }
                if let (Some(now), Some(old)) = (to.verb, verb)
                    && now != old
                    && rc.find_subcommand(now).is_some()
                {
                    rc = rc.mut_subcommand(now, |v| v.alias(old.to_string()));
                }
                built.push(name);
                full.push(rc);
            }
            left_out = Some(typed);
        }
        (None, Some(typed)) => {
            if let Some((name, cmds)) = resources.get_key_value(typed) {
                built.push(name);
                full.push(extras::extend(name, resource_command(name, cmds)));
            }
        }
        _ => {}
    }
    let app = root(full, resources.len());
    // A name for each other resource is needed only when the first word is not known (clap's
    // "did you mean", Tab on a partial word) or missing: 335 of them would cost more than the
    // whole call.
    if wanted.is_some_and(|w| app.find_subcommand(w).is_some()) {
        return app;
    }
    app.subcommands(
        resources
            .iter()
            .filter(|(name, _)| !built.contains(name) && left_out != Some(**name))
            .map(|(name, cmds)| clap::Command::new(*name).about(help::verbs(cmds).join(", "))),
    )
}

/// The variable through which the shell asks mistcli for completions.
const COMPLETE_VAR: &str = "COMPLETE";

/// Answers a shell's Tab (`COMPLETE=<shell> mistcli -- <words>`, as the script of
/// `mistcli completions` sends it) and exits; returns at once on any other run. Only the
/// resource being typed is built in full, so each Tab costs about one start of mistcli.
pub fn complete_if_asked() {
    clap_complete::env::CompleteEnv::with_factory(|| {
        let args: Vec<OsString> = std::env::args_os().collect();
        let words: Vec<OsString> = match args.iter().position(|a| a == "--") {
            Some(i) => args[i + 1..].to_vec(),
            None => Vec::new(),
        };
        let resources = commands::resources();
        let (wanted, verb) = first_words(&words);
        command_for(wanted, verb, resources)
    })
    .var(COMPLETE_VAR)
    .complete();
}

/// The small script a shell sources to ask mistcli for completions at each Tab.
fn write_completion_script(
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    use clap_complete::env::Shells;
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer = shells
        .completer(&name)
        .ok_or_else(|| Failure::usage(format!("no completions for {name}")))?;
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
        .unwrap_or_else(|| "mistcli".into());
    let mut script = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "mistcli", "mistcli", &program, &mut script)
        .map_err(|e| Failure::other(e.to_string()))?;
    out.write_all(&script)
        .map_err(|e| Failure::other(e.to_string()))
}

/// The first two words of the command line that are neither flags nor flags' values: the
/// resource and the verb.
fn first_words(argv: &[OsString]) -> (Option<&str>, Option<&str>) {
    // The global flags that take a value, by every name they have (`-o`, `--output`, ...).
    let takes_value: Vec<String> = global_args()
        .iter()
        .filter(|a| a.get_action().takes_values())
        .flat_map(|a| {
            let mut names: Vec<String> =
                a.get_short().map(|c| format!("-{c}")).into_iter().collect();
            names.extend(a.get_long().map(|l| format!("--{l}")));
            names.extend(
                a.get_all_aliases()
                    .into_iter()
                    .flatten()
                    .map(|l| format!("--{l}")),
            );
            names
        })
        .collect();
    let mut args = argv.iter().skip(1).filter_map(|a| a.to_str());
    let mut words = Vec::with_capacity(2);
    while let Some(a) = args.next() {
        if takes_value.iter().any(|t| t == a) {
            args.next();
        } else if !a.starts_with('-') {
            words.push(a);
            if words.len() == 2 {
                break;
            }
        }
    }
    (words.first().copied(), words.get(1).copied())
}

fn hint(near: &[&str]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!(" (closest: {})", near.join(", "))
    }
}

fn ops(sub: &ArgMatches, out: &mut dyn Write) -> Result<(), Failure> {
    let write = |out: &mut dyn Write, line: String| {
        writeln!(out, "{line}").map_err(|e| Failure::other(e.to_string()))
    };
    match sub.subcommand() {
        Some(("search", m)) => {
            let words: Vec<&str> = m
                .get_many::<String>("words")
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            // Every operation has a command: the ranking of the catalog, with no session.
            if words.iter().all(|w| w.trim().is_empty()) {
                return Err(Failure::usage("give at least one word to search for"));
            }
            let ranking =
                catalog::search::rank(&catalog::search::parse(&words.join(" ")), |_| true);
            match ranking.strength {
                catalog::search::Strength::Strong => {}
                catalog::search::Strength::Weak => {
                    eprintln!("note: weak match: only some of the words matched")
                }
                catalog::search::Strength::Nothing => {
                    eprintln!(
                        "note: no operation matches these words; general starting points follow"
                    )
                }
            }
            let rows: Vec<Value> = ranking
                .hits
                .iter()
                .take(20)
                .filter_map(|hit| {
                    let c = commands::for_operation(hit.operation.id)?;
                    Some(json!({"command": commands::usage(c), "operation": c.op.id, "method": c.op.method.as_str(), "summary": c.op.summary}))
                })
                .collect();
            // A table in a pipe too (`| grep`), unless a format or fields are chosen.
            let mut printing = output::Printing::from_flags(m)?;
            if printing.fields.is_none() && printing.jq.is_none() {
                printing.format = printing.format.or(Some(Format::Table));
            }
            if printing.columns.is_empty() {
                printing.columns = ["command", "operation", "method", "summary"]
                    .map(String::from)
                    .to_vec();
            }
            printing.print(&Value::Array(rows), output::Sink::stdout(), out)
        }
        Some(("show", m)) => {
            let id = m
                .get_one::<String>("operation")
                .map(String::as_str)
                .unwrap_or("");
            let c = commands::for_operation(id).ok_or_else(|| {
                let near = catalog::closest(id, catalog::OPERATIONS.iter().map(|o| o.id), 3);
                Failure::usage(format!("unknown operation `{id}`{}", hint(&near)))
            })?;
            write(out, format!("{} — {}", c.op.id, c.op.summary))?;
            write(out, format!("  {} {}", c.op.method, c.op.path))?;
            write(out, format!("  command: {}", commands::usage(c)))?;
            for p in c.op.params {
                let flag = flag_of(p.name);
                write(
                    out,
                    format!(
                        "  {flag:<28} {}{}",
                        expected_form(p),
                        if p.required { " (required)" } else { "" }
                    ),
                )?;
            }
            if let Some(b) = c.op.body {
                write(
                    out,
                    format!(
                        "  {:<28} {}",
                        "--body @file.json|-",
                        b.schema.unwrap_or("JSON object")
                    ),
                )?;
            }
            Ok(())
        }
        Some((_, m)) => {
            let mut printing = output::Printing::from_flags(m)?;
            // Tab-separated lines, unless a format, fields or a filter is asked for.
            if printing.format.is_none() && printing.fields.is_none() && printing.jq.is_none() {
                for c in commands::all() {
                    write(
                        out,
                        format!("{}\t{}\t{}", c.op.id, c.op.method, commands::usage(c)),
                    )?;
                }
                return Ok(());
            }
            let rows: Vec<Value> = commands::all()
                .iter()
                .map(|c| json!({"operation": c.op.id, "method": c.op.method.as_str(), "command": commands::usage(c)}))
                .collect();
            if printing.columns.is_empty() {
                printing.columns = ["operation", "method", "command"]
                    .map(String::from)
                    .to_vec();
            }
            printing.print(&Value::Array(rows), output::Sink::stdout(), out)
        }
        None => Err(Failure::usage("`mistcli ops` needs search, show or list")),
    }
}

/// What a call needs: credentials, the transport, the global flags.
struct Ctx {
    /// `-o`, `--json`, `--jq` (checked when the command starts) and `--columns`.
    printing: output::Printing,
    /// `--redact`: secrets printed as handles.
    redactor: Option<&'static Redactor>,
    credentials: Credentials,
    /// `MIST_WS_URL` of the token's source.
    stream_url: Option<String>,
    transport: MistTransport,
    org: Option<String>,
    site: Option<String>,
    msp: Option<String>,
    all: bool,
    /// `--limit`: at most this many items, across pages.
    limit: Option<u64>,
    /// `--all` stops with an error after this many pages.
    max_pages: u64,
    /// `--all` stops with an error after this long.
    max_time: Duration,
    yes: bool,
}

impl Ctx {
    fn new(m: &ArgMatches) -> Result<Self, Failure> {
        // The environment's Mist variables, before any env file is read (config: the token rule).
        let environment = config::MistVars::from_environment();
        let config_file = profiles::load()?;
        let profile_name = m.get_one::<String>("profile");
        let mut chosen = Vec::new();
        let mut explicit_profile = None;
        if let Some(name) = profile_name {
            let p = profiles::named(&config_file, name)?;
            chosen.push(config::Place {
                source: config::Source::Profile(name.clone()),
                vars: p.mist_vars(name)?,
            });
            explicit_profile = Some(p);
        }
        if let Some(path) = m.get_one::<String>("env_file") {
            let path = std::path::PathBuf::from(path);
            chosen.push(config::Place {
                vars: config::read_env_file(&path)?,
                source: config::Source::EnvFile(path),
            });
        }
        let api_url_flag = m.get_one::<String>("api_url").cloned();
        let environment = config::MistVars {
            api_url: api_url_flag.clone().or(environment.api_url),
            ..environment
        };
        let mut default_profile = None;
        let resolved = config::resolve(chosen, environment, api_url_flag.as_deref(), || {
            let mut later = Vec::new();
            if let Some((name, p)) = profiles::default_profile(&config_file) {
                later.push(config::Place {
                    source: config::Source::DefaultProfile(name.to_string()),
                    vars: p.mist_vars(name)?,
                });
                default_profile = Some(p.clone());
            }
            // ./.env is read only when neither the default profile nor anything before has a token.
            if !later.iter().any(|p| p.vars.token.is_some()) {
                later.extend(config::dot_env()?);
            }
            Ok(later)
        })?;
        // The org default follows the profile in use (explicit, else the default one).
        let p = explicit_profile
            .or(match resolved.source {
                Some(config::Source::DefaultProfile(_)) | None => default_profile,
                _ => None,
            })
            .unwrap_or_default();
        let pick = |env: &str, from_profile: Option<&String>| -> Option<String> {
            let from_env = std::env::var(env).ok().filter(|v| !v.trim().is_empty());
            if profile_name.is_some() {
                from_profile.cloned().or(from_env)
            } else {
                from_env.or_else(|| from_profile.cloned())
            }
        };
        let credentials = resolved.credentials;
        let stream_url = resolved.stream_url;
        let policy = Policy {
            request_timeout: Duration::from_secs(
                (*m.get_one::<u64>("timeout").unwrap_or(&30)).clamp(1, 3600),
            ),
            calls_per_hour: m.get_one::<u32>("rate_limit").copied().filter(|r| *r > 0),
            ..Policy::default()
        };
        let mut printing = output::Printing::from_flags(m)?;
        // `mistcli config set output ...`: the profile's format for a terminal; a pipe keeps JSON.
        if printing.format.is_none()
            && printing.fields.is_none()
            && output::Sink::stdout().terminal_width.is_some()
        {
            printing.format = p.output_format();
        }
        Ok(Ctx {
            printing,
            redactor: redactor(m)?,
            credentials,
            stream_url,
            transport: mist_transport(policy).map_err(|e| Failure::other(e.to_string()))?,
            org: m
                .get_one::<String>("org")
                .cloned()
                .or_else(|| pick("MIST_ORG_ID", p.org_id.as_ref())),
            site: m.get_one::<String>("site").cloned(),
            msp: m.get_one::<String>("msp").cloned(),
            all: m.get_flag("all"),
            limit: m.get_one::<u64>("item_limit").copied(),
            max_pages: m.get_one::<u64>("max_pages").copied().unwrap_or(1000),
            max_time: Duration::from_secs(m.get_one::<u64>("max_seconds").copied().unwrap_or(600)),
            yes: m.get_flag("yes"),
        })
    }

    /// The org of a call: `--org`, `MIST_ORG_ID`, the profile's, or the only org the token sees.
    async fn org_id(&mut self) -> Result<String, Failure> {
        if let Some(o) = &self.org {
            return Ok(o.clone());
        }
        let token = self
            .credentials
            .token
            .as_ref()
            .map(|t| t.expose().to_string())
            .unwrap_or_default();
        let base = self.credentials.base.to_string();
        if let Some(org) = org_cache::lookup(&token, &base) {
            self.org = Some(org.clone());
            return Ok(org);
        }
        let me = api::get_self(&self.transport, &self.credentials).await?;
        let orgs = org_cache::orgs_of(&me.body);
        match orgs.as_slice() {
            [(id, _)] => {
                org_cache::remember(&token, &base, id);
                self.org = Some(id.clone());
                Ok(id.clone())
            }
            [] => Err(Failure::usage(
                "the token sees no organization: give --org <org_id>",
            )),
            many => Err(Failure::usage(format!(
                "the token sees {} organizations; choose one with --org or MIST_ORG_ID:\n{}",
                many.len(),
                many.iter()
                    .map(|(id, name)| format!("  {id}  {name}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))),
        }
    }
}

/// The largest request body read (`--body`, `--input`): far above any Mist object, and a bound
/// on memory when the file is `/dev/zero` or an endless pipe.
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Reads at most [`MAX_BODY_BYTES`] of `from`; more is an error, not a cut body.
fn read_bounded(from: impl Read, what: &str) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    from.take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > MAX_BODY_BYTES {
        return Err(Failure::usage(format!(
            "{what} is larger than {} MB: not a request body",
            MAX_BODY_BYTES / (1024 * 1024)
        )));
    }
    String::from_utf8(bytes).map_err(|_| Failure::usage(format!("{what} is not UTF-8 text")))
}

fn read_body(spec: &str) -> Result<Value, Failure> {
    let text = if spec == "-" {
        read_bounded(std::io::stdin(), "the body on stdin")?
    } else if let Some(path) = spec.strip_prefix('@') {
        let file = std::fs::File::open(path)
            .map_err(|e| Failure::usage(format!("cannot read the body file {path}: {e}")))?;
        read_bounded(file, &format!("the body file {path}"))?
    } else {
        spec.to_string()
    };
    serde_json::from_str(&text)
        .map_err(|e| Failure::usage(format!("the body is not valid JSON: {e}")))
}

/// How mistcli confirms a write: `--yes`, or a `y` at the prompt when stdin and stderr are a
/// terminal; in a script without `--yes` nothing is sent.
pub(crate) struct Prompt {
    /// `--yes` was given.
    pub yes: bool,
}

#[async_trait::async_trait]
impl Confirm for Prompt {
    async fn confirm(&self, question: &Question) -> Confirmation {
        if self.yes {
            return Confirmation::Accepted;
        }
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Confirmation::Failed("add --yes to run it from a script".into());
        }
        eprint!(
            "{}\nSend this change? [y/N] ",
            output::printable(&question.message)
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        match std::io::stdin().lock().read_line(&mut answer) {
            Ok(_) if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") => {
                Confirmation::Accepted
            }
            Ok(_) => Confirmation::Declined,
            Err(e) => Confirmation::Failed(e.to_string()),
        }
    }
}

impl Ctx {
    /// Passes a write through the one write gate ([`mistcore::policy`]).
    pub(crate) async fn authorize(&self, write: &policy::Write) -> Result<(), Failure> {
        let strict_security = checks::strict_security_from_env();
        // The limits matter only to strict security mode: bad MIST_MAX_* values fail only there.
        let limits = if strict_security {
            checks::limits_from_env().map_err(Failure::usage)?
        } else {
            mistcore::security::Limits::default()
        };
        // A human runs mistcli and confirms through the prompt (or --yes): writes are allowed,
        // strict security mode comes from the environment.
        let permissions = policy::Permissions {
            write_tools: true,
            can_confirm: true,
            skip_confirmation: false,
            strict_security,
            credentials: &self.credentials,
            missing_token_advice: TOKEN_ADVICE,
            missing_write_scope: None,
        };
        let gate = policy::Gate {
            permissions,
            transport: &self.transport,
            limits: &limits,
            confirm: &Prompt { yes: self.yes },
            // The human at the prompt sees the values.
            secrets: None,
        };
        policy::authorize(gate, write)
            .await
            .map_err(|e| Failure::usage(e.to_string()))
    }
}

async fn execute(
    ctx: &mut Ctx,
    op: &'static Operation,
    mut args: Map<String, Value>,
    body: Option<&String>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    for (param, value) in [("site_id", ctx.site.clone()), ("msp_id", ctx.msp.clone())] {
        if let Some(v) = value
            && op.param(param).is_some()
        {
            args.entry(param).or_insert(json!(v));
        }
    }
    if op.param("org_id").is_some() && !args.contains_key("org_id") {
        let needed = op.param("org_id").is_some_and(|p| p.required);
        if needed || ctx.org.is_some() {
            let org = ctx.org_id().await?;
            args.insert("org_id".into(), json!(org));
        }
    }
    if let Some(b) = body {
        args.insert("body".into(), read_body(b)?);
    }
    // `--limit N` without `--page-size`: pages of N items (Mist serves at most 1000 a page).
    if let Some(n) = ctx.limit
        && !op.is_write()
        && op.param("limit").is_some()
        && !args.contains_key("limit")
    {
        args.insert("limit".into(), json!(n.min(MAX_PAGE_SIZE).to_string()));
    }
    let validated = schema::validate(op, &args)
        .map_err(|e| Failure::usage(format!("{}: {}", flag_of(&e.argument), e.problem)))?;
    if op.is_write() {
        if let Some(body) = &validated.body {
            refuse_handles(body)?;
        }
        let write = policy::Write {
            subject: policy::operation_subject(op),
            question: policy::operation_question(op, &validated, None),
            destination: policy::Destination::Mist,
        };
        ctx.authorize(&write).await?;
    }
    let first = api::execute(&ctx.transport, &ctx.credentials, op, &validated).await?;
    // Pages are followed for reads only: a write is one request.
    let body = if (ctx.all || ctx.limit.is_some()) && !op.is_write() {
        follow(ctx, first).await?
    } else {
        first.body
    };
    ctx.print(&body, out)
}

/// The largest page Mist serves.
const MAX_PAGE_SIZE: u64 = 1000;

impl Ctx {
    /// Prints a result in the chosen format, or the outputs of `--jq` one per line.
    fn print(&self, body: &Value, out: &mut dyn Write) -> Result<(), Failure> {
        let body = shown(self.redactor, body);
        self.printing
            .print(body.as_ref(), output::Sink::stdout(), out)
    }
}

/// Writes one line to `out`.
fn write(out: &mut dyn Write, line: String) -> Result<(), Failure> {
    writeln!(out, "{line}").map_err(|e| Failure::other(e.to_string()))
}

/// `--all`: the items of every page, as one list; `--limit N`: the first N of them. An answer
/// that is one object, not a list, is returned as it is.
async fn follow(ctx: &Ctx, first: api::ApiResponse) -> Result<Value, Failure> {
    if !output::is_list(&first.body) {
        return Ok(first.body);
    }
    let wanted = ctx
        .limit
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let progress = std::io::stderr().is_terminal();
    let mut items: Vec<Value> = output::items(&first.body).into_iter().cloned().collect();
    let mut pagination: Option<Pagination> = first.pagination;
    let mut pages = 1u64;
    let started = std::time::Instant::now();
    let mut seen = std::collections::HashSet::new();
    while let Some(next) = pagination
        .as_ref()
        .filter(|p| p.has_more && items.len() < wanted)
        .and_then(|p| p.next.clone())
    {
        // Mist's links must lead somewhere new, and the walk is bounded: a repeating or endless
        // `next` would spend the token's hourly budget.
        if !seen.insert(next.clone()) {
            return Err(Failure::other(format!(
                "Mist gave the same next page twice ({next}) after {pages} pages: stopped, nothing printed"
            )));
        }
        if pages >= ctx.max_pages {
            return Err(Failure::other(format!(
                "stopped after {pages} pages (--max-pages {}), nothing printed: narrow the query or raise --max-pages",
                ctx.max_pages
            )));
        }
        if started.elapsed() > ctx.max_time {
            return Err(Failure::other(format!(
                "stopped after {} s and {pages} pages (--max-seconds), nothing printed",
                ctx.max_time.as_secs()
            )));
        }
        if progress {
            let total = pagination
                .as_ref()
                .and_then(|p| p.total)
                .map(|t| format!(" of {t}"))
                .unwrap_or_default();
            eprint!("\rfetched {} items{total} ({pages} pages)", items.len());
        }
        // The same checks as mist_get_next_page: a read path of this cloud only.
        let (page_op, relative) =
            api::next_page_target(&ctx.credentials, &next).map_err(Failure::other)?;
        let request = api::build_path_request(&ctx.credentials, page_op.method, &relative)?;
        let answer = api::send(&ctx.transport, &ctx.credentials, page_op, request).await?;
        let before = items.len();
        items.extend(output::items(&answer.body).into_iter().cloned());
        pagination = answer.pagination;
        pages += 1;
        if items.len() == before {
            break;
        }
    }
    if progress && pages > 1 {
        eprintln!("\rfetched {} items ({pages} pages){:20}", items.len(), "");
    }
    items.truncate(wanted);
    Ok(Value::Array(items))
}
