//! Commands of `mistcli` that are more than one operation: `self security` (the token's
//! security analysis) and the device utilities (`devices ping`, `devices traceroute`,
//! `devices utility`), whose output is streamed as it arrives.

use super::{Ctx, Failure, exit, write};
use crate::checks;
use crate::service::NativeService;
use clap::{Arg, ArgMatches};
use mistcore::host::Service;
use mistcore::policy;
use mistcore_client::device::{self, CommandError, Link, UtilityRun};

use serde_json::{Map, Value, json};
use std::io::Write;

/// Adds the extra verbs of `resource` to its command.
pub fn extend(resource: &str, command: clap::Command) -> clap::Command {
    let device = || {
        [
            Arg::new("device")
                .long("device")
                .required(true)
                .help("The device id"),
            Arg::new("device_type")
                .long("device-type")
                .default_value("ex")
                .value_parser(["ap", "ex", "srx", "ssr"])
                .help("The device platform"),
            Arg::new("timeout_seconds")
                .long("timeout-seconds")
                .value_parser(clap::value_parser!(u64))
                .help("Seconds without output after which the command is complete"),
        ]
    };
    match resource {
        "self" => command.subcommand(
            clap::Command::new("security")
                .about("The token's security analysis: what it reaches and the risks (exit 6 on a CRITICAL risk)"),
        ),
        "devices" => command
            .subcommand(
                clap::Command::new("ping")
                    .about("Ping from a device (--site S --device D --host H), output streamed")
                    .args(device())
                    .arg(Arg::new("host").long("host").required(true))
                    .arg(Arg::new("count").long("count")),
            )
            .subcommand(
                clap::Command::new("traceroute")
                    .about("Traceroute from a device (--site S --device D --host H), output streamed")
                    .args(device())
                    .arg(Arg::new("host").long("host").required(true)),
            )
            .subcommand(
                clap::Command::new("utility")
                    .about("Any device utility of `mist_utilities`: mistcli devices utility retrieveArpTable --site S --device D --device-type ex [KEY=VALUE...]")
                    .args(device())
                    .arg(Arg::new("utility").required(true))
                    .arg(Arg::new("params").num_args(0..).value_name("KEY=VALUE")),
            ),
        _ => command,
    }
}

/// Runs an extra verb, or `None` when `resource verb` is not one.
pub async fn run(
    resource: &str,
    verb: &str,
    vm: &ArgMatches,
    matches: &ArgMatches,
    out: &mut dyn Write,
) -> Option<Result<(), Failure>> {
    match (resource, verb) {
        ("self", "security") => Some(security(matches, out).await),
        ("devices", "ping" | "traceroute" | "utility") => {
            Some(utility(verb, vm, matches, out).await)
        }
        _ => None,
    }
}

async fn security(matches: &ArgMatches, out: &mut dyn Write) -> Result<(), Failure> {
    let ctx = Ctx::new(matches)?;
    let limits = checks::limits_from_env().map_err(Failure::usage)?;
    let report = checks::security_report(&ctx.transport, &ctx.credentials, &limits)
        .await
        .map_err(|e| match e.downcast::<mistcore::api::ApiError>() {
            Ok(api) => Failure::from(api),
            Err(other) => Failure::other(other.to_string()),
        })?;
    let critical = report.is_critical();
    ctx.print(&json!(report), out)?;
    if critical {
        return Err(Failure {
            code: exit::CRITICAL,
            message: "the token has a CRITICAL risk".into(),
        });
    }
    Ok(())
}

async fn utility(
    verb: &str,
    vm: &ArgMatches,
    matches: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let ctx = Ctx::new(matches)?;
    let site = ctx
        .site
        .clone()
        .ok_or_else(|| Failure::usage("device utilities need --site <site id>"))?;
    let device = vm.get_one::<String>("device").cloned().unwrap_or_default();
    let device_type = vm
        .get_one::<String>("device_type")
        .map(String::as_str)
        .unwrap_or("ex");
    let (name, mut params) = match verb {
        "utility" => {
            let mut params = Map::new();
            for kv in vm.get_many::<String>("params").into_iter().flatten() {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| Failure::usage(format!("`{kv}` is not KEY=VALUE")))?;
                let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| json!(v));
                params.insert(k.to_string(), value);
            }
            (
                vm.get_one::<String>("utility").cloned().unwrap_or_default(),
                params,
            )
        }
        other => (other.to_string(), Map::new()),
    };
    for key in ["host", "count"] {
        if let Some(v) = vm.try_get_one::<String>(key).ok().flatten() {
            params.insert(key.into(), json!(v));
        }
    }
    let utility = device::utility(device_type, &name).ok_or_else(|| {
        Failure::usage(format!("`{name}` is not a utility of `{device_type}` devices: `mistcli devices utility --help`; the mist_utilities tool lists them"))
    })?;
    let transport = crate::transport::mist_transport(ctx.transport.policy().clone())
        .map_err(|e| Failure::other(e.to_string()))?;
    let limits = checks::limits_from_env().map_err(Failure::usage)?;
    let service = NativeService::new(transport, limits, ctx.stream_url.clone());
    // The document formats get the whole result at the end; otherwise the output is streamed,
    // but not under --redact: a secret may span two chunks, so the whole output is redacted.
    let stream = ctx.printing.format.is_none()
        && ctx.printing.fields.is_none()
        && ctx.printing.jq.is_none()
        && ctx.redactor.is_none();
    let printed = std::sync::Mutex::new(std::io::stdout());
    let progress = |_: usize, chunk: &str| {
        if stream {
            let mut stdout = printed.lock().unwrap_or_else(|p| p.into_inner());
            let _ = stdout.write_all(chunk.as_bytes());
            let _ = stdout.flush();
        }
    };
    let run = UtilityRun {
        device_type,
        utility,
        site_id: &site,
        device_id: &device,
        params,
        idle: vm
            .get_one::<u64>("timeout_seconds")
            .map(|s| std::time::Duration::from_secs((*s).clamp(1, 300))),
    };
    utility.check(&run.params).map_err(Failure::usage)?;
    // A utility that changes the device passes the one write gate, as every mistcli write.
    if utility.write {
        ctx.authorize(&policy::utility_write(&run)).await?;
    }
    let transport = service.transport();
    let now = || service.now();
    let link = Link {
        transport: transport.as_ref(),
        credentials: &ctx.credentials,
        streams: service.devices(),
        now: &now,
    };
    let deadline = service.now() + service.command_deadline();
    let result = device::run_utility(link, run, deadline, &progress)
        .await
        .map_err(|e| match e {
            CommandError::Api(api) => Failure::from(api),
            other => Failure::other(other),
        })?;
    let complete = result["complete"] != json!(false);
    if stream {
        if let Some(answer) = result.get("result") {
            write(
                out,
                serde_json::to_string_pretty(answer).unwrap_or_default(),
            )?;
        }
    } else {
        ctx.print(&result, out)?;
    }
    if !complete {
        return Err(Failure::other(
            result["note"]
                .as_str()
                .unwrap_or("the output is incomplete")
                .to_string(),
        ));
    }
    Ok(())
}
