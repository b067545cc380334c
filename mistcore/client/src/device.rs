//! Commands on devices: the Mist device utilities (ping, traceroute, show ..., cable test, port
//! bounce, ...) whose output arrives on the Mist WebSocket stream, and one-command remote shells.
//!
//! Plain client operations: the host opens WebSockets ([`DeviceStreams`]); everything else is
//! here: the utilities of each platform as the official server offers them, the subscription,
//! reading the messages of one command's session with the official timers (first message, idle,
//! overall deadline), and the shell's command checks and output cap. Whether a command may run
//! (the write gate for the utilities that change a device) is the caller's decision.
//!
//! As in the official client, nothing in the stream marks the end of an output: a command is
//! complete when no message came for its idle time (or the stream closed); when the deadline
//! passes first, the output so far is returned marked incomplete.

use crate::api::{self, ApiError, Credentials, HttpTransport};
use crate::schema;
use crate::stream::{DeviceStreams, Stream, StreamError, StreamEvent};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Where a utility's output comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The cloud's event stream, channel `/sites/{site}/devices/{device}/cmd`.
    Stream,
    /// A WebSocket at the `url` the starting call answers.
    Url,
    /// The starting call's answer itself.
    Rest,
}

/// How a utility's arguments become the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// The parameters as they are.
    Same,
    /// `port_ids` sent as `ports`.
    Ports,
    /// `port_id` sent as `port`.
    Port,
    /// `{"protocol": "bgp"}`.
    Bgp,
    /// The parameters plus `duration: 1, interval: 1`.
    ArpWindow,
    /// `{"duration": 60, "port": port_id}`.
    Monitor,
}

/// One device utility, as the official `mist_utilities` offers it.
#[derive(Debug, Clone, Copy)]
pub struct Utility {
    /// Its name in `mist_utilities`.
    pub name: &'static str,
    /// The platforms that have it.
    pub devices: &'static [&'static str],
    /// The operation that starts it.
    pub operation: &'static str,
    /// Its parameters.
    pub params: &'static [UtilityParam],
    /// Seconds without output after which it is complete.
    pub idle_seconds: u64,
    /// Where its output comes from.
    pub output: Output,
    /// It changes the device's state: write tools and a confirmation are needed.
    pub write: bool,
    body: Body,
}

/// One parameter of a utility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtilityParam {
    /// Its name in `parameters`.
    pub name: &'static str,
    /// Whether the utility needs it.
    pub required: bool,
}

const fn required(name: &'static str) -> UtilityParam {
    UtilityParam {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> UtilityParam {
    UtilityParam {
        name,
        required: false,
    }
}

const ALL_GW: &[&str] = &["ex", "srx", "ssr"];
const ROUTERS: &[&str] = &["srx", "ssr"];

/// Every utility of every platform (the official server's list, from the mistapi package).
pub const UTILITIES: &[Utility] = &[
    Utility {
        name: "ping",
        devices: &["ap", "ex", "srx", "ssr"],
        operation: "pingFromDevice",
        params: &[
            required("host"),
            optional("count"),
            optional("node"),
            optional("size"),
            optional("vrf"),
        ],
        idle_seconds: 3,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "traceroute",
        devices: &["ap", "ex", "srx", "ssr"],
        operation: "tracerouteFromDevice",
        params: &[required("host"), optional("protocol"), optional("port")],
        idle_seconds: 10,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveArpTable",
        devices: &["ap", "ssr"],
        operation: "arpFromDevice",
        params: &[optional("node")],
        idle_seconds: 1,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveArpTable",
        devices: &["ex", "srx"],
        operation: "showSiteDeviceArpTable",
        params: &[optional("ip"), optional("port_id"), optional("vrf")],
        idle_seconds: 1,
        output: Output::Stream,
        write: false,
        body: Body::ArpWindow,
    },
    Utility {
        name: "retrieveBgpSummary",
        devices: ALL_GW,
        operation: "showSiteDeviceBgpSummary",
        params: &[],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Bgp,
    },
    Utility {
        name: "retrieveDhcpLeases",
        devices: ALL_GW,
        operation: "showSiteDeviceDhcpLeases",
        params: &[required("network"), optional("node")],
        idle_seconds: 15,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "releaseDhcpLeases",
        devices: ALL_GW,
        operation: "releaseSiteDeviceDhcpLease",
        params: &[
            optional("macs"),
            optional("network"),
            optional("node"),
            optional("port_id"),
        ],
        idle_seconds: 5,
        output: Output::Stream,
        write: true,
        body: Body::Same,
    },
    Utility {
        name: "retrieveMacTable",
        devices: &["ex"],
        operation: "showSiteDeviceMacTable",
        params: &[
            optional("mac_address"),
            optional("port_id"),
            optional("vlan_id"),
        ],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "clearMacTable",
        devices: &["ex"],
        operation: "clearSiteDeviceMacTable",
        params: &[
            optional("mac_address"),
            optional("port_id"),
            optional("vlan_id"),
        ],
        idle_seconds: 0,
        output: Output::Rest,
        write: true,
        body: Body::Same,
    },
    Utility {
        name: "clearLearnedMac",
        devices: &["ex"],
        operation: "clearAllLearnedMacsFromPortOnSwitch",
        params: &[required("port_ids")],
        idle_seconds: 0,
        output: Output::Rest,
        write: true,
        body: Body::Ports,
    },
    Utility {
        name: "clearBpduError",
        devices: &["ex"],
        operation: "clearBpduErrorsFromPortsOnSwitch",
        params: &[required("port_ids")],
        idle_seconds: 0,
        output: Output::Rest,
        write: true,
        body: Body::Ports,
    },
    Utility {
        name: "clearDot1xSessions",
        devices: &["ex"],
        operation: "clearSiteDeviceDot1xSession",
        params: &[required("port_ids")],
        idle_seconds: 0,
        output: Output::Rest,
        write: true,
        body: Body::Ports,
    },
    Utility {
        name: "clearHitCount",
        devices: &["ex"],
        operation: "clearSiteDevicePolicyHitCount",
        params: &[required("policy_name")],
        idle_seconds: 0,
        output: Output::Rest,
        write: true,
        body: Body::Same,
    },
    Utility {
        name: "bouncePort",
        devices: &["ex", "srx", "ssr"],
        operation: "bounceDevicePort",
        params: &[required("port_ids")],
        idle_seconds: 5,
        output: Output::Stream,
        write: true,
        body: Body::Ports,
    },
    Utility {
        name: "cableTest",
        devices: &["ex"],
        operation: "cableTestFromSwitch",
        params: &[required("port_id")],
        idle_seconds: 10,
        output: Output::Stream,
        write: false,
        body: Body::Port,
    },
    Utility {
        name: "monitorTraffic",
        devices: &["ex", "srx"],
        operation: "monitorSiteDeviceTraffic",
        params: &[optional("port_id")],
        idle_seconds: 30,
        output: Output::Url,
        write: false,
        body: Body::Monitor,
    },
    Utility {
        name: "topCommand",
        devices: &["ex", "srx"],
        operation: "runSiteSrxTopCommand",
        params: &[],
        idle_seconds: 10,
        output: Output::Url,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveOspfDatabase",
        devices: ROUTERS,
        operation: "showSiteGatewayOspfDatabase",
        params: &[
            optional("node"),
            optional("self_originate"),
            optional("vrf"),
        ],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveOspfInterfaces",
        devices: ROUTERS,
        operation: "showSiteGatewayOspfInterfaces",
        params: &[optional("node"), optional("port_id"), optional("vrf")],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveOspfNeighbors",
        devices: ROUTERS,
        operation: "showSiteGatewayOspfNeighbors",
        params: &[
            optional("neighbor"),
            optional("node"),
            optional("port_id"),
            optional("vrf"),
        ],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveOspfSummary",
        devices: ROUTERS,
        operation: "showSiteGatewayOspfSummary",
        params: &[optional("node"), optional("vrf")],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveRoutes",
        devices: ROUTERS,
        operation: "showSiteSsrAndSrxRoutes",
        params: &[
            optional("node"),
            optional("prefix"),
            optional("protocol"),
            optional("route_type"),
            optional("vrf"),
        ],
        idle_seconds: 2,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "showServicePath",
        devices: &["ssr"],
        operation: "showSiteSsrServicePath",
        params: &[optional("node"), optional("service_name")],
        idle_seconds: 5,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "retrieveSessions",
        devices: ROUTERS,
        operation: "showSiteSsrAndSrxSessions",
        params: &[
            optional("node"),
            optional("service_name"),
            optional("service_ids"),
        ],
        idle_seconds: 2,
        output: Output::Stream,
        write: false,
        body: Body::Same,
    },
    Utility {
        name: "clearSessions",
        devices: ROUTERS,
        operation: "clearSiteDeviceSession",
        params: &[
            optional("node"),
            optional("service_name"),
            optional("service_ids"),
            optional("vrf"),
        ],
        idle_seconds: 2,
        output: Output::Stream,
        write: true,
        body: Body::Same,
    },
];

/// The utility `name` of platform `device_type`.
pub fn utility(device_type: &str, name: &str) -> Option<&'static Utility> {
    UTILITIES
        .iter()
        .find(|u| u.name == name && u.devices.contains(&device_type))
}

/// The utilities of a platform, with their parameters (the listing of `mist_utilities`).
pub fn listing(device_type: &str) -> Value {
    let utilities: Vec<Value> = UTILITIES
        .iter()
        .filter(|u| u.devices.contains(&device_type))
        .map(|u| {
            let required: Vec<&str> = u
                .params
                .iter()
                .filter(|p| p.required)
                .map(|p| p.name)
                .collect();
            let optional: Vec<&str> = u
                .params
                .iter()
                .filter(|p| !p.required)
                .map(|p| p.name)
                .collect();
            json!({
                "utility": u.name,
                "required_parameters": required,
                "optional_parameters": optional,
                "changes_the_device": u.write,
            })
        })
        .collect();
    json!({ "device_type": device_type, "utilities": utilities })
}

impl Utility {
    /// The request body for `params`.
    fn body(&self, params: &Map<String, Value>) -> Value {
        let mut body = params.clone();
        match self.body {
            Body::Same => {}
            Body::Ports => {
                if let Some(ports) = body.remove("port_ids") {
                    body.insert("ports".into(), ports);
                }
            }
            Body::Port => {
                if let Some(port) = body.remove("port_id") {
                    body.insert("port".into(), port);
                }
            }
            Body::Bgp => return json!({ "protocol": "bgp" }),
            Body::ArpWindow => {
                body.insert("duration".into(), json!(1));
                body.insert("interval".into(), json!(1));
            }
            Body::Monitor => {
                let mut m = Map::new();
                m.insert("duration".into(), json!(60));
                if let Some(port) = body.remove("port_id") {
                    m.insert("port".into(), port);
                }
                return Value::Object(m);
            }
        }
        Value::Object(body)
    }

    /// Checks `params` against the utility's parameters.
    pub fn check(&self, params: &Map<String, Value>) -> Result<(), CommandError> {
        let known: Vec<&str> = self.params.iter().map(|p| p.name).collect();
        if let Some(extra) = params.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "`{}` takes no parameter `{extra}`; its parameters: {}",
                self.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
            .into());
        }
        if let Some(missing) = self
            .params
            .iter()
            .find(|p| p.required && !params.contains_key(p.name))
            .map(|p| p.name)
        {
            return Err(format!(
                "`{}` needs the parameter `{missing}` in `parameters`, e.g. {{\"{missing}\": ...}}",
                self.name
            )
            .into());
        }
        Ok(())
    }
}

/// The arguments of one utility run.
#[derive(Debug, Clone)]
pub struct UtilityRun<'a> {
    /// The platform.
    pub device_type: &'a str,
    /// The utility.
    pub utility: &'static Utility,
    /// The site.
    pub site_id: &'a str,
    /// The device.
    pub device_id: &'a str,
    /// Its parameters.
    pub params: Map<String, Value>,
    /// The idle time after which the output is complete (`timeout_seconds`).
    pub idle: Option<Duration>,
}

/// The longest wait for a first message.
pub const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a device command did not run or did not finish.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The command or its parameters are refused before anything is sent; the text says why.
    #[error("{0}")]
    Refused(String),
    /// The call that starts the command failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The stream could not be opened or written to.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// Mist or the stream answered something unusable; the text says what.
    #[error("{0}")]
    Failed(String),
    /// The host has no WebSockets to read the output from.
    #[error(
        "device commands read their output from the Mist WebSocket stream, which this host cannot open"
    )]
    NoStreams,
}

impl From<String> for CommandError {
    fn from(reason: String) -> Self {
        CommandError::Refused(reason)
    }
}

impl From<&str> for CommandError {
    fn from(reason: &str) -> Self {
        CommandError::Refused(reason.to_string())
    }
}

/// What device commands need from their host.
#[derive(Clone, Copy)]
pub struct Link<'a> {
    /// The way to Mist, for the call that starts a command.
    pub transport: &'a dyn HttpTransport,
    /// The token and cloud.
    pub credentials: &'a Credentials,
    /// The host's WebSockets, where it has them.
    pub streams: Option<&'a dyn DeviceStreams>,
    /// A monotonic clock, for the deadlines.
    pub now: &'a (dyn Fn() -> Duration + Send + Sync),
}

impl Link<'_> {
    fn streams(&self) -> Result<&dyn DeviceStreams, CommandError> {
        self.streams.ok_or(CommandError::NoStreams)
    }
}

/// Told of each output message: how many so far, and the new output.
pub type Progress<'p> = dyn Fn(usize, &str) + Send + Sync + 'p;

/// Sends the request of `operation` with a body, returning the answer's JSON.
async fn start(
    link: Link<'_>,
    operation: &str,
    site_id: &str,
    device_id: &str,
    body: Value,
) -> Result<Value, CommandError> {
    let op = crate::catalog::operation(operation).ok_or_else(|| {
        CommandError::Failed(format!("operation {operation} is missing from the catalog"))
    })?;
    let mut args = Map::new();
    args.insert("site_id".into(), json!(site_id));
    args.insert("device_id".into(), json!(device_id));
    args.insert("body".into(), body);
    let validated =
        schema::validate(op, &args).map_err(|e| CommandError::Refused(e.to_string()))?;
    Ok(
        api::execute(link.transport, link.credentials, op, &validated)
            .await?
            .body,
    )
}

/// Runs a utility whose run the caller has allowed: the starting call, then the output from the
/// stream (or the answer itself), until it is complete or `deadline` (on the link's clock).
pub async fn run_utility(
    link: Link<'_>,
    run: UtilityRun<'_>,
    deadline: Duration,
    progress: &Progress<'_>,
) -> Result<Value, CommandError> {
    let u = run.utility;
    u.check(&run.params)?;
    let body = u.body(&run.params);
    if u.output == Output::Rest {
        let answer = start(link, u.operation, run.site_id, run.device_id, body).await?;
        return Ok(json!({ "utility": u.name, "result": answer, "complete": true }));
    }
    let streams = link.streams()?;
    let idle = run
        .idle
        .unwrap_or(Duration::from_secs(u.idle_seconds.max(1)));
    let (mut stream, session) = match u.output {
        Output::Stream => {
            let mut stream = streams
                .open(&streams.stream_url(link.credentials), link.credentials)
                .await?;
            let channel = format!("/sites/{}/devices/{}/cmd", run.site_id, run.device_id);
            stream
                .send_text(&json!({ "subscribe": channel }).to_string())
                .await?;
            // Wait (briefly) for the subscription to be in place, so no output is missed.
            if let StreamEvent::Failed(e) = stream.next(Duration::from_secs(2)).await {
                return Err(CommandError::Failed(format!("the Mist stream failed: {e}")));
            }
            let answer = start(link, u.operation, run.site_id, run.device_id, body).await?;
            let session = answer
                .get("session")
                .and_then(Value::as_str)
                .map(str::to_string);
            (stream, session)
        }
        _ => {
            let answer = start(link, u.operation, run.site_id, run.device_id, body).await?;
            let url = answer.get("url").and_then(Value::as_str).ok_or_else(|| {
                CommandError::Failed(format!(
                    "Mist started `{}` but gave no stream url: {answer}",
                    u.name
                ))
            })?;
            (streams.open(url, link.credentials).await?, None)
        }
    };
    let mut read = read_output(
        stream.as_mut(),
        link,
        session.as_deref(),
        idle,
        deadline,
        progress,
    )
    .await;
    // The output is capped like a shell's: a route table can be megabytes.
    let truncated = cap_output(&mut read.output);
    if truncated {
        read.complete = false;
        read.why = format!(
            "the output was cut at {SHELL_OUTPUT_CAP} bytes: narrow it with the utility's parameters (prefix, port_id, ...)"
        );
    }
    Ok(json!({
        "utility": u.name,
        "device_type": run.device_type,
        "session": session,
        "output": read.output,
        "complete": read.complete,
        "messages": read.messages,
        "truncated": truncated,
        "note": (!read.complete).then_some(read.why),
    }))
}

/// What was read of one command's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The output, in order.
    pub output: String,
    /// Whether it ended normally (idle time or closed stream) rather than at the deadline.
    pub complete: bool,
    /// The messages of this command.
    pub messages: usize,
    /// Why it is incomplete.
    pub why: String,
}

/// The output chunk of a stream message for `session` (all sessions when `None`).
pub fn message_output(text: &str, session: Option<&str>) -> Option<String> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Some(text.to_string());
    };
    if v.get("event")
        .and_then(Value::as_str)
        .is_some_and(|e| e != "data")
    {
        return None;
    }
    let mut data = v.get("data").cloned().unwrap_or(Value::Null);
    if let Value::String(s) = &data
        && let Ok(inner) = serde_json::from_str::<Value>(s)
    {
        data = inner;
    }
    if let Some(want) = session
        && data.get("session").and_then(Value::as_str) != Some(want)
    {
        return None;
    }
    data.get("raw").and_then(Value::as_str).map(str::to_string)
}

async fn read_output(
    stream: &mut dyn Stream,
    link: Link<'_>,
    session: Option<&str>,
    idle: Duration,
    deadline: Duration,
    progress: &Progress<'_>,
) -> Read {
    let mut read = Read {
        output: String::new(),
        complete: false,
        messages: 0,
        why: String::new(),
    };
    loop {
        let left = deadline.saturating_sub((link.now)());
        if left.is_zero() {
            read.why =
                "the deadline passed before the output was complete: this is partial output".into();
            return read;
        }
        let wait = if read.messages == 0 {
            FIRST_MESSAGE_TIMEOUT
        } else {
            idle
        };
        match stream.next(wait.min(left)).await {
            StreamEvent::Message(text) => {
                if let Some(chunk) = message_output(&text, session) {
                    read.output.push_str(&chunk);
                    read.messages += 1;
                    progress(read.messages, &chunk);
                }
            }
            StreamEvent::Idle if read.messages > 0 && wait <= left => {
                read.complete = true;
                return read;
            }
            StreamEvent::Idle if wait <= left => {
                read.why = format!("no output within {} s", wait.as_secs());
                return read;
            }
            StreamEvent::Idle => {}
            StreamEvent::Closed => {
                read.complete = read.messages > 0;
                if !read.complete {
                    read.why = "the stream closed before any output".into();
                }
                return read;
            }
            StreamEvent::Failed(e) => {
                read.why = format!("the stream failed: {e}");
                return read;
            }
        }
    }
}

/// The commands a remote shell refuses by default: configuration, state changes and ways out
/// of the operational CLI. Prefixes of the normalized (lower-case, single-spaced) command.
pub const DEFAULT_SHELL_DENYLIST: &[&str] = &[
    // `$9$` secrets in a configuration are reversible; allow it with a list of your own
    // (MISTMCP_SHELL_DENYLIST) that leaves this line out.
    "show configuration",
    "configure",
    "edit",
    "set",
    "delete",
    "commit",
    "rollback",
    "load",
    "save",
    "request",
    "restart",
    "start",
    "clear",
    "file",
    "run",
    "exec",
    "op",
    "test",
    "monitor",
    "cli",
    "shell",
    "su",
    "sudo",
    "exit",
    "quit",
    "copy",
    "deactivate",
    "activate",
];

/// [`DEFAULT_SHELL_DENYLIST`] as the owned list [`check_shell_command`] takes.
pub fn default_shell_denylist() -> Vec<String> {
    DEFAULT_SHELL_DENYLIST
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// A deny-list written as text (`MISTMCP_SHELL_DENYLIST`: a file natively, a binding on the
/// edge): one entry per line, blank lines and `#` comments ignored; `None` when it holds no
/// entry, and then every shell command is refused.
pub fn shell_denylist_from_text(text: &str) -> Option<Vec<String>> {
    let entries: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// The first words a remote shell accepts: read-only operational commands.
pub const SHELL_VERBS: &[&str] = &["show", "ping", "traceroute"];

/// What may follow `|` in a shell command.
const SHELL_PIPES: &[&str] = &[
    "match", "except", "count", "last", "no-more", "display", "find", "trim", "resolve",
];

/// Checks one shell command: a read-only operational verb, nothing on the deny-list, no
/// command chaining, only filtering pipes. A missing deny-list refuses everything.
pub fn check_shell_command(
    command: &str,
    denylist: Option<&[String]>,
) -> Result<String, CommandError> {
    let Some(denylist) = denylist else {
        return Err("no shell deny-list is configured (MISTMCP_SHELL_DENYLIST is missing or unreadable): shell commands are refused".into());
    };
    // Only printable ASCII and spaces: control characters edit the device's command line
    // (Ctrl-U clears it, Ctrl-H deletes) after the checks below, and quotes could hide a `|`.
    if let Some(c) = command
        .chars()
        .find(|c| !(*c == ' ' || *c == '\t' || c.is_ascii_graphic()) || *c == '"' || *c == '\'')
    {
        return Err(format!(
            "`command` holds {c:?}: only printable ASCII without quotes is accepted"
        )
        .into());
    }
    let normalized = command
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if normalized.is_empty() {
        return Err(
            "`command` is empty: give one operational command such as `show interfaces terse`"
                .into(),
        );
    }
    if normalized.contains([';', '`', '\n', '\r', '&', '$', '>', '<']) {
        return Err(format!(
            "`{command}` chains or redirects commands: give exactly one operational command"
        )
        .into());
    }
    let mut parts = normalized.split('|').map(str::trim);
    let first = parts.next().unwrap_or_default();
    let verb = first.split(' ').next().unwrap_or_default();
    if !SHELL_VERBS.contains(&verb) {
        return Err(format!(
            "`{command}` is not a read-only command: it must start with {}",
            SHELL_VERBS.join(", ")
        )
        .into());
    }
    for pipe in parts {
        let word = pipe.split(' ').next().unwrap_or_default();
        if !SHELL_PIPES.contains(&word) {
            return Err(format!(
                "`| {word}` is not allowed: only {} may follow a pipe",
                SHELL_PIPES.join(", ")
            )
            .into());
        }
    }
    // Junos accepts any unambiguous abbreviation: the one deny-list engine matches typed words
    // as prefixes of denied words (`show conf` matches `show configuration`), at the start and
    // after each pipe.
    let segments: Vec<Vec<&str>> = normalized
        .split('|')
        .map(|seg| seg.split_whitespace().collect())
        .collect();
    if let Some(entry) = mistcore_junos::words::first_denied(&segments, denylist) {
        return Err(format!("`{command}` is refused by the shell deny-list (`{entry}`)").into());
    }
    Ok(normalized)
}

/// Removes terminal escape sequences (colours, cursor moves) and carriage returns.
pub fn plain_text(raw: &str) -> String {
    static ESCAPES: std::sync::OnceLock<regex_lite::Regex> = std::sync::OnceLock::new();
    let re = ESCAPES.get_or_init(|| {
        regex_lite::Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")
            .expect("a valid pattern")
    });
    re.replace_all(raw, "").replace('\r', "")
}

/// The most output a shell command or a utility returns.
pub const SHELL_OUTPUT_CAP: usize = 64 * 1024;

/// Cuts `output` to [`SHELL_OUTPUT_CAP`] at a character boundary; whether it was cut.
fn cap_output(output: &mut String) -> bool {
    mistcore_junos::session::cut(output, SHELL_OUTPUT_CAP)
}

/// Runs one shell command, already checked with [`check_shell_command`], in a fresh remote
/// shell of the device; the output ends when the device is quiet for 3 s or at `timeout`.
pub async fn run_shell(
    link: Link<'_>,
    site_id: &str,
    device_id: &str,
    command: &str,
    timeout: Duration,
) -> Result<Value, CommandError> {
    let streams = link.streams()?;
    let answer = start(
        link,
        "createSiteDeviceShellSession",
        site_id,
        device_id,
        json!({}),
    )
    .await?;
    let url = answer.get("url").and_then(Value::as_str).ok_or_else(|| {
        CommandError::Failed(format!("Mist opened no shell for this device: {answer}"))
    })?;
    let mut stream = streams.open(url, link.credentials).await?;
    stream
        .send_text(&json!({"resize": {"width": 200, "height": 50}}).to_string())
        .await?;
    stream
        .send_binary(format!("\u{0}{command}\n").as_bytes())
        .await?;
    let deadline = (link.now)() + timeout;
    let mut output = String::new();
    let (mut complete, mut truncated) = (false, false);
    loop {
        let left = deadline.saturating_sub((link.now)());
        if left.is_zero() {
            break;
        }
        // Output is complete when the device stays quiet for 3 s after answering.
        let wait = if output.is_empty() {
            left
        } else {
            Duration::from_secs(3).min(left)
        };
        match stream.next(wait).await {
            StreamEvent::Message(chunk) => {
                output.push_str(&plain_text(&chunk));
                if cap_output(&mut output) {
                    truncated = true;
                    break;
                }
            }
            StreamEvent::Idle if !output.is_empty() && wait < left => {
                complete = true;
                break;
            }
            StreamEvent::Idle => {}
            StreamEvent::Closed => {
                complete = !output.is_empty();
                break;
            }
            StreamEvent::Failed(e) => {
                return Err(CommandError::Failed(format!(
                    "the shell stream failed: {e}"
                )));
            }
        }
    }
    Ok(json!({
        "command": command,
        "output": output,
        "complete": complete && !truncated,
        "truncated": truncated,
        "note": if truncated {
            Some(format!("the output was cut at {SHELL_OUTPUT_CAP} bytes: narrow it with `| match ...` or `| last N`"))
        } else if !complete {
            Some(format!("the deadline ({} s) passed before the output was complete: this is partial output", timeout.as_secs()))
        } else {
            None
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_utility_starts_with_an_operation_of_the_catalog() {
        for u in UTILITIES {
            let op = crate::catalog::operation(u.operation).unwrap_or_else(|| {
                panic!("{} calls {}, missing from the spec", u.name, u.operation)
            });
            assert_eq!(op.method, crate::catalog::Method::Post, "{}", u.name);
        }
        assert_eq!(
            utility("ex", "retrieveArpTable").map(|u| u.operation),
            Some("showSiteDeviceArpTable")
        );
        assert_eq!(
            utility("ap", "retrieveArpTable").map(|u| u.operation),
            Some("arpFromDevice")
        );
        assert!(utility("ap", "bouncePort").is_none());
    }

    #[test]
    fn stream_urls_follow_the_cloud() {
        let url = |u: &str| crate::stream::stream_url(&url::Url::parse(u).expect("url"));
        assert_eq!(
            url("https://api.mist.com"),
            "wss://api-ws.mist.com/api-ws/v1/stream"
        );
        assert_eq!(
            url("https://api.eu.mist.com"),
            "wss://api-ws.eu.mist.com/api-ws/v1/stream"
        );
        assert_eq!(
            url("http://127.0.0.1:4010"),
            "ws://127.0.0.1:4010/api-ws/v1/stream"
        );
    }

    #[test]
    fn messages_of_one_session_only() {
        let m = r#"{"event":"data","channel":"/sites/s/devices/d/cmd","data":{"session":"a","raw":"64 bytes\n"}}"#;
        assert_eq!(message_output(m, Some("a")).as_deref(), Some("64 bytes\n"));
        assert_eq!(message_output(m, Some("b")), None);
        let nested = r#"{"event":"data","data":"{\"session\":\"a\",\"raw\":\"x\"}"}"#;
        assert_eq!(message_output(nested, Some("a")).as_deref(), Some("x"));
        assert_eq!(
            message_output(r#"{"event":"channel_subscribed","channel":"c"}"#, None),
            None
        );
    }

    #[test]
    fn the_shell_takes_only_read_only_commands() {
        let deny: Vec<String> = DEFAULT_SHELL_DENYLIST
            .iter()
            .map(|s| s.to_string())
            .collect();
        let check = |c: &str| check_shell_command(c, Some(&deny));
        assert_eq!(
            check("  show   interfaces terse | match ge- ").as_deref(),
            Ok("show interfaces terse | match ge-")
        );
        assert!(check("ping 8.8.8.8 count 3").is_ok());
        for bad in [
            "configure",
            "set system host-name x",
            "request system reboot",
            "start shell sh",
            "show version; request system reboot",
            "show log messages | save /tmp/x",
            "show version && start shell",
            "show `id`",
            "clear arp",
            "show config > /tmp/x",
            "show configuration",
            "show conf system login",
            "",
        ] {
            assert!(check(bad).is_err(), "{bad} must be refused");
        }
        let own = vec!["request".to_string()];
        assert!(
            check_shell_command("show configuration", Some(&own)).is_ok(),
            "a list of one's own without it allows it"
        );
        assert!(
            check_shell_command("show version", None).is_err(),
            "no list: fail closed"
        );
        assert_eq!(plain_text("\x1b[1mshow\x1b[0m ok\r\n"), "show ok\n");
    }

    #[test]
    fn bodies_as_mist_expects_them() {
        let params = |v: Value| v.as_object().cloned().expect("object");
        let bounce = utility("ex", "bouncePort").expect("bouncePort");
        assert_eq!(
            bounce.body(&params(json!({"port_ids": ["ge-0/0/1"]}))),
            json!({"ports": ["ge-0/0/1"]})
        );
        assert!(bounce.check(&params(json!({}))).is_err());
        assert!(
            bounce
                .check(&params(json!({"port": 1, "port_ids": []})))
                .is_err()
        );
        let cable = utility("ex", "cableTest").expect("cableTest");
        assert_eq!(
            cable.body(&params(json!({"port_id": "ge-0/0/2"}))),
            json!({"port": "ge-0/0/2"})
        );
    }
}
