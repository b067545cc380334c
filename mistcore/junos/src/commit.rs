//! The safe commit, in two halves around the human's confirmation:
//!
//! 1. [`stage`]: deny-list check (before connecting), lock, load into the candidate, the diff
//!    (`show | compare`), `commit check`. The caller shows the diff in the write gate's question.
//! 2. [`Staged::commit`]: `commit confirmed N`, a reachability check over a fresh session, the
//!    confirming commit, unlock. Or [`Staged::abandon`]: discard the candidate, unlock.
//!
//! Every failure discards or rolls back and unlocks, and the [`Report`] says what happened on
//! the device, step by step. A confirmed commit that cannot be confirmed reverts by itself on
//! the device when its timeout passes.

use crate::JunosError;
use crate::config_policy::{self, Format};
use crate::inventory::Device;
use crate::rpc::{self, Dialect};
use crate::session::{Connector, Session};
use serde::Serialize;
use std::time::Duration;

/// A configuration to load and commit.
#[derive(Debug, Clone)]
pub struct Change {
    /// Its format.
    pub format: Format,
    /// The statements.
    pub text: String,
    /// The commit comment (`commit comment`, `<log>`).
    pub comment: String,
}

/// How the commit is confirmed.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The confirmed commit's timeout: the device reverts by itself after it (Junos rounds up to
    /// whole minutes).
    pub confirm_seconds: u32,
    /// How long to wait after the confirmed commit before checking reachability.
    pub check_after: Duration,
    /// The deadline of the reachability check (a fresh session).
    pub check_deadline: Duration,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            confirm_seconds: 5 * 60,
            check_after: Duration::from_secs(5),
            check_deadline: Duration::from_secs(30),
        }
    }
}

/// What became of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Committed and confirmed.
    Committed,
    /// The configuration was already in place: nothing to commit.
    NoChange,
    /// Rendered and checked only (`dry_run`): discarded.
    DryRun,
    /// Not committed (refused, declined, or a step before the commit failed): discarded.
    NotCommitted,
    /// Committed, then rolled back (the reachability check failed).
    RolledBack,
    /// Committed but not confirmed: the device reverts by itself when the timeout passes.
    RevertPending,
    /// The connection was lost during the commit: the device may have committed; if it did, it
    /// reverts by itself when the timeout passes.
    Unknown,
}

/// One step of the flow.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Step {
    /// `lock`, `load`, `diff`, `commit check`, `commit confirmed`, `reachability`, ...
    pub step: &'static str,
    /// Whether it succeeded.
    pub ok: bool,
    /// What the device said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What happened on the device.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The device.
    pub router_name: String,
    /// What became of the change.
    pub outcome: Outcome,
    /// Whether the device runs the change now.
    pub committed: bool,
    /// One sentence for the human.
    pub message: String,
    /// The difference the change makes (`show | compare`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The error that ended the flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A change loaded, compared and checked, with the candidate locked: waiting for the human.
pub struct Staged {
    device: Device,
    session: Box<dyn Session>,
    comment: String,
    /// The difference the change makes, as the device shows it.
    pub diff: String,
    steps: Vec<Step>,
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("device", &self.device.name)
            .field("diff", &self.diff)
            .finish()
    }
}

fn ok(step: &'static str, detail: Option<String>) -> Step {
    Step {
        step,
        ok: true,
        detail,
    }
}

fn failed(step: &'static str, e: &JunosError) -> Step {
    Step {
        step,
        ok: false,
        detail: Some(e.to_string()),
    }
}

fn report(
    device: &Device,
    outcome: Outcome,
    message: String,
    diff: Option<String>,
    steps: Vec<Step>,
    error: Option<String>,
) -> Report {
    Report {
        router_name: device.name.clone(),
        committed: matches!(outcome, Outcome::Committed),
        outcome,
        message,
        diff,
        steps,
        error,
    }
}

/// Discards the candidate's changes and unlocks, recording both steps.
async fn release(session: &mut dyn Session, steps: &mut Vec<Step>) {
    for (step, rpc) in [("discard", rpc::DISCARD), ("unlock", rpc::UNLOCK)] {
        match session.rpc(rpc).await {
            Ok(_) => steps.push(ok(step, None)),
            Err(e) => steps.push(failed(step, &e)),
        }
    }
}

/// The reply's errors as one error of the device, if any.
fn reply_errors(device: &Device, reply: &str) -> Result<(), JunosError> {
    let errors = rpc::errors(reply);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(JunosError::Device {
            device: device.name.clone(),
            message: errors.join("; "),
        })
    }
}

/// The first half: check, lock, load, diff, commit check. On failure the candidate is
/// discarded and unlocked, and the report says which step failed.
pub async fn stage(
    connector: &dyn Connector,
    device: &Device,
    change: &Change,
    denylist: &[String],
    deadline: Duration,
) -> Result<Staged, Box<Report>> {
    let mut steps = Vec::new();
    if let Err(e) = config_policy::check(change.format, &change.text, denylist) {
        steps.push(failed("deny-list", &e));
        return Err(Box::new(report(
            device,
            Outcome::NotCommitted,
            format!("nothing was sent to {}: {e}", device.name),
            None,
            steps,
            Some(e.to_string()),
        )));
    }
    steps.push(ok("deny-list", None));
    let mut session = match connector.open(device, deadline).await {
        Ok(s) => s,
        Err(e) => {
            steps.push(failed("connect", &e));
            return Err(Box::new(report(
                device,
                Outcome::NotCommitted,
                format!("nothing was changed: {e}"),
                None,
                steps,
                Some(e.to_string()),
            )));
        }
    };
    let dialect = session.dialect();
    if let Err(e) = session.rpc(rpc::LOCK).await {
        steps.push(failed("lock", &e));
        session.close().await;
        return Err(Box::new(report(
            device,
            Outcome::NotCommitted,
            format!("nothing was changed: the candidate configuration could not be locked ({e})"),
            None,
            steps,
            Some(e.to_string()),
        )));
    }
    steps.push(ok("lock", None));
    let load = rpc::load(dialect, change.format, &change.text).map_err(|message| {
        JunosError::Unsupported {
            device: device.name.clone(),
            message,
        }
    });
    let loaded = match load {
        Ok(load) => match session.rpc(&load).await {
            Ok(reply) => reply_errors(device, &reply),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = loaded {
        return Err(Box::new(
            fail_before_commit(session, device, "load", e, steps, None).await,
        ));
    }
    steps.push(ok("load", None));
    let diff = match diff_of_candidate(session.as_mut(), dialect).await {
        Ok(d) => d,
        Err(e) => {
            return Err(Box::new(
                fail_before_commit(session, device, "diff", e, steps, None).await,
            ));
        }
    };
    steps.push(ok("diff", None));
    let check = match dialect {
        Dialect::Junos => rpc::COMMIT_CHECK,
        Dialect::Netconf => rpc::VALIDATE,
    };
    let checked = match session.rpc(check).await {
        Ok(reply) => reply_errors(device, &reply),
        Err(e) => Err(e),
    };
    if let Err(e) = checked {
        return Err(Box::new(
            fail_before_commit(session, device, "commit check", e, steps, Some(diff)).await,
        ));
    }
    steps.push(ok("commit check", None));
    if dialect == Dialect::Netconf {
        // yuma123's netconfd forgets that a validated candidate changed (its commit then
        // commits nothing): loading again onto a fresh candidate keeps the flow right there and
        // changes nothing elsewhere (the lock is ours).
        let reloaded = match session.rpc(rpc::DISCARD).await {
            Ok(_) => match rpc::load(dialect, change.format, &change.text) {
                Ok(load) => session.rpc(&load).await.map(|_| ()),
                Err(message) => Err(JunosError::Unsupported {
                    device: device.name.clone(),
                    message,
                }),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = reloaded {
            return Err(Box::new(
                fail_before_commit(session, device, "load", e, steps, Some(diff)).await,
            ));
        }
    }
    Ok(Staged {
        device: device.clone(),
        session,
        comment: change.comment.clone(),
        diff,
        steps,
    })
}

async fn fail_before_commit(
    mut session: Box<dyn Session>,
    device: &Device,
    step: &'static str,
    e: JunosError,
    mut steps: Vec<Step>,
    diff: Option<String>,
) -> Report {
    steps.push(failed(step, &e));
    release(session.as_mut(), &mut steps).await;
    session.close().await;
    report(
        device,
        Outcome::NotCommitted,
        format!("nothing was committed: {step} failed ({e}); the candidate was discarded"),
        diff,
        steps,
        Some(e.to_string()),
    )
}

/// `show | compare` of the candidate: the device's own diff on Junos; for other servers a
/// unified diff of the running and candidate datastores.
async fn diff_of_candidate(
    session: &mut dyn Session,
    dialect: Dialect,
) -> Result<String, JunosError> {
    match dialect {
        Dialect::Junos => {
            let reply = session.rpc(&rpc::compare_rollback(0)).await?;
            Ok(rpc::element_text(&reply, "configuration-output")
                .unwrap_or(reply)
                .trim_matches('\n')
                .to_string())
        }
        Dialect::Netconf => {
            let running = pretty_xml(&session.rpc(rpc::GET_RUNNING).await?);
            let candidate = pretty_xml(&session.rpc(rpc::GET_CANDIDATE).await?);
            // Bounded in time: two huge datastores that differ everywhere must not hold the call.
            Ok(similar::TextDiff::configure()
                .timeout(std::time::Duration::from_secs(2))
                .diff_lines(&running, &candidate)
                .unified_diff()
                .context_radius(3)
                .header("running", "candidate")
                .to_string())
        }
    }
}

/// XML indented one element per line (for a readable diff); the text itself if it does not parse.
pub fn pretty_xml(xml: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => {
                if writer.write_event(e).is_err() {
                    return xml.to_string();
                }
            }
            Err(_) => return xml.to_string(),
        }
    }
    let mut out = String::from_utf8(writer.into_inner()).unwrap_or_else(|_| xml.to_string());
    out.push('\n');
    out
}

impl Staged {
    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        let meaningful = |l: &&str| {
            let l = l.trim();
            !l.is_empty() && l != "[edit]"
        };
        !self.diff.lines().any(|l| meaningful(&l))
    }

    /// Discards the candidate and unlocks: nothing is committed.
    pub async fn abandon(mut self, outcome: Outcome, why: &str) -> Report {
        release(self.session.as_mut(), &mut self.steps).await;
        self.session.close().await;
        report(
            &self.device,
            outcome,
            format!("nothing was committed: {why}; the candidate was discarded"),
            Some(self.diff),
            self.steps,
            None,
        )
    }

    /// The second half: confirmed commit, reachability over a fresh session, confirming
    /// commit, unlock; a failed reachability check rolls back.
    pub async fn commit(mut self, connector: &dyn Connector, plan: Plan) -> Report {
        let dialect = self.session.dialect();
        let name = self.device.name.clone();
        let minutes = plan.confirm_seconds.div_ceil(60).max(1);
        let revert_in = match dialect {
            Dialect::Junos => format!("{minutes} minute(s)"),
            Dialect::Netconf => format!("{} s", plan.confirm_seconds.max(1)),
        };
        let confirmed = match self
            .session
            .rpc(&rpc::commit_confirmed(
                dialect,
                plan.confirm_seconds,
                &self.comment,
            ))
            .await
        {
            Ok(reply) => reply_errors(&self.device, &reply),
            Err(e) => Err(e),
        };
        match confirmed {
            Ok(()) => self.steps.push(ok(
                "commit confirmed",
                Some(format!("reverts by itself in {revert_in} unless confirmed")),
            )),
            Err(e @ JunosError::Device { .. }) => {
                self.steps.push(failed("commit confirmed", &e));
                release(self.session.as_mut(), &mut self.steps).await;
                self.session.close().await;
                return report(
                    &self.device,
                    Outcome::NotCommitted,
                    format!("{name} refused the commit ({e}); the candidate was discarded"),
                    Some(self.diff),
                    self.steps,
                    Some(e.to_string()),
                );
            }
            Err(e) => {
                self.steps.push(failed("commit confirmed", &e));
                self.session.close().await;
                return report(
                    &self.device,
                    Outcome::Unknown,
                    format!(
                        "the connection to {name} failed during the commit ({e}): if the device committed, it reverts by itself in {revert_in}; check with junos_config_diff"
                    ),
                    Some(self.diff),
                    self.steps,
                    Some(e.to_string()),
                );
            }
        }
        if !plan.check_after.is_zero() {
            connector.sleep(plan.check_after).await;
        }
        let reachable = match connector.open(&self.device, plan.check_deadline).await {
            Ok(mut fresh) => {
                let probe = match fresh.dialect() {
                    Dialect::Junos => fresh.rpc(rpc::SOFTWARE_INFORMATION).await.map(|_| ()),
                    Dialect::Netconf => Ok(()),
                };
                fresh.close().await;
                probe
            }
            Err(e) => Err(e),
        };
        if let Err(e) = reachable {
            self.steps.push(failed("reachability", &e));
            // Each reply is read for errors: a commit after a failed rollback load would confirm
            // the change instead of undoing it, so a failed load sends nothing more.
            let device = self.device.clone();
            let checked =
                |reply: Result<String, JunosError>| reply.and_then(|r| reply_errors(&device, &r));
            let rolled_back = match dialect {
                Dialect::Junos => match checked(self.session.rpc(&rpc::load_rollback(1)).await) {
                    Ok(()) => checked(
                        self.session
                            .rpc(&rpc::commit(
                                dialect,
                                "mistmcp: rolled back, the device was not reachable after the commit",
                            ))
                            .await,
                    ),
                    Err(e) => Err(e),
                },
                Dialect::Netconf => checked(self.session.rpc(rpc::CANCEL_COMMIT).await),
            };
            let outcome = match rolled_back {
                Ok(()) => {
                    self.steps.push(ok("rollback", None));
                    Outcome::RolledBack
                }
                Err(re) => {
                    self.steps.push(failed("rollback", &re));
                    Outcome::RevertPending
                }
            };
            let _ = self.session.rpc(rpc::UNLOCK).await;
            self.session.close().await;
            let message = match outcome {
                Outcome::RolledBack => format!(
                    "{name} was not reachable over a fresh session after the commit ({e}): the change was rolled back"
                ),
                _ => format!(
                    "{name} was not reachable over a fresh session after the commit ({e}) and the rollback failed: the device reverts by itself in {revert_in}"
                ),
            };
            return report(
                &self.device,
                outcome,
                message,
                Some(self.diff),
                self.steps,
                Some(e.to_string()),
            );
        }
        self.steps.push(ok("reachability", None));
        let confirming = match self.session.rpc(&rpc::commit(dialect, &self.comment)).await {
            Ok(reply) => reply_errors(&self.device, &reply),
            Err(e) => Err(e),
        };
        if let Err(e) = confirming {
            self.steps.push(failed("confirm", &e));
            self.session.close().await;
            // Without an answer the device may have confirmed: only a refusal means it reverts.
            let (outcome, message) = match e {
                JunosError::Device { .. } => (
                    Outcome::RevertPending,
                    format!(
                        "the confirming commit on {name} failed ({e}): the device reverts by itself in {revert_in}"
                    ),
                ),
                _ => (
                    Outcome::Unknown,
                    format!(
                        "the answer to the confirming commit on {name} was lost ({e}): the device may have confirmed; if not, it reverts by itself in {revert_in}; check with junos_config_diff"
                    ),
                ),
            };
            return report(
                &self.device,
                outcome,
                message,
                Some(self.diff),
                self.steps,
                Some(e.to_string()),
            );
        }
        self.steps.push(ok("confirm", None));
        match self.session.rpc(rpc::UNLOCK).await {
            Ok(_) => self.steps.push(ok("unlock", None)),
            Err(e) => self.steps.push(failed("unlock", &e)),
        }
        self.session.close().await;
        report(
            &self.device,
            Outcome::Committed,
            format!("committed and confirmed on {name}"),
            Some(self.diff),
            self.steps,
            None,
        )
    }
}
