//! What the HTTP gate keeps of each open session: who opened it (a session serves no one else),
//! and whether it accepts JSON-RPC batches.

use mistcore::envelope;
use std::collections::HashMap;
use std::sync::Mutex;

/// What the gate keeps of each open session (by `Mcp-Session-Id`): who opened it, and whether
/// its negotiated protocol has batches.
#[derive(Debug, Default)]
pub struct OpenSessions(Mutex<HashMap<String, Opened>>);

#[derive(Debug)]
struct Opened {
    /// The identity (server token and Mist credentials) that opened it.
    owner: String,
    /// It negotiated protocol 2025-03-26.
    batches: bool,
}

impl OpenSessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Opened>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a session opened by `owner` that negotiated `version`.
    pub fn opened(&self, session_id: &str, owner: &str, version: Option<&str>) {
        self.map().insert(
            session_id.to_string(),
            Opened {
                owner: owner.to_string(),
                batches: envelope::allows_batches(version),
            },
        );
    }

    /// Whether `identity` may use the session: its opener, or anyone for a session the gate does
    /// not know (rmcp answers those 404).
    pub fn admits(&self, session_id: &str, identity: &str) -> bool {
        self.map()
            .get(session_id)
            .is_none_or(|o| o.owner == identity)
    }

    /// Whether the session accepts batches.
    pub fn accepts_batches(&self, session_id: Option<&str>) -> bool {
        session_id.is_some_and(|id| self.map().get(id).is_some_and(|o| o.batches))
    }

    /// Forgets the sessions that are gone (closed or expired).
    pub fn retain(&self, alive: impl Fn(&str) -> bool) {
        self.map().retain(|id, _| alive(id));
    }
}
