//! The session port the frontends implement (rustnetconf natively), and the reads over it:
//! commands, configurations, rollback diffs, facts, and batches of commands.
//!
//! Every read opens its own session, and every session has a deadline (the frontend enforces
//! it on the connection and on each RPC): a device that stalls or closes answers for itself
//! and never holds up another's answer.

use crate::JunosError;
use crate::inventory::Device;
use crate::rpc::{self, Dialect, ReadFormat};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// Opens NETCONF sessions to devices (SSH, host key verified).
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// Logs in to `device` and exchanges hellos; the session answers every RPC before
    /// `deadline` from now has passed, or fails with [`JunosError::Timeout`].
    async fn open(
        &self,
        device: &Device,
        deadline: Duration,
    ) -> Result<Box<dyn Session>, JunosError>;
    /// A monotonic time, to measure a request.
    fn now(&self) -> Duration;
    /// Waits.
    async fn sleep(&self, duration: Duration);
}

/// One NETCONF session.
#[async_trait::async_trait]
pub trait Session: Send {
    /// What kind of server this is (from its hello).
    fn dialect(&self) -> Dialect;
    /// Sends one RPC (the element inside `<rpc>`) and returns what is inside `<rpc-reply>`;
    /// an `<rpc-error>` of severity error is [`JunosError::Device`].
    async fn rpc(&mut self, rpc: &str) -> Result<String, JunosError>;
    /// Ends the session politely (bounded: a dead device does not hold it up).
    async fn close(self: Box<Self>);
}

/// The most output one device returns in an answer; more is cut (`truncated`).
pub const OUTPUT_CAP: usize = 1024 * 1024;

/// The default deadline of a device request, as junos-mcp-server's `timeout` (seconds).
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// How many devices of a batch are asked at once.
pub const BATCH_CONCURRENCY: usize = 16;

/// What one device answered.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Answer {
    /// The device.
    pub router_name: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Its output (text, or JSON for facts and JSON configurations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The output was cut at [`OUTPUT_CAP`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// What failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The kind of failure ([`JunosError::kind`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<&'static str>,
    /// How long it took.
    pub duration_ms: u64,
}

impl Answer {
    /// The answer of `device` for `result`, started at `started`.
    pub fn of(router_name: &str, result: Result<Value, JunosError>, elapsed: Duration) -> Answer {
        let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(mut output) => {
                let truncated = match &mut output {
                    Value::String(s) => cap(s),
                    _ => false,
                };
                Answer {
                    router_name: router_name.to_string(),
                    ok: true,
                    output: Some(output),
                    truncated,
                    error: None,
                    error_kind: None,
                    duration_ms,
                }
            }
            Err(e) => Answer {
                router_name: router_name.to_string(),
                ok: false,
                output: None,
                truncated: false,
                error: Some(e.to_string()),
                error_kind: Some(e.kind()),
                duration_ms,
            },
        }
    }
}

fn cap(text: &mut String) -> bool {
    cut(text, OUTPUT_CAP)
}

/// Cuts `text` to at most `limit` bytes at a character boundary; whether it was cut.
pub fn cut(text: &mut String, limit: usize) -> bool {
    if text.len() <= limit {
        return false;
    }
    let mut at = limit;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text.truncate(at);
    true
}

/// What a device must be for Junos-only requests.
fn junos_only(session: &dyn Session, device: &Device, what: &str) -> Result<(), JunosError> {
    if session.dialect() == Dialect::Junos {
        return Ok(());
    }
    Err(JunosError::Unsupported {
        device: device.name.clone(),
        message: format!(
            "this NETCONF server is not Junos (its hello does not name {}): {what} needs Junos",
            rpc::JUNOS_CAPABILITY
        ),
    })
}

/// A read of a device.
#[derive(Debug, Clone, Copy)]
pub enum Read<'a> {
    /// One operational command, checked by [`crate::words::check_command`].
    Command(&'a str),
    /// The configuration in a format (Junos: with inheritance, without comments); plain
    /// NETCONF servers give their running datastore as XML.
    Config(ReadFormat),
    /// `show configuration | compare rollback n` (1 to [`MAX_ROLLBACK`]).
    Diff(u32),
    /// Host name, model, version and serial number.
    Facts,
}

/// The most rollback versions a Junos device keeps.
pub const MAX_ROLLBACK: u32 = 49;

/// Opens a session, runs `read` on it within `deadline` (the whole request, not only each RPC:
/// several RPCs never add up past it), closes it.
pub async fn read(
    connector: &dyn Connector,
    device: &Device,
    request: Read<'_>,
    deadline: Duration,
) -> Result<Value, JunosError> {
    if let Read::Diff(n) = request
        && !(1..=MAX_ROLLBACK).contains(&n)
    {
        return Err(JunosError::Argument(format!(
            "rollback version {n} does not exist: give 1 to {MAX_ROLLBACK}"
        )));
    }
    let mut session = connector.open(device, deadline).await?;
    let result = {
        let job = read_on(session.as_mut(), device, request);
        let timer = connector.sleep(deadline);
        futures_util::pin_mut!(job, timer);
        match futures_util::future::select(job, timer).await {
            futures_util::future::Either::Left((result, _)) => result,
            futures_util::future::Either::Right(_) => Err(JunosError::Timeout {
                device: device.name.clone(),
                seconds: deadline.as_secs(),
            }),
        }
    };
    session.close().await;
    result
}

async fn read_on(
    s: &mut dyn Session,
    device: &Device,
    request: Read<'_>,
) -> Result<Value, JunosError> {
    match request {
        Read::Command(command) => {
            junos_only(s, device, "an operational command")?;
            let reply = s.rpc(&rpc::command(command)).await?;
            // Junos wraps the text in newlines of its own.
            Ok(Value::String(
                rpc::element_text(&reply, "output")
                    .unwrap_or(reply)
                    .trim_matches('\n')
                    .to_string(),
            ))
        }
        Read::Config(format) => {
            if s.dialect() == Dialect::Netconf {
                if format != ReadFormat::Xml {
                    return Err(JunosError::Unsupported {
                        device: device.name.clone(),
                        message: format!(
                            "this NETCONF server is not Junos: its configuration reads as xml only, not {}",
                            format.name()
                        ),
                    });
                }
                return Ok(Value::String(s.rpc(rpc::GET_RUNNING).await?));
            }
            let reply = s.rpc(&rpc::get_configuration(format)).await?;
            if format == ReadFormat::Json {
                return rpc::xml_to_json(&reply).ok_or_else(|| JunosError::Device {
                    device: device.name.clone(),
                    message: "the device's configuration reply holds no <configuration>, or nests deeper than mistmcp reads".into(),
                });
            }
            Ok(Value::String(rpc::configuration_text(&reply, format)))
        }
        Read::Diff(n) => {
            junos_only(s, device, "a rollback comparison")?;
            let reply = s.rpc(&rpc::compare_rollback(n)).await?;
            Ok(Value::String(
                rpc::element_text(&reply, "configuration-output")
                    .unwrap_or(reply)
                    .trim_matches('\n')
                    .to_string(),
            ))
        }
        Read::Facts => {
            junos_only(s, device, "gathering facts")?;
            let software = s.rpc(rpc::SOFTWARE_INFORMATION).await?;
            let chassis = s.rpc(rpc::CHASSIS_INVENTORY).await?;
            let text = |xml: &str, name: &str| {
                rpc::element_text(xml, name).map(|t| Value::String(t.trim().to_string()))
            };
            Ok(json!({
                "hostname": text(&software, "host-name"),
                "model": text(&software, "product-model"),
                "version": text(&software, "junos-version")
                    .or_else(|| text(&software, "comment")),
                "serial_number": text(&chassis, "serial-number"),
            }))
        }
    }
}

/// Runs one command on many devices: at most [`BATCH_CONCURRENCY`] at once, each with its own
/// deadline; answers in the order the devices were named. `command` is checked once, before
/// any device is asked.
pub async fn run_batch(
    connector: &dyn Connector,
    devices: &[Device],
    command: &str,
    deadline: Duration,
) -> Vec<Answer> {
    // Boxed one by one: a closure returning the futures is not general enough over the devices'
    // lifetimes for the Send futures of the frontends.
    let mut jobs: Vec<futures_util::future::BoxFuture<'_, (usize, Answer)>> = Vec::new();
    for (i, device) in devices.iter().enumerate() {
        jobs.push(Box::pin(async move {
            let started = connector.now();
            let result = read(connector, device, Read::Command(command), deadline).await;
            let elapsed = connector.now().saturating_sub(started);
            (i, Answer::of(&device.name, result, elapsed))
        }));
    }
    let mut answers: Vec<(usize, Answer)> = futures_util::stream::iter(jobs)
        .buffer_unordered(BATCH_CONCURRENCY)
        .collect()
        .await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, a)| a).collect()
}
