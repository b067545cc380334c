//! The Junos tools (category `junos`): Juniper's junos-mcp-server tool set, with its names and
//! arguments, over mistcore-junos. Listed when the session has a device inventory.
//!
//! Reads (`execute_junos_command`, configuration, diffs, facts) are read-only by construction:
//! commands pass the allow-list and the deny-list. Writes (`load_and_commit_config`, an applied
//! template, `add_device`) pass the one write gate ([`crate::policy`]) with the device's own
//! diff in the question, then the safe commit of [`mistcore_junos::commit`].

use crate::call::{CallContext, ToolError};
use crate::policy::{self, Destination, Question, Write};
use mistcore_junos::commit::{self, Change, Outcome, Plan, Report};
use mistcore_junos::config_policy::Format;
use mistcore_junos::inventory::{Auth, Device, HostKey};
use mistcore_junos::rpc::ReadFormat;
use mistcore_junos::session::{self, Answer, Read};
use mistcore_junos::{JunosError, template, words};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use mistcore_junos as core;

pub use mistcore_junos::access::{InventorySource, JunosDevices};

/// A Junos tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JunosTool {
    /// `get_router_list`.
    List,
    /// `execute_junos_command`.
    Command,
    /// `execute_junos_command_batch`.
    Batch,
    /// `execute_junos_pfe_command`.
    Pfe,
    /// `get_junos_config`.
    Config,
    /// `junos_config_diff`.
    Diff,
    /// `gather_device_facts`.
    Facts,
    /// `load_and_commit_config`.
    Commit,
    /// `render_and_apply_j2_template`.
    Template,
    /// `add_device`.
    Add,
    /// `reload_devices`.
    Reload,
}

/// Every Junos tool, in listing order.
pub const ALL: [JunosTool; 11] = [
    JunosTool::List,
    JunosTool::Command,
    JunosTool::Batch,
    JunosTool::Pfe,
    JunosTool::Config,
    JunosTool::Diff,
    JunosTool::Facts,
    JunosTool::Commit,
    JunosTool::Template,
    JunosTool::Add,
    JunosTool::Reload,
];

const TIMEOUT_PROP: &str = "timeout";

fn timeout_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 3600, "description": "Seconds the device has to answer (default 60)"})
}

impl JunosTool {
    /// Finds a Junos tool by name.
    pub fn find(name: &str) -> Option<JunosTool> {
        ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tool's name (junos-mcp-server's).
    pub fn name(self) -> &'static str {
        match self {
            JunosTool::List => "get_router_list",
            JunosTool::Command => "execute_junos_command",
            JunosTool::Batch => "execute_junos_command_batch",
            JunosTool::Pfe => "execute_junos_pfe_command",
            JunosTool::Config => "get_junos_config",
            JunosTool::Diff => "junos_config_diff",
            JunosTool::Facts => "gather_device_facts",
            JunosTool::Commit => "load_and_commit_config",
            JunosTool::Template => "render_and_apply_j2_template",
            JunosTool::Add => "add_device",
            JunosTool::Reload => "reload_devices",
        }
    }

    /// Whether the tool changes a device or the server's inventory (needs write tools to be listed).
    pub fn is_write(self) -> bool {
        matches!(self, JunosTool::Commit | JunosTool::Add)
    }

    /// Whether calling the tool may change something (a template applied).
    pub fn may_change(self) -> bool {
        self.is_write() || self == JunosTool::Template
    }

    /// The tool's description.
    pub fn description(self) -> &'static str {
        match self {
            JunosTool::List => {
                "List the Junos devices of the inventory (name, ip, port, username, login type, host key pinning); no passwords or keys."
            }
            JunosTool::Command => {
                "Run one read-only operational command (show, ping, traceroute, monitor traffic ... count N) on a Junos device over NETCONF and return its output. Junos abbreviations are understood; configuration, request, clear, file and shell commands are refused."
            }
            JunosTool::Batch => {
                "Run one read-only operational command on several Junos devices in parallel; each device answers for itself (output, error, duration_ms) within its own deadline."
            }
            JunosTool::Pfe => {
                "Run one read-only PFE command (show ...) on a Junos device's packet forwarding engine (target, default fpc0)."
            }
            JunosTool::Config => {
                "The configuration of a Junos device (show configuration | display inheritance no-comments), as set commands (default), text, json or xml."
            }
            JunosTool::Diff => {
                "The difference between a Junos device's configuration and rollback version N (show configuration | compare rollback N, N 1-49)."
            }
            JunosTool::Facts => {
                "Facts of a Junos device: host name, model, Junos version, serial number."
            }
            JunosTool::Commit => {
                "Load a configuration (set, text or xml) on a Junos device and commit it safely: lock, load, the diff and commit check shown to the human for confirmation, commit confirmed, a reachability check over a fresh session, the confirming commit, unlock. Any failure rolls back. Root authentication, login users and management access are refused."
            }
            JunosTool::Template => {
                "Render a Jinja2 template with YAML variables for one or more Junos devices. With dry_run (default) it returns the rendered configuration and each device's diff without committing; with apply_config true and dry_run false it commits like load_and_commit_config, each device confirmed by the human."
            }
            JunosTool::Add => {
                "Add a Junos device to this server's inventory (in memory until the server restarts): SSH key login only, with its host key fingerprint pinned; the key file must be in the inventory's folder."
            }
            JunosTool::Reload => {
                "Read the server's device inventory file again (the file the server was started with; no other file can be named)."
            }
        }
    }

    /// The tool's input schema.
    pub fn schema(self) -> Value {
        let router = json!({"type": "string", "description": "The device's name in the inventory (get_router_list)"});
        let (props, required): (Value, Vec<&str>) = match self {
            JunosTool::List => (json!({}), vec![]),
            // junos-mcp-server's `file_name` is taken only to be refused with the reason.
            JunosTool::Reload => (
                json!({"file_name": {"type": "string", "description": "Not accepted: the server re-reads only the inventory it was started with"}}),
                vec![],
            ),
            JunosTool::Command => (
                json!({"router_name": router, "command": {"type": "string", "description": "One operational command, e.g. `show interfaces terse`"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name", "command"],
            ),
            JunosTool::Batch => (
                json!({"router_names": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000, "description": "Device names"}, "command": {"type": "string", "description": "One operational command"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_names", "command"],
            ),
            JunosTool::Pfe => (
                json!({"router_name": router, "command": {"type": "string", "description": "A PFE show command, e.g. `show jnh 0 pool`"}, "target": {"type": "string", "description": "The PFE (default fpc0)"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name", "command"],
            ),
            JunosTool::Config => (
                json!({"router_name": router, "format": {"type": "string", "enum": ["set", "text", "json", "xml"], "description": "Default set"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Diff => (
                json!({"router_name": router, "version": {"type": "integer", "minimum": 1, "maximum": 49, "description": "Rollback version (default 1)"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Facts => (
                json!({"router_name": router, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Commit => (
                json!({
                    "router_name": router,
                    "config_text": {"type": "string", "description": "The configuration to load"},
                    "config_format": {"type": "string", "enum": ["set", "text", "xml"], "description": "Default set"},
                    "commit_comment": {"type": "string", "description": "The commit comment"},
                    "confirm_minutes": {"type": "integer", "minimum": 1, "maximum": 60, "description": "commit confirmed N: the device reverts by itself after N minutes unless confirmed (default 5)"},
                    "check_after_seconds": {"type": "integer", "minimum": 0, "maximum": 300, "description": "Seconds to wait before the reachability check (default 5)"},
                    TIMEOUT_PROP: timeout_schema()
                }),
                vec!["router_name", "config_text"],
            ),
            JunosTool::Template => (
                json!({
                    "template_content": {"type": "string", "description": "A Jinja2 template of Junos configuration"},
                    "vars_content": {"type": "string", "description": "YAML variables (a mapping); `router_name` is set for each device"},
                    "router_name": router,
                    "router_names": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                    "apply_config": {"type": "boolean", "description": "Commit the rendered configuration (default false)"},
                    "dry_run": {"type": "boolean", "description": "Only render and show each device's diff (default true)"},
                    "config_format": {"type": "string", "enum": ["set", "text", "xml"], "description": "Default set"},
                    "commit_comment": {"type": "string"},
                    "confirm_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
                    "check_after_seconds": {"type": "integer", "minimum": 0, "maximum": 300},
                    TIMEOUT_PROP: timeout_schema()
                }),
                vec!["template_content"],
            ),
            JunosTool::Add => (
                json!({
                    "device_name": {"type": "string"},
                    "device_ip": {"type": "string"},
                    "device_port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Default 22"},
                    "username": {"type": "string"},
                    "ssh_key_path": {"type": "string", "description": "A private key file in the inventory's folder"},
                    "host_key": {"type": "string", "description": "The device's SSH host key fingerprint (SHA256:...), verified out of band"}
                }),
                vec![
                    "device_name",
                    "device_ip",
                    "username",
                    "ssh_key_path",
                    "host_key",
                ],
            ),
        };
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
    }
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
            let names: Vec<&str> = args
                .get("router_names")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if names.is_empty() {
                return Err("`router_names` must name at least one device".into());
            }
            let command =
                words::check_command(required(args, "command")?, &devices.command_denylist)
                    .map_err(|e| ToolError::from(e.to_string()))?;
            let mut known = Vec::new();
            let mut unknown = Vec::new();
            for name in &names {
                match devices.device(name) {
                    Ok(d) => known.push(d),
                    Err(e) => unknown.push(Answer::of(name, Err(e), Duration::ZERO)),
                }
            }
            let mut results = session::run_batch(connector, &known, &command, deadline(args)).await;
            results.extend(unknown);
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
            let format: Format = arg_str(args, "config_format")
                .unwrap_or("set")
                .parse()
                .map_err(|e: JunosError| ToolError::from(e.to_string()))?;
            let change = Change {
                format,
                text: required(args, "config_text")?.to_string(),
                comment: arg_str(args, "commit_comment")
                    .unwrap_or("committed through mistmcp")
                    .to_string(),
            };
            let report = commit_with_gate(
                ctx,
                devices,
                &device,
                &change,
                plan(args),
                deadline(args),
                false,
            )
            .await;
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

/// Stage, ask the human through the write gate, then commit (or `dry_run`: stage and discard).
async fn commit_with_gate(
    ctx: CallContext<'_>,
    devices: &JunosDevices,
    device: &Device,
    change: &Change,
    plan: Plan,
    deadline: Duration,
    dry_run: bool,
) -> Report {
    let connector = devices.connector.as_ref();
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
    names.dedup();
    let apply = args
        .get("apply_config")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let dry_run = args.get("dry_run").and_then(Value::as_bool).unwrap_or(true) || !apply;
    let format: Format = arg_str(args, "config_format")
        .unwrap_or("set")
        .parse()
        .map_err(|e: JunosError| ToolError::from(e.to_string()))?;
    if names.is_empty() {
        if apply && !dry_run {
            return Err("applying a template needs `router_name` or `router_names`".into());
        }
        let rendered =
            template::render(tpl, &vars, "").map_err(|e| ToolError::from(e.to_string()))?;
        return Ok(answered(
            json!({"rendered": rendered, "dry_run": true}),
            false,
        ));
    }
    let mut results = Vec::new();
    let mut failed = 0;
    for name in &names {
        let rendered = match template::render(tpl, &vars, name) {
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
        let change = Change {
            format,
            text: rendered.clone(),
            comment: arg_str(args, "commit_comment")
                .unwrap_or("template applied through mistmcp")
                .to_string(),
        };
        let report = commit_with_gate(
            ctx,
            devices,
            &device,
            &change,
            plan(args),
            deadline(args),
            dry_run,
        )
        .await;
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
