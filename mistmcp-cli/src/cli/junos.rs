//! `mistcli junos ...`: Junos devices of a devices.json inventory, directly over NETCONF/SSH,
//! with the same checks and the same safe commit as the MCP tools (mistcore-junos), and commits
//! through the one write gate (`--yes` or the prompt).

use super::{Failure, Prompt, exit, output};
use crate::netconf;
use clap::{Arg, ArgAction, ArgMatches};
use mistcore::api::Credentials;
use mistcore::policy;
use mistcore_junos::commit::{self, Change, Outcome, Plan};
use mistcore_junos::config_policy::Format as ConfigFormat;
use mistcore_junos::rpc::ReadFormat;
use mistcore_junos::session::{self, Answer, Read};
use mistcore_junos::{JunosError, access::JunosDevices, words};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The `junos` command and its verbs.
pub fn command() -> clap::Command {
    let device = || {
        Arg::new("device")
            .required(true)
            .help("The device's name in devices.json")
    };
    let timeout = || {
        Arg::new("timeout_seconds")
            .long("timeout-seconds")
            .value_parser(clap::value_parser!(u64).range(1..=3600))
            .default_value("60")
            .help("Seconds each device has to answer")
    };
    clap::Command::new("junos")
        .about("Junos devices directly over NETCONF/SSH (a devices.json inventory of junos-mcp-server)")
        .subcommand_required(true)
        .arg(Arg::new("junos_devices").long("junos-devices").value_name("FILE").env("MISTMCP_JUNOS_DEVICES").value_parser(clap::value_parser!(PathBuf)).required(true).help("The devices.json inventory"))
        .arg(Arg::new("junos_known_hosts").long("junos-known-hosts").value_name("FILE").env("MISTMCP_JUNOS_KNOWN_HOSTS").value_parser(clap::value_parser!(PathBuf)).help("known_hosts for devices that pin no host_key"))
        .subcommand(clap::Command::new("list").about("The devices (no passwords or keys)"))
        .subcommand(
            clap::Command::new("run")
                .about("One read-only operational command: mistcli junos run r1 'show version' (or --devices r1,r2)")
                .arg(Arg::new("words").num_args(1..=2).required(true).value_names(["DEVICE", "COMMAND"]).help("The device and the command (only the command with --devices)"))
                .arg(Arg::new("devices").long("devices").value_delimiter(',').help("Several devices, comma-separated (run in parallel)"))
                .arg(timeout()),
        )
        .subcommand(
            clap::Command::new("config")
                .about("The configuration (display inheritance no-comments)")
                .arg(device())
                .arg(Arg::new("format").long("format").value_parser(["set", "text", "json", "xml"]).default_value("set"))
                .arg(timeout()),
        )
        .subcommand(
            clap::Command::new("diff")
                .about("show configuration | compare rollback N")
                .arg(device())
                .arg(Arg::new("rollback").long("rollback").value_parser(clap::value_parser!(u32).range(1..=49)).default_value("1"))
                .arg(timeout()),
        )
        .subcommand(clap::Command::new("facts").about("Host name, model, version, serial number").arg(device()).arg(timeout()))
        .subcommand(
            clap::Command::new("commit")
                .about("Load and commit safely: lock, load, diff, commit check, your confirmation, commit confirmed, reachability, confirm, unlock")
                .arg(device())
                .arg(Arg::new("file").long("file").required(true).help("The configuration file (- for stdin)"))
                .arg(Arg::new("format").long("format").value_parser(["set", "text", "xml"]).help("Default: from the file's extension (.set, .xml), else set"))
                .arg(Arg::new("comment").long("comment").default_value("committed through mistcli"))
                .arg(Arg::new("confirm_minutes").long("confirm-minutes").value_parser(clap::value_parser!(u32).range(1..=60)).default_value("5").help("commit confirmed N: the device reverts by itself after N minutes unless confirmed"))
                .arg(Arg::new("check_after").long("check-after").value_parser(clap::value_parser!(u64).range(0..=300)).default_value("5").help("Seconds to wait before the reachability check"))
                .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue).help("Show the diff and the check only; discard"))
                .arg(timeout()),
        )
}

fn failure(e: &JunosError) -> Failure {
    let code = match e {
        JunosError::UnknownDevice { .. } => exit::NOT_FOUND,
        JunosError::Refused(_)
        | JunosError::Argument(_)
        | JunosError::Inventory(_)
        | JunosError::Template(_) => exit::USAGE,
        JunosError::Auth { .. } | JunosError::HostKey { .. } => exit::AUTH,
        _ => exit::OTHER,
    };
    Failure {
        code,
        message: e.to_string(),
    }
}

/// Prints `body` as the global flags ask (`-o`, `--json`, `--jq`, `--columns`).
fn print(global: &ArgMatches, body: &Value, out: &mut dyn Write) -> Result<(), Failure> {
    let body = super::shown(super::redactor(global)?, body);
    output::Printing::from_flags(global)?.print(body.as_ref(), output::Sink::stdout(), out)
}

/// One device's answer: printed; a failed one is the exit code.
fn single(
    global: &ArgMatches,
    answer: Answer,
    err: Option<JunosError>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(e) = err {
        return Err(failure(&e));
    }
    let printing = output::Printing::from_flags(global)?;
    let body = match answer.output {
        Some(Value::String(text)) if printing.format.is_none() && printing.jq.is_none() => {
            // Text answers print as text for humans and pipes (`| grep`); -o json gives the record.
            let text = match super::redactor(global)? {
                Some(r) => r.redact_text(&text).into_owned(),
                None => text,
            };
            let _ = writeln!(out, "{}", text.trim_end_matches('\n'));
            return Ok(());
        }
        _ => json!(answer),
    };
    print(global, &body, out)
}

/// Runs `mistcli junos <verb>`.
pub async fn run(global: &ArgMatches, m: &ArgMatches, out: &mut dyn Write) -> Result<(), Failure> {
    let path = m.get_one::<PathBuf>("junos_devices").ok_or_else(|| {
        Failure::usage("--junos-devices (or MISTMCP_JUNOS_DEVICES) names the devices.json")
    })?;
    let devices = netconf::devices(
        path,
        m.get_one::<PathBuf>("junos_known_hosts")
            .map(PathBuf::as_path),
        std::sync::Arc::new(mistcore_junos::access::InProcess),
    )
    .map_err(|e| Failure::usage(format!("{e:#}")))?;
    let (verb, vm) = m
        .subcommand()
        .ok_or_else(|| Failure::usage("`mistcli junos` needs a verb: see mistcli junos --help"))?;
    let deadline = Duration::from_secs(
        vm.try_get_one::<u64>("timeout_seconds")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(60),
    );
    let device_arg = |name: &str| vm.try_get_one::<String>(name).ok().flatten().cloned();
    match verb {
        "list" => {
            let inventory = devices
                .inventory
                .read()
                .map_err(|_| Failure::other("the inventory is unavailable"))?;
            print(global, &inventory.listing(), out)
        }
        "run" => {
            let many: Vec<String> = vm
                .get_many::<String>("devices")
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let positional: Vec<String> = vm
                .get_many::<String>("words")
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let (device, command) = match (positional.as_slice(), many.is_empty()) {
                ([command], false) => (None, command.clone()),
                ([device, command], true) => (Some(device.clone()), command.clone()),
                (_, false) => {
                    return Err(Failure::usage(
                        "with --devices give only the command: mistcli junos run --devices r1,r2 'show version'",
                    ));
                }
                (_, true) => {
                    return Err(Failure::usage(
                        "give the device and the command: mistcli junos run r1 'show version' (or --devices r1,r2 'show version')",
                    ));
                }
            };
            let command = words::check_command(&command, &devices.command_denylist)
                .map_err(|e| failure(&e))?;
            if !many.is_empty() {
                let results = devices.run_batch(&many, &command, deadline).await;
                let failed = results.iter().filter(|a| !a.ok).count();
                print(global, &json!(results), out)?;
                return if failed == 0 {
                    Ok(())
                } else {
                    Err(Failure {
                        code: exit::OTHER,
                        message: format!("{failed} of {} devices failed", results.len()),
                    })
                };
            }
            read_one(
                global,
                &devices,
                &device.unwrap_or_default(),
                Read::Command(&command),
                deadline,
                out,
            )
            .await
        }
        "config" => {
            let format: ReadFormat = device_arg("format")
                .unwrap_or_else(|| "set".into())
                .parse()
                .map_err(|e: JunosError| failure(&e))?;
            read_one(
                global,
                &devices,
                &device_arg("device").unwrap_or_default(),
                Read::Config(format),
                deadline,
                out,
            )
            .await
        }
        "diff" => {
            let n = vm.get_one::<u32>("rollback").copied().unwrap_or(1);
            read_one(
                global,
                &devices,
                &device_arg("device").unwrap_or_default(),
                Read::Diff(n),
                deadline,
                out,
            )
            .await
        }
        "facts" => {
            read_one(
                global,
                &devices,
                &device_arg("device").unwrap_or_default(),
                Read::Facts,
                deadline,
                out,
            )
            .await
        }
        "commit" => commit_verb(global, vm, &devices, deadline, out).await,
        other => Err(Failure::usage(format!(
            "unknown verb `{other}`: see mistcli junos --help"
        ))),
    }
}

async fn read_one(
    global: &ArgMatches,
    devices: &JunosDevices,
    name: &str,
    request: Read<'_>,
    deadline: Duration,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let device = devices.device(name).map_err(|e| failure(&e))?;
    let connector = devices.connector.as_ref();
    let started = connector.now();
    match session::read(connector, &device, request, deadline).await {
        Ok(value) => single(
            global,
            Answer::of(name, Ok(value), connector.now().saturating_sub(started)),
            None,
            out,
        ),
        Err(e) => single(
            global,
            Answer::of(name, Err(e.clone()), Duration::ZERO),
            Some(e),
            out,
        ),
    }
}

async fn commit_verb(
    global: &ArgMatches,
    vm: &ArgMatches,
    devices: &JunosDevices,
    deadline: Duration,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let name = vm.get_one::<String>("device").cloned().unwrap_or_default();
    let device = devices.device(&name).map_err(|e| failure(&e))?;
    let file = vm.get_one::<String>("file").cloned().unwrap_or_default();
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?
    } else {
        std::fs::read_to_string(&file)
            .map_err(|e| Failure::usage(format!("cannot read {file}: {e}")))?
    };
    let format = match vm.get_one::<String>("format") {
        Some(f) => f.parse::<ConfigFormat>().map_err(|e| failure(&e))?,
        None if file.ends_with(".xml") => ConfigFormat::Xml,
        None if file.ends_with(".conf") || file.ends_with(".txt") => ConfigFormat::Text,
        None => ConfigFormat::Set,
    };
    super::refuse_handles(&Value::String(text.clone()))?;
    let change = Change {
        format,
        text,
        comment: vm.get_one::<String>("comment").cloned().unwrap_or_default(),
    };
    let plan = Plan {
        confirm_seconds: vm.get_one::<u32>("confirm_minutes").copied().unwrap_or(5) * 60,
        check_after: Duration::from_secs(vm.get_one::<u64>("check_after").copied().unwrap_or(5)),
        check_deadline: deadline.min(Plan::default().check_deadline),
    };
    let connector = devices.connector.as_ref();
    let staged = match commit::stage(
        connector,
        &device,
        &change,
        &devices.config_denylist,
        deadline,
    )
    .await
    {
        Ok(s) => s,
        Err(report) => return finish(global, *report, out),
    };
    let report = if staged.is_empty() {
        staged
            .abandon(Outcome::NoChange, "the configuration is already in place")
            .await
    } else if vm.get_flag("dry_run") {
        staged.abandon(Outcome::DryRun, "dry run").await
    } else {
        say!("{}", commit_progress(&staged.diff));
        let write = policy::junos_commit_write(&device, &staged.diff, &change, &plan);
        match authorize(global, &write).await {
            Ok(()) => {
                say!(
                    "committing on {name}: commit confirmed {} minute(s), then a reachability check",
                    plan.confirm_seconds / 60
                );
                staged.commit(connector, plan).await
            }
            Err(refused) => {
                let mut report = staged.abandon(Outcome::NotCommitted, &refused).await;
                report.error = Some(refused);
                report
            }
        }
    };
    finish(global, report, out)
}

fn commit_progress(diff: &str) -> String {
    format!("diff (show | compare):\n{}", policy::visible(diff))
}

/// The write gate as mistcli passes it: `--yes` or the prompt; the Mist token plays no part.
async fn authorize(global: &ArgMatches, write: &policy::Write) -> Result<(), String> {
    let credentials = Credentials::anonymous();
    let transport = crate::transport::mist_transport(mistcore::resilience::Policy::default())
        .map_err(|e| e.to_string())?;
    let permissions = policy::Permissions {
        write_tools: true,
        can_confirm: true,
        skip_confirmation: false,
        strict_security: false,
        credentials: &credentials,
        missing_token_advice: "",
        missing_write_scope: None,
    };
    let limits = mistcore::security::Limits::default();
    let gate = policy::Gate {
        permissions,
        transport: &transport,
        limits: &limits,
        confirm: &Prompt {
            yes: global.get_flag("yes"),
        },
        // The human at the prompt sees the values.
        secrets: None,
    };
    policy::authorize(gate, write)
        .await
        .map_err(|e| e.to_string())
}

fn finish(global: &ArgMatches, report: commit::Report, out: &mut dyn Write) -> Result<(), Failure> {
    let outcome = report.outcome;
    let message = report.message.clone();
    print(global, &json!(report), out)?;
    match outcome {
        Outcome::Committed | Outcome::NoChange | Outcome::DryRun => Ok(()),
        Outcome::NotCommitted => Err(Failure {
            code: exit::USAGE,
            message,
        }),
        _ => Err(Failure {
            code: exit::OTHER,
            message,
        }),
    }
}
