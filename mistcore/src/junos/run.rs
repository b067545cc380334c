//! Running the Junos tools: arguments, reads, batches, and commits through the write gate.

use super::{JunosTool, MAX_BATCH, TIMEOUT_PROP};
use crate::call::{CallContext, ToolError};
use crate::policy::{self, Destination, Question, Write};
use mistcore_junos::access::JunosDevices;
use mistcore_junos::commit::{self, Change, Outcome, Plan, Report};
use mistcore_junos::config_policy::Format;
use mistcore_junos::inventory::{Auth, Device, HostKey};
use mistcore_junos::rpc::ReadFormat;
use mistcore_junos::session::{self, Answer, Read};
use mistcore_junos::{JunosError, template, words};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every argument given has its schema's type and bounds: a value of another type is an error
/// that says what is expected, never a silent default (`"version": "2"`, `"dry_run": "false"`).
fn check_types(tool: JunosTool, args: &Map<String, Value>) -> Result<(), ToolError> {
    let schema = tool.schema();
    for (name, value) in args {
        let Some(prop) = schema["properties"].get(name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let wrong = |expected: &str| {
            ToolError::from(format!(
                "{}: `{name}` must be {expected}, got {value}",
                tool.name()
            ))
        };
        match prop["type"].as_str() {
            Some("integer") => {
                let n = value
                    .as_u64()
                    .ok_or_else(|| wrong("a non-negative integer"))?;
                let min = prop["minimum"].as_u64().unwrap_or(0);
                let max = prop["maximum"].as_u64().unwrap_or(u64::MAX);
                if !(min..=max).contains(&n) {
                    return Err(wrong(&format!("an integer from {min} to {max}")));
                }
            }
            Some("boolean") if !value.is_boolean() => return Err(wrong("true or false")),
            Some("string") if !value.is_string() => return Err(wrong("a string")),
            Some("array") => {
                let items = value.as_array().ok_or_else(|| wrong("a list of names"))?;
                if items.iter().any(|i| !i.is_string()) {
                    return Err(wrong("a list of strings"));
                }
                if let Some(max) = prop["maxItems"].as_u64()
                    && items.len() as u64 > max
                {
                    return Err(wrong(&format!("a list of at most {max} names")));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Names without repeats, in the order given.
fn distinct(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    names
        .into_iter()
        .filter(|n| seen.insert(n.clone()))
        .collect()
}

fn arg_str<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

fn required<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, ToolError> {
    arg_str(args, name)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ToolError::from(format!("`{name}` is required")))
}

fn deadline(args: &Map<String, Value>) -> Duration {
    Duration::from_secs(
        args.get(TIMEOUT_PROP)
            .and_then(Value::as_u64)
            .unwrap_or(session::DEFAULT_TIMEOUT_SECS)
            .clamp(1, 3600),
    )
}

fn plan(args: &Map<String, Value>) -> Plan {
    let defaults = Plan::default();
    Plan {
        confirm_seconds: args
            .get("confirm_minutes")
            .and_then(Value::as_u64)
            .map_or(defaults.confirm_seconds, |m| (m.clamp(1, 60) * 60) as u32),
        check_after: args
            .get("check_after_seconds")
            .and_then(Value::as_u64)
            .map_or(defaults.check_after, |s| Duration::from_secs(s.min(300))),
        check_deadline: deadline(args).min(defaults.check_deadline),
    }
}

/// What a tool call answers: a JSON value, and whether it is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The answer.
    pub value: Value,
    /// Whether the call failed.
    pub is_error: bool,
    /// Why a write did not run (`declined`, `cancelled`), for the call log.
    pub refused: Option<&'static str>,
}

fn answered(value: Value, is_error: bool) -> Answered {
    Answered {
        value,
        is_error,
        refused: None,
    }
}

fn single(answer: Answer) -> Answered {
    let is_error = !answer.ok;
    answered(json!(answer), is_error)
}

/// Runs a Junos tool.
pub async fn call(
    ctx: CallContext<'_>,
    devices: &JunosDevices,
    tool: JunosTool,
    args: &Map<String, Value>,
) -> Result<Answered, ToolError> {
    crate::workflows::check(&tool.schema(), args)
        .map_err(|e| ToolError::from(format!("{}: {e}", tool.name())))?;
    check_types(tool, args)?;
    let connector = devices.connector.as_ref();
    let timed = |name: &str, started: Duration, result: Result<Value, JunosError>| {
        Answer::of(name, result, connector.now().saturating_sub(started))
    };
    match tool {
        JunosTool::List => {
            let inventory = devices
                .inventory
                .read()
                .map_err(|_| ToolError::from("the inventory is unavailable"))?;
            Ok(answered(
                json!({"routers": inventory.listing(), "count": inventory.devices.len()}),
                false,
            ))
        }
        JunosTool::Reload => {
            if !args.is_empty() {
                return Err("reload_devices re-reads the server's own inventory file and takes no arguments".into());
            }
            let fresh = devices
                .source
                .load()
                .map_err(|e| ToolError::from(e.to_string()))?;
            let count = fresh.devices.len();
            *devices
                .inventory
                .write()
                .map_err(|_| ToolError::from("the inventory is unavailable"))? = fresh;
            Ok(answered(json!({"reloaded": true, "count": count}), false))
        }
        JunosTool::Command
        | JunosTool::Pfe
        | JunosTool::Config
        | JunosTool::Diff
        | JunosTool::Facts => {
            let name = required(args, "router_name")?;
            let started = connector.now();
            let device = match devices.device(name) {
                Ok(d) => d,
                Err(e) => return Ok(single(timed(name, started, Err(e)))),
            };
            let command_text;
            let request = match tool {
                JunosTool::Command => {
                    command_text = match words::check_command(
                        required(args, "command")?,
                        &devices.command_denylist,
                    ) {
                        Ok(c) => c,
                        Err(e) => return Ok(single(timed(name, started, Err(e)))),
                    };
                    Read::Command(&command_text)
                }
                JunosTool::Pfe => {
                    command_text = match words::pfe_command(
                        arg_str(args, "target").unwrap_or("fpc0"),
                        required(args, "command")?,
                    ) {
                        Ok(c) => c,
                        Err(e) => return Ok(single(timed(name, started, Err(e)))),
                    };
                    Read::Command(&command_text)
                }
                JunosTool::Config => Read::Config(
                    arg_str(args, "format")
                        .unwrap_or("set")
                        .parse::<ReadFormat>()
                        .map_err(|e| ToolError::from(e.to_string()))?,
                ),
                JunosTool::Diff => Read::Diff(
                    args.get("version")
                        .and_then(Value::as_u64)
                        .unwrap_or(1)
                        .min(u64::from(u32::MAX)) as u32,
                ),
                _ => Read::Facts,
            };
            let result = session::read(connector, &device, request, deadline(args)).await;
            Ok(single(timed(name, started, result)))
        }
        JunosTool::Batch => {
            let names = distinct(
                args.get("router_names")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(String::from),
            );
            if names.is_empty() {
                return Err("`router_names` must name at least one device".into());
            }
            if names.len() > MAX_BATCH {
                return Err(format!(
                    "`router_names` names {} devices: at most {MAX_BATCH} per batch",
                    names.len()
                )
                .into());
            }
            let command =
                words::check_command(required(args, "command")?, &devices.command_denylist)
                    .map_err(|e| ToolError::from(e.to_string()))?;
            let results = devices.run_batch(&names, &command, deadline(args)).await;
            let ok = results.iter().filter(|a| a.ok).count();
            Ok(answered(
                json!({
                    "command": command,
                    "summary": {"total": results.len(), "succeeded": ok, "failed": results.len() - ok},
                    "results": results,
                }),
                ok == 0,
            ))
        }
        JunosTool::Commit => {
            let name = required(args, "router_name")?;
            let device = devices
                .device(name)
                .map_err(|e| ToolError::from(e.to_string()))?;
            let change = change_of(
                args,
                required(args, "config_text")?.to_string(),
                "committed through mistmcp",
            )?;
            let report = commit_with_gate(ctx, devices, &device, &change, args, false).await;
            Ok(report_answer(report))
        }
        JunosTool::Template => template_tool(ctx, devices, args).await,
        JunosTool::Add => add_device(ctx, devices, args).await,
    }
}

fn report_answer(report: Report) -> Answered {
    let refused = match report.steps.last() {
        Some(s) if s.step == "confirmation" && !s.ok => Some("declined"),
        _ => None,
    };
    let is_error = matches!(
        report.outcome,
        Outcome::NotCommitted | Outcome::RolledBack | Outcome::RevertPending | Outcome::Unknown
    ) && refused.is_none();
    Answered {
        value: json!(report),
        is_error,
        refused,
    }
}

/// The change a commit tool's arguments ask for: `config_format`, `commit_comment` (or
/// `default_comment`) and the text to load.
fn change_of(
    args: &Map<String, Value>,
    text: String,
    default_comment: &str,
) -> Result<Change, ToolError> {
    let format: Format = arg_str(args, "config_format")
        .unwrap_or("set")
        .parse()
        .map_err(|e: JunosError| ToolError::from(e.to_string()))?;
    Ok(Change {
        format,
        text,
        comment: arg_str(args, "commit_comment")
            .unwrap_or(default_comment)
            .to_string(),
    })
}

/// Stage, ask the human through the write gate, then commit (or `dry_run`: stage and discard),
/// with the plan and deadline of the call's arguments.
async fn commit_with_gate(
    ctx: CallContext<'_>,
    devices: &JunosDevices,
    device: &Device,
    change: &Change,
    args: &Map<String, Value>,
    dry_run: bool,
) -> Report {
    let (plan, deadline) = (plan(args), deadline(args));
    let connector = devices.connector.as_ref();
    // Handles read in this session become their values again where secrets stand.
    let revealed;
    let change = match &ctx.session.secrets {
        Some(secrets) => match secrets.reveal_text(
            &change.text,
            crate::redact::WriteTo {
                place: &format!("junos:{}", device.name),
                update: true,
            },
        ) {
            Ok(text) => {
                revealed = Change {
                    text,
                    ..change.clone()
                };
                &revealed
            }
            Err(e) => return refused_report(device, &e.to_string()),
        },
        None => match crate::redact::refuse_handles(&Value::String(change.text.clone())) {
            Ok(()) => change,
            Err(e) => return refused_report(device, &e.to_string()),
        },
    };
    if !dry_run
        && let Err(refused) = policy::permitted(
            ctx.session.permissions(),
            &format!("a commit on the Junos device `{}`", device.name),
        )
    {
        return refused_report(device, &refused.to_string());
    }
    let staged = match commit::stage(
        connector,
        device,
        change,
        &devices.config_denylist,
        deadline,
    )
    .await
    {
        Ok(s) => s,
        Err(report) => return *report,
    };
    if staged.is_empty() {
        return staged
            .abandon(Outcome::NoChange, "the configuration is already in place")
            .await;
    }
    if dry_run {
        return staged.abandon(Outcome::DryRun, "dry run").await;
    }
    let write = policy::junos_commit_write(device, &staged.diff, change, &plan);
    let limits = ctx.service.security_limits();
    match policy::authorize(ctx.gate(&limits), &write).await {
        Ok(()) => staged.commit(connector, plan).await,
        Err(refused) => {
            let mut report = staged
                .abandon(Outcome::NotCommitted, &refused.to_string())
                .await;
            report.steps.push(commit::Step {
                step: "confirmation",
                ok: false,
                detail: Some(refused.kind().to_string()),
            });
            report
        }
    }
}

fn refused_report(device: &Device, why: &str) -> Report {
    Report {
        router_name: device.name.clone(),
        outcome: Outcome::NotCommitted,
        committed: false,
        message: format!("nothing was sent to {}: {why}", device.name),
        diff: None,
        steps: vec![],
        error: Some(why.to_string()),
    }
}

async fn template_tool(
    ctx: CallContext<'_>,
    devices: &JunosDevices,
    args: &Map<String, Value>,
) -> Result<Answered, ToolError> {
    let vars = template::parse_vars(arg_str(args, "vars_content").unwrap_or(""))
        .map_err(|e| ToolError::from(e.to_string()))?;
    let tpl = required(args, "template_content")?;
    let mut names: Vec<String> = args
        .get("router_names")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(n) = arg_str(args, "router_name") {
        names.insert(0, n.to_string());
    }
    let names = distinct(names);
    let apply = args
        .get("apply_config")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let dry_run = args.get("dry_run").and_then(Value::as_bool).unwrap_or(true) || !apply;
    if !dry_run && names.len() > 1 && ctx.session.client.sessionless {
        // Its confirmation travels in the answer, one question per call: one device per call
        // keeps each human's yes tied to the diff it was given for.
        return Err(
            "this client confirms through its answers, one question per call: apply the template with `router_name`, one device per call (a dry run may name several)"
                .into(),
        );
    }
    // The format is checked before anything is rendered or staged.
    change_of(args, String::new(), "")?;
    if names.is_empty() {
        if apply && !dry_run {
            return Err("applying a template needs `router_name` or `router_names`".into());
        }
        let rendered = devices
            .renderer
            .render(tpl, &vars, "")
            .await
            .map_err(|e| ToolError::from(e.to_string()))?;
        return Ok(answered(
            json!({"rendered": rendered, "dry_run": true}),
            false,
        ));
    }
    let mut results = Vec::new();
    let mut failed = 0;
    for name in &names {
        let rendered = match devices.renderer.render(tpl, &vars, name).await {
            Ok(r) => r,
            Err(e) => {
                failed += 1;
                results.push(json!({"router_name": name, "outcome": "not_committed", "error": e.to_string()}));
                continue;
            }
        };
        let device = match devices.device(name) {
            Ok(d) => d,
            Err(e) => {
                failed += 1;
                results.push(json!({"router_name": name, "rendered": rendered, "outcome": "not_committed", "error": e.to_string()}));
                continue;
            }
        };
        let change = change_of(args, rendered.clone(), "template applied through mistmcp")?;
        let report = commit_with_gate(ctx, devices, &device, &change, args, dry_run).await;
        if !matches!(
            report.outcome,
            Outcome::Committed | Outcome::DryRun | Outcome::NoChange
        ) {
            failed += 1;
        }
        let mut value = json!(report);
        value["rendered"] = Value::String(rendered);
        results.push(value);
    }
    Ok(answered(
        json!({"dry_run": dry_run, "results": results}),
        failed == names.len(),
    ))
}

async fn add_device(
    ctx: CallContext<'_>,
    devices: &JunosDevices,
    args: &Map<String, Value>,
) -> Result<Answered, ToolError> {
    let name = required(args, "device_name")?;
    if !mistcore_junos::inventory::valid_name(name) {
        return Err("`device_name` must be 1-64 printable characters without spaces".into());
    }
    let host_key = mistcore_junos::inventory::fingerprint(required(args, "host_key")?)
        .map_err(ToolError::from)?;
    let key = PathBuf::from(required(args, "ssh_key_path")?);
    let folder = devices.source.key_folder().ok_or_else(|| ToolError::from("this server's inventory has no folder for key files: add the device to devices.json and call reload_devices"))?;
    if !inside(&key, &folder) {
        return Err(format!("`ssh_key_path` must be a key file in the inventory's folder {}: the server reads no other files", folder.display()).into());
    }
    let device = Device {
        name: name.to_string(),
        ip: required(args, "device_ip")?.to_string(),
        port: args
            .get("device_port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(22),
        username: required(args, "username")?.to_string(),
        auth: Auth::Key(key),
        host_key: HostKey::Pinned(host_key.clone()),
    };
    if devices.device(name).is_ok() {
        return Err(format!("a device `{name}` is in the inventory already").into());
    }
    let write = Write {
        subject: format!("adding the device `{name}` to the inventory"),
        question: Question {
            message: format!(
                "Confirm adding this Junos device to the server's inventory (until it restarts):\nName: {name}\nAddress: {}\nUsername: {}\nKey file: {}\nHost key: {host_key}",
                policy::visible(&device.address()),
                policy::visible(&device.username),
                policy::visible(&device_key(&device)),
            ),
        },
        destination: Destination::Server,
    };
    policy::permitted(ctx.session.permissions(), &write.subject).map_err(ToolError::from)?;
    let limits = ctx.service.security_limits();
    if let Err(refused) = policy::authorize(ctx.gate(&limits), &write).await {
        return Ok(Answered {
            value: json!({"added": false, "message": refused.to_string()}),
            is_error: false,
            refused: Some(refused.kind()),
        });
    }
    devices
        .inventory
        .write()
        .map_err(|_| ToolError::from("the inventory is unavailable"))?
        .devices
        .insert(name.to_string(), device.clone());
    Ok(answered(
        json!({"added": true, "router": device.listing()}),
        false,
    ))
}

fn device_key(device: &Device) -> String {
    match &device.auth {
        Auth::Key(p) => p.display().to_string(),
        Auth::Password(_) => "(password)".into(),
    }
}

/// Whether `path` is a file inside `folder` (symbolic links and `..` resolved).
fn inside(path: &Path, folder: &Path) -> bool {
    match (std::fs::canonicalize(path), std::fs::canonicalize(folder)) {
        (Ok(p), Ok(f)) => p.starts_with(f) && p.is_file(),
        _ => false,
    }
}
