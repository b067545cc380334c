//! The device tools: `mist_utilities` runs and `mist_run_shell_command`, on top of the client's
//! device commands ([`mistcore_client::device`], re-exported here). What this layer adds is the
//! tool's side: the one write gate for the utilities that change a device, reading the shell
//! tool's arguments, the host's deadline and streams, and error texts for the model.

use crate::call::{CallContext, ToolError};
use crate::policy::{self, Refused};
use crate::schema;
use crate::stream::DeviceStreams;
use rmcp::model::JsonObject;
use serde_json::{Value, json};
use std::time::Duration;

pub use mistcore_client::device::*;

fn link<'a>(
    ctx: &'a CallContext<'a>,
    streams: Option<&'a dyn DeviceStreams>,
    now: &'a (dyn Fn() -> Duration + Send + Sync),
) -> Link<'a> {
    Link {
        transport: ctx.transport,
        credentials: &ctx.session.credentials,
        streams,
        now,
    }
}

fn tool_error(ctx: &CallContext<'_>, e: CommandError) -> ToolError {
    match e {
        CommandError::Api(api) => ctx.session.api_error_text(&api).into(),
        other => other.to_string().into(),
    }
}

/// Runs a utility: the write gate for those that change the device, then the command.
pub async fn run_utility(
    ctx: CallContext<'_>,
    run: UtilityRun<'_>,
    progress: &Progress<'_>,
) -> Result<Value, ToolError> {
    let u = run.utility;
    u.check(&run.params).map_err(|e| tool_error(&ctx, e))?;
    if u.write {
        let write = policy::utility_write(&run);
        let limits = ctx.service.security_limits();
        match policy::authorize(ctx.gate(&limits), &write).await {
            Ok(()) => {}
            // The human's own "no" is an answer, in the shape the official server gives it.
            Err(Refused::Declined(_)) => {
                return Ok(json!({"declined": "by the user: nothing was sent to the device"}));
            }
            Err(Refused::Cancelled(_)) => {
                return Ok(json!({"cancelled": "by the user: nothing was sent to the device"}));
            }
            Err(other) => return Err(other.into()),
        }
    }
    let now = || ctx.service.now();
    let deadline = ctx.service.now() + ctx.service.command_deadline();
    run_command(&ctx, ctx.service.devices(), &now, run, deadline, progress).await
}

async fn run_command(
    ctx: &CallContext<'_>,
    streams: Option<&dyn DeviceStreams>,
    now: &(dyn Fn() -> Duration + Send + Sync),
    run: UtilityRun<'_>,
    deadline: Duration,
    progress: &Progress<'_>,
) -> Result<Value, ToolError> {
    mistcore_client::device::run_utility(link(ctx, streams, now), run, deadline, progress)
        .await
        .map_err(|e| tool_error(ctx, e))
}

/// Runs `mist_run_shell_command`: one checked command in a fresh remote shell of the device.
pub async fn run_shell(
    ctx: CallContext<'_>,
    streams: &dyn DeviceStreams,
    args: &JsonObject,
) -> Result<Value, ToolError> {
    let text = |name: &str| -> Result<&str, ToolError> {
        args.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ToolError::from(format!("missing required argument `{name}`")))
    };
    if let Some(extra) = args
        .keys()
        .find(|k| !["site_id", "device_id", "command", "timeout_seconds"].contains(&k.as_str()))
    {
        return Err(format!(
            "unknown argument `{extra}`; accepted: site_id, device_id, command, timeout_seconds"
        )
        .into());
    }
    let (site_id, device_id, command) = (text("site_id")?, text("device_id")?, text("command")?);
    for (name, id) in [("site_id", site_id), ("device_id", device_id)] {
        if !schema::is_uuid(id) {
            return Err(format!("`{name}` must be a UUID, got `{id}`").into());
        }
    }
    let deny = streams.shell_denylist();
    let command = check_shell_command(command, deny.as_deref()).map_err(|e| tool_error(&ctx, e))?;
    let timeout = args
        .get("timeout_seconds")
        .and_then(Value::as_u64)
        .unwrap_or(30)
        .clamp(1, 300);
    let now = || ctx.service.now();
    mistcore_client::device::run_shell(
        link(&ctx, Some(streams), &now),
        site_id,
        device_id,
        &command,
        Duration::from_secs(timeout),
    )
    .await
    .map_err(|e| tool_error(&ctx, e))
}
