//! Write confirmations carried by the answers themselves: MCP multi round-trip requests
//! (protocol 2026-07-28, SEP-2322). A sessionless client cannot be sent an elicitation request
//! of the server's own; instead the first `tools/call` of a write answers `input_required` with
//! the confirmation form, and the client calls again with the human's answer.
//!
//! The answer counts only for the call it was asked about, once: `requestState` is issued by the
//! server ([`crate::request_state`]) for the digest of the tool name, arguments and the question
//! asked, and the caller's identity; a forged, replayed, expired or other caller's state, or a
//! retry whose arguments or question differ (a Junos diff that changed meanwhile), is asked
//! again and nothing runs.

use crate::mcp::confirmation_form;
use crate::policy::{Confirm, Confirmation, Question};
use crate::request_state::StateKey;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, InputRequest, InputRequests, InputRequiredResult,
    InputResponses, JsonObject,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// The key of the confirmation in `inputRequests` / `inputResponses`.
pub const CONFIRM_KEY: &str = "confirm";

/// What checks the `requestState` of a call: the server's key, who calls, and when.
#[derive(Debug, Clone, Copy)]
pub struct StateCheck<'a> {
    /// The server's key (one per process natively, per isolate on the edge).
    pub key: &'a StateKey,
    /// The caller's identity ([`crate::session_request::caller_identity`]).
    pub caller: &'a str,
    /// Now, in Unix seconds.
    pub now: u64,
}

/// A [`Confirm`] for one `tools/call` of a multi round-trip client: it answers with what the
/// client sent back (when its `requestState` is redeemed), or notes the question to return as
/// `input_required`.
#[derive(Debug)]
pub struct RoundTrip<'a> {
    /// The digest of the call.
    call: String,
    check: StateCheck<'a>,
    /// The client's answer and the `requestState` it came with.
    answer: Option<(Confirmation, String)>,
    /// The form to return, and the digest of the call with the question it asks.
    asked: Mutex<Option<(ElicitRequestParams, String)>>,
}

/// A sessionless client's write tool call without the elicitation capability: the protocol's
/// MissingRequiredClientCapabilityError (`-32021`), whatever the frontend.
#[derive(Debug, Clone, PartialEq)]
pub struct MissingCapability {
    /// The error's message.
    pub message: String,
    /// The error's `data`: `{"requiredCapabilities": {"elicitation": {}}}`.
    pub data: Value,
}

impl MissingCapability {
    /// The JSON-RPC error code of protocol 2026-07-28.
    pub const CODE: i64 = -32021;
}

impl<'a> RoundTrip<'a> {
    /// The round trip of one `tools/call` of a sessionless (2026-07-28) client, the one step
    /// both frontends take: a write tool the client could only see with elicitation is refused
    /// with [`MissingCapability`]; otherwise the confirmation travels through the answers.
    pub fn for_call(
        session: &crate::session::Session,
        call: &rmcp::model::CallToolRequestParams,
        check: StateCheck<'a>,
    ) -> Result<Self, MissingCapability> {
        if crate::tools::needs_elicitation(session, &call.name) {
            return Err(MissingCapability {
                message: crate::mcp::elicitation_required(&call.name),
                data: json!({ "requiredCapabilities": { "elicitation": {} } }),
            });
        }
        Ok(RoundTrip::new(
            &call.name,
            call.arguments.as_ref(),
            call.input_responses.as_ref(),
            call.request_state.as_deref(),
            check,
        ))
    }

    /// The round trip of a call of `name` with `arguments`, given the `inputResponses` and
    /// `requestState` the client sent (absent on the first round).
    pub fn new(
        name: &str,
        arguments: Option<&JsonObject>,
        input_responses: Option<&InputResponses>,
        request_state: Option<&str>,
        check: StateCheck<'a>,
    ) -> Self {
        let answer = input_responses
            .and_then(|r| r.get(CONFIRM_KEY))
            .zip(request_state)
            .map(|(answer, state)| (Confirmation::from_answer(answer), state.to_string()));
        RoundTrip {
            call: call_digest(name, arguments),
            check,
            answer,
            asked: Mutex::new(None),
        }
    }

    /// The `input_required` result to send when the call needs the human's answer first.
    pub fn input_required(&self) -> Option<InputRequiredResult> {
        let (asked, asked_for) = self
            .asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()?;
        let requests: InputRequests = [(
            CONFIRM_KEY.to_string(),
            InputRequest::Elicitation(ElicitRequest::new(asked)),
        )]
        .into_iter()
        .collect();
        let state = self
            .check
            .key
            .issue(&asked_for, self.check.caller, self.check.now);
        Some(InputRequiredResult::new(Some(requests), Some(state)))
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl Confirm for RoundTrip<'_> {
    async fn confirm(&self, question: &Question) -> Confirmation {
        let mut form = confirmation_form(question);
        // The yes holds for this call *and* this question: a write whose question changed since
        // (a device's diff, another device of the same call) is asked again.
        let asked_for = question_digest(&self.call, &question.message);
        if let Some((answer, state)) = &self.answer {
            let StateCheck { key, caller, now } = self.check;
            match key.redeem(state, &asked_for, caller, now) {
                Ok(()) => return answer.clone(),
                Err(refused) => {
                    tracing::warn!(%refused, "a confirmation was not accepted: asking again");
                    if let ElicitRequestParams::FormElicitationParams { message, .. } = &mut form {
                        *message = format!("({refused}.)\n{message}");
                    }
                }
            }
        }
        *self.asked.lock().unwrap_or_else(|p| p.into_inner()) = Some((form, asked_for));
        Confirmation::Deferred
    }
}

/// The digest of a call and the question asked for it.
fn question_digest(call: &str, message: &str) -> String {
    let digest = Sha256::digest(format!("{call}\n{message}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest of the call: what a confirmation was given for.
fn call_digest(name: &str, arguments: Option<&JsonObject>) -> String {
    let call = json!({ "name": name, "arguments": arguments.cloned().unwrap_or_default() });
    let digest = Sha256::digest(canonical(&call).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with object keys sorted at every level, so the digest does not depend on order.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_key_order_but_not_values() {
        let a: JsonObject =
            serde_json::from_value(json!({"a": 1, "b": {"x": 1, "y": 2}})).expect("an object");
        let b: JsonObject =
            serde_json::from_value(json!({"b": {"y": 2, "x": 1}, "a": 1})).expect("an object");
        let c: JsonObject =
            serde_json::from_value(json!({"a": 2, "b": {"x": 1, "y": 2}})).expect("an object");
        assert_eq!(call_digest("t", Some(&a)), call_digest("t", Some(&b)));
        assert_ne!(call_digest("t", Some(&a)), call_digest("t", Some(&c)));
        assert_ne!(call_digest("t", Some(&a)), call_digest("u", Some(&a)));
    }

    #[test]
    fn only_a_ticked_accept_is_a_yes() {
        let yes = json!({"action": "accept", "content": {"confirm": true}});
        assert_eq!(Confirmation::from_answer(&yes), Confirmation::Accepted);
        let unticked = json!({"action": "accept", "content": {"confirm": false}});
        assert_eq!(Confirmation::from_answer(&unticked), Confirmation::Declined);
        assert_eq!(
            Confirmation::from_answer(&json!({"action": "accept"})),
            Confirmation::Declined
        );
        assert_eq!(
            Confirmation::from_answer(&json!({"action": "cancel"})),
            Confirmation::Cancelled
        );
        assert!(matches!(
            Confirmation::from_answer(&json!("yes")),
            Confirmation::Failed(_)
        ));
    }
}
