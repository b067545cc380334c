//! `mist_utilities`: the official server's device utilities tool (see [`crate::devices`]).

use super::props::object;
use super::{Args, Source, Workflow};
use crate::call::ToolError;
use crate::devices::{self, UtilityRun};
use serde_json::{Value, json};
use std::time::Duration;

/// The platforms of `device_type`.
pub const DEVICE_TYPES: &[&str] = &["ap", "ex", "srx", "ssr"];

/// The workflow.
pub const WORKFLOWS: &[Workflow] = &[Workflow {
    name: "mist_utilities",
    title: "Device utilities",
    description: "Run device-side Mist utilities for AP, EX, SRX, and SSR devices. Call this tool with `device_type` only to list the supported utilities and their parameters for that platform. To execute a utility, set `utility`, `site_id`, `device_id`, and pass the utility's arguments inside `parameters`. The output is read from the Mist WebSocket stream until the device stays quiet (or the deadline passes: partial output is then marked incomplete). Utilities that change the device (port bounce, clears, DHCP release) need write tools and a confirmation.",
    write: None,
    schema: || {
        object(
            vec![
                (
                    "device_type",
                    json!({"type": "string", "enum": DEVICE_TYPES, "description": "Device platform to target. Use `ap`, `ex`, `srx`, or `ssr`."}),
                ),
                (
                    "utility",
                    nullable(
                        json!({"type": "string"}),
                        "Utility name to execute for the selected device platform. Leave this empty to list the supported utilities and required parameters for that platform. Examples: `ping`, `traceroute`, `retrieveArpTable`, `retrieveBgpSummary`, `retrieveRoutes`, `showServicePath`, `bouncePort`, `cableTest`.",
                    ),
                ),
                (
                    "site_id",
                    nullable(
                        json!({"type": "string", "format": "uuid"}),
                        "Site ID of the target device. Required when `utility` is set.",
                    ),
                ),
                (
                    "device_id",
                    nullable(
                        json!({"type": "string", "format": "uuid"}),
                        "Device ID of the target device. Required when `utility` is set. Retrieve it with `mist_search_device`.",
                    ),
                ),
                (
                    "parameters",
                    nullable(
                        json!({"type": "object", "additionalProperties": true}),
                        "Utility-specific arguments as a JSON object. Examples: {\"host\": \"8.8.8.8\"}, {\"port_ids\": [\"ge-0/0/1\"]}, {\"protocol\": \"udp\", \"port\": 33434}, {\"node\": \"node0\", \"service_name\": \"internet\"}.",
                    ),
                ),
                (
                    "timeout_seconds",
                    nullable(
                        json!({"type": "integer"}),
                        "Seconds without output after which the command is taken as complete (each utility has its default).",
                    ),
                ),
            ],
            &["device_type"],
        )
    },
    source: Source::Utilities,
}];

/// An optional property as the official server declares it: `anyOf` the type and `null`.
fn nullable(schema: Value, description: &str) -> Value {
    json!({"anyOf": [schema, {"type": "null"}], "default": null, "description": description})
}

/// What a `mist_utilities` call asks for.
pub enum Ask<'a> {
    /// The utilities of a platform.
    List(Value),
    /// Running one.
    Run(UtilityRun<'a>),
}

/// Reads the arguments of a `mist_utilities` call.
pub fn plan<'a>(a: &Args<'a>) -> Result<Ask<'a>, ToolError> {
    let device_type = a.selector("device_type");
    let Some(name) = a.str("utility") else {
        return Ok(Ask::List(devices::listing(device_type)));
    };
    let utility = devices::utility(device_type, name).ok_or_else(|| {
        let names: Vec<&str> = devices::UTILITIES
            .iter()
            .filter(|u| u.devices.contains(&device_type))
            .map(|u| u.name)
            .collect();
        let near = crate::catalog::closest(name, names.iter().copied(), 3);
        format!(
            "`{name}` is not a utility of `{device_type}` devices{}; they have: {}",
            if near.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", near.join(", "))
            },
            names.join(", ")
        )
    })?;
    let site_id = a.require("site_id", "to run a utility")?;
    let device_id = a.require("device_id", "to run a utility")?;
    let params = match a.value("parameters") {
        None => serde_json::Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(other) => {
            return Err(format!(
                "`parameters` must be a JSON object such as {{\"host\": \"8.8.8.8\"}}, got {other}"
            )
            .into());
        }
    };
    let idle = a
        .value("timeout_seconds")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .map(|s| Duration::from_secs(s.clamp(1, 300)));
    Ok(Ask::Run(UtilityRun {
        device_type,
        utility,
        site_id,
        device_id,
        params,
        idle,
    }))
}
