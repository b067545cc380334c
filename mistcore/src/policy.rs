//! The one write gate. Every write, whoever asks for it (an operation tool, `mist_call_operation`,
//! a workflow write, a device utility that changes a device, a `mistcli` command), passes
//! [`authorize`] before anything is sent:
//!
//! 1. may this session write at all (`--enable-write-tools`, and a client that can confirm);
//! 2. strict security mode: the token, as `/self` shows it now, has no CRITICAL risk;
//! 3. the human confirms the [`Question`] through the frontend's [`Confirm`] port (MCP
//!    elicitation, the answer of a multi round-trip request, the CLI's prompt or `--yes`).

use crate::api::{self, HttpTransport};
use crate::api::{ApiError, Credentials};
use crate::catalog::{Method, Operation};
use crate::schema::ValidatedArgs;
use crate::security::{self, Limits};
use serde_json::Value;

/// The name of the one field of the confirmation form.
pub const CONFIRM_FIELD: &str = "confirm";

/// What the human is asked before a write: the text of a form with one `confirm` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Everything the write will do, in full.
    pub message: String,
}

/// The human's answer to a write confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Go ahead.
    Accepted,
    /// The human said no.
    Declined,
    /// The human dismissed the question.
    Cancelled,
    /// The question could not be asked (the reason says why).
    Failed(String),
    /// The question goes back to the client in the answer (a multi round-trip request, see
    /// [`crate::round_trip`]): nothing is sent now, the client calls again with the answer.
    Deferred,
}

/// Asks the human to confirm a write.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Confirm: Send + Sync {
    /// Asks `question` and waits for the human's answer.
    async fn confirm(&self, question: &Question) -> Confirmation;
}

/// A [`Confirm`] for hosts that cannot ask: every write is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoConfirm;

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Confirm for NoConfirm {
    async fn confirm(&self, _question: &Question) -> Confirmation {
        Confirmation::Failed("this host cannot ask for confirmations".into())
    }
}

/// Where a write goes, for the words of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The Mist cloud.
    Mist,
    /// A device, through Mist.
    Device,
    /// A Junos device reached directly: a change loaded into its candidate is discarded.
    JunosDevice,
    /// This server's own state (its device inventory).
    Server,
}

impl Destination {
    fn nothing_sent(self) -> &'static str {
        match self {
            Destination::Mist => "nothing was sent to Mist",
            Destination::Device => "nothing was sent to the device",
            Destination::JunosDevice => "nothing was committed on the device",
            Destination::Server => "nothing was changed",
        }
    }
}

/// A write about to be sent.
#[derive(Debug, Clone)]
pub struct Write {
    /// What it is, as refusals name it: "`createOrgWlan` (POST /api/v1/...)", "the utility `bouncePort`".
    pub subject: String,
    /// What the human is asked.
    pub question: Question,
    /// Where it goes.
    pub destination: Destination,
}

/// Why a write was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// Write tools are off.
    #[error(
        "{subject} is a write operation, and write tools are off: the server must be started with --enable-write-tools (MISTMCP_ENABLE_WRITE_TOOLS=true)"
    )]
    WritesOff {
        /// The write refused.
        subject: String,
    },
    /// The client declared no way to confirm.
    #[error(
        "{subject} is a write operation, and this client cannot confirm writes: it did not declare the MCP elicitation capability, so write tools are disabled for it"
    )]
    CannotConfirm {
        /// The write refused.
        subject: String,
    },
    /// The caller's OAuth access token lacks the write scope.
    #[error(
        "{subject} is a write operation, and your access token lacks the scope {scope}: sign in again granting it (your identity provider decides who may have it)"
    )]
    MissingScope {
        /// The write refused.
        subject: String,
        /// The scope needed.
        scope: String,
    },
    /// Strict security mode refuses, or could not check the token.
    #[error("{0}")]
    StrictSecurity(String),
    /// The human said no.
    #[error("declined by the user: {}", .0.nothing_sent())]
    Declined(Destination),
    /// The human dismissed the question.
    #[error("cancelled by the user: {}", .0.nothing_sent())]
    Cancelled(Destination),
    /// The question could not be asked or answered.
    #[error("the write was not confirmed ({why}): {}", .destination.nothing_sent())]
    NotConfirmed {
        /// Why.
        why: String,
        /// Where it would have gone.
        destination: Destination,
    },
    /// The question went back to the client in the answer.
    #[error(
        "the confirmation was handed to the client: call again with the human's answer; {}",
        .0.nothing_sent()
    )]
    Deferred(Destination),
}

impl Refused {
    /// The kind the call log names: `declined` and `cancelled` are answers of the human, the
    /// others refusals.
    pub fn kind(&self) -> &'static str {
        match self {
            Refused::Declined(_) => "declined",
            Refused::Cancelled(_) => "cancelled",
            _ => "invalid",
        }
    }
}

/// What the gate knows of the one asking: a session of the MCP server, or a mistcli run.
#[derive(Debug, Clone, Copy)]
pub struct Permissions<'a> {
    /// Writes are enabled (`--enable-write-tools`; always for mistcli).
    pub write_tools: bool,
    /// The asker can confirm (an MCP client with elicitation, a human at mistcli).
    pub can_confirm: bool,
    /// Writes run without asking (`--disable-elicitation`).
    pub skip_confirmation: bool,
    /// Strict security mode is on.
    pub strict_security: bool,
    /// The token and cloud, for the strict security check.
    pub credentials: &'a Credentials,
    /// What a caller without a token is told (see `SessionConfig::missing_token_advice`).
    pub missing_token_advice: &'a str,
    /// The OAuth scope this request's access token lacks for writes (`None`: it has it, or
    /// the request came without OAuth).
    pub missing_write_scope: Option<&'a str>,
}

impl Permissions<'_> {
    fn api_error_text(&self, e: &ApiError) -> String {
        match e {
            ApiError::MissingToken if !self.missing_token_advice.is_empty() => {
                format!("{e}: {}", self.missing_token_advice)
            }
            _ => e.to_string(),
        }
    }
}

/// Whether the asker may run a write at all; the error says what would allow it.
pub fn permitted(session: Permissions<'_>, subject: &str) -> Result<(), Refused> {
    if !session.write_tools {
        return Err(Refused::WritesOff {
            subject: subject.to_string(),
        });
    }
    if let Some(scope) = session.missing_write_scope {
        return Err(Refused::MissingScope {
            subject: subject.to_string(),
            scope: scope.to_string(),
        });
    }
    if !(session.can_confirm || session.skip_confirmation) {
        return Err(Refused::CannotConfirm {
            subject: subject.to_string(),
        });
    }
    Ok(())
}

/// In strict security mode, refuses a write while the token has a CRITICAL risk (one `/self`
/// request per write: the risk is the token's as it is now).
pub async fn strict_security(
    session: Permissions<'_>,
    transport: &dyn HttpTransport,
    limits: &Limits,
) -> Result<(), Refused> {
    if !session.strict_security {
        return Ok(());
    }
    let me = api::get_self(transport, session.credentials)
        .await
        .map_err(|e| {
            Refused::StrictSecurity(format!(
                "strict security mode could not check the token ({}): nothing was sent",
                session.api_error_text(&e)
            ))
        })?;
    let report = security::analyze(&me.body, limits);
    if report.is_critical() {
        let risks: Vec<String> = report
            .risks
            .iter()
            .filter(|r| r.level == security::Level::Critical)
            .map(|r| r.message.clone())
            .collect();
        return Err(Refused::StrictSecurity(format!(
            "strict security mode (MIST_STRICT_SECURITY_MODE) refuses writes: the token has CRITICAL risks: {}. Use a token with fewer privileges, or set MIST_SECURITY_RISKS_ACKNOWLEDGED=true; nothing was sent",
            risks.join("; ")
        )));
    }
    Ok(())
}

/// What the gate needs from its caller.
#[derive(Clone, Copy)]
pub struct Gate<'a> {
    /// Who is asking.
    pub permissions: Permissions<'a>,
    /// The way to Mist (strict security reads `/self`).
    pub transport: &'a dyn HttpTransport,
    /// The limits of the security analysis.
    pub limits: &'a Limits,
    /// The way to the human.
    pub confirm: &'a dyn Confirm,
    /// The session's secrets, replaced by handles in the question (`None`: shown as they are).
    pub secrets: Option<&'a crate::redact::Redactor>,
}

/// The gate: permission, strict security, then the human's answer. `Ok` means send it.
pub async fn authorize(gate: Gate<'_>, write: &Write) -> Result<(), Refused> {
    permitted(gate.permissions, &write.subject)?;
    // Strict security is about the Mist token: writes that use no Mist token do not read /self.
    if matches!(write.destination, Destination::Mist | Destination::Device) {
        strict_security(gate.permissions, gate.transport, gate.limits).await?;
    }
    if gate.permissions.skip_confirmation {
        return Ok(());
    }
    let destination = write.destination;
    // The question goes through the client: a device's diff shows its secrets as handles (a
    // Mist write's question is built from its body with handles already).
    let question = match gate.secrets {
        Some(secrets) => Question {
            message: secrets.redact_text(&write.question.message).into_owned(),
        },
        None => write.question.clone(),
    };
    match gate.confirm.confirm(&question).await {
        Confirmation::Accepted => Ok(()),
        Confirmation::Declined => Err(Refused::Declined(destination)),
        Confirmation::Cancelled => Err(Refused::Cancelled(destination)),
        Confirmation::Failed(why) => Err(Refused::NotConfirmed { why, destination }),
        Confirmation::Deferred => Err(Refused::Deferred(destination)),
    }
}

/// The write of a device utility that changes the device (`bouncePort`, `clearMacTable`, ...).
pub fn utility_write(run: &mistcore_client::device::UtilityRun<'_>) -> Write {
    let u = run.utility;
    Write {
        subject: format!("the utility `{}`", u.name),
        question: Question {
            message: format!(
                "Confirm this command on a device:\nUtility: {} ({})\nDevice: {} at site {}\nParameters: {}\nIt may disrupt traffic or sessions.",
                u.name,
                run.device_type,
                run.device_id,
                run.site_id,
                visible(&Value::Object(run.params.clone()).to_string())
            ),
        },
        destination: Destination::Device,
    }
}

/// The most of a diff the confirmation form shows.
const FORM_DIFF_CAP: usize = 32 * 1024;

/// The write of a Junos commit, with the device's diff in the question.
pub fn junos_commit_write(
    device: &mistcore_junos::inventory::Device,
    diff: &str,
    change: &mistcore_junos::commit::Change,
    plan: &mistcore_junos::commit::Plan,
) -> Write {
    let mut shown = visible(diff);
    let whole = shown.lines().count();
    if mistcore_junos::session::cut(&mut shown, FORM_DIFF_CAP) {
        let rest = whole - shown.lines().count();
        shown.push_str(&format!(
            "\n... ({rest} more lines not shown: decline, and load the change in smaller parts to see each diff whole)"
        ));
    }
    Write {
        subject: format!("a commit on the Junos device `{}`", device.name),
        question: Question {
            message: format!(
                "Confirm this commit on a Junos device:\nDevice: {} ({})\nComment: {}\nFormat: {}\nDifference (show | compare):\n{}\nIt is committed with commit confirmed {} minute(s), checked for reachability over a fresh session, then confirmed; the device reverts by itself if it is not confirmed.",
                device.name,
                device.address(),
                visible(&serde_json::to_string(&change.comment).unwrap_or_default()),
                change.format.name(),
                shown,
                plan.confirm_seconds.div_ceil(60).max(1),
            ),
        },
        destination: Destination::JunosDevice,
    }
}

/// Text from a caller as JSON quotes it (control characters escaped), format characters made visible.
fn quoted(text: &str) -> String {
    visible(&Value::String(text.to_string()).to_string())
}

/// Unicode format characters (bidirectional overrides and isolates, zero-width characters, the
/// BOM, soft hyphens) written as `\u{...}`: they could make a form read otherwise than it sends.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            let invisible = matches!(c,
                '\u{00ad}' | '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
                | '\u{feff}' | '\u{fff9}'..='\u{fffb}');
            if invisible {
                format!("\\u{{{:04x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// How refusals name an operation: "`createOrgWlan` (POST /api/v1/orgs/{org_id}/wlans)".
pub fn operation_subject(op: &Operation) -> String {
    format!("`{}` ({} {})", op.id, op.method, op.path)
}

/// The question asked before an operation's write: the action, the request, the object type and
/// every field, in full.
pub fn operation_question(
    op: &Operation,
    args: &ValidatedArgs,
    object_type: Option<&str>,
) -> Question {
    let mut lines = vec![
        "Confirm this change on the Mist cloud:".to_string(),
        format!("Action: {} ({})", op.summary, op.id),
        format!("Request: {} {}", op.method, api::fill_path(op, args)),
    ];
    let object = match (object_type, op.body.and_then(|b| b.schema)) {
        (Some(t), Some(s)) => Some(format!("{t} (schema {s})")),
        (Some(t), None) => Some(t.to_string()),
        (None, Some(s)) => Some(s.to_string()),
        (None, None) => None,
    };
    if let Some(o) = object {
        lines.push(format!("Object type: {o}"));
    }
    if !args.query.is_empty() {
        let q: Vec<String> = args
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", quoted(k), quoted(v)))
            .collect();
        lines.push(format!("Parameters: {}", q.join(", ")));
    }
    match &args.body {
        Some(Value::Object(fields)) if !fields.is_empty() => {
            // Every field, in full: the human must see what is sent. Keys are quoted like values,
            // so no key can draw a line of its own on the form.
            lines.push(format!("Fields ({}):", fields.len()));
            for (k, v) in fields {
                lines.push(format!("  {} = {}", quoted(k), visible(&v.to_string())));
            }
        }
        Some(other) => lines.push(format!("Body: {}", visible(&other.to_string()))),
        None => {}
    }
    if op.method == Method::Delete {
        lines.push("This deletes the object.".into());
    }
    Question {
        message: lines.join("\n"),
    }
}

impl Confirmation {
    /// Reads an MCP elicitation answer (`{"action": ..., "content": {"confirm": true}}`): only an
    /// accept with the box ticked is an accept.
    pub fn from_answer(answer: &Value) -> Confirmation {
        match answer.get("action").and_then(Value::as_str) {
            Some("accept") => {
                let ticked = answer.pointer(&format!("/content/{CONFIRM_FIELD}"))
                    == Some(&Value::Bool(true));
                if ticked {
                    Confirmation::Accepted
                } else {
                    Confirmation::Declined
                }
            }
            Some("decline") => Confirmation::Declined,
            Some("cancel") => Confirmation::Cancelled,
            _ => Confirmation::Failed(format!("unexpected answer {answer}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::operation;
    use serde_json::json;

    #[test]
    fn the_form_cannot_be_spoofed_by_keys_or_format_characters() {
        let op = operation("updateOrgWlan").expect("in the catalog");
        let mut args = serde_json::Map::new();
        args.insert(
            "org_id".into(),
            json!("6748cfa6-4e12-11e6-9188-0242ac110007"),
        );
        args.insert(
            "wlan_id".into(),
            json!("6748cfa6-4e12-11e6-9188-0242ac110008"),
        );
        args.insert(
            "body".into(),
            json!({"name\nAction: none": "x", "ssid": "guest\u{202e}txt.exe"}),
        );
        let validated = crate::schema::validate(op, &args).expect("valid");
        let message = operation_question(op, &validated, None).message;
        assert!(
            !message.lines().any(|l| l.starts_with("Action: none")),
            "{message}"
        );
        assert!(message.contains(r#""name\nAction: none""#), "{message}");
        assert!(
            !message.contains('\u{202e}') && message.contains("\\u{202e}"),
            "{message}"
        );
    }
}
