//! Where the sessions of hosts without a long-lived process live between requests (a Durable
//! Object on the edge; memory in tests and single-process hosts).
//!
//! A session's configuration (mode, credentials, cloud) comes with every request; what a store
//! keeps is what the client changed during the session: its enabled categories.

use crate::session::{Session, resolve_categories};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// What a session keeps between requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    /// The categories whose tools are listed.
    pub enabled: Vec<String>,
    /// The protocol version negotiated by `initialize` (batches exist only in 2025-03-26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
}

impl StoredSession {
    /// The state of `session` to keep.
    pub fn of(session: &Session) -> Self {
        StoredSession {
            enabled: session.enabled.iter().map(|c| c.to_string()).collect(),
            protocol_version: None,
        }
    }

    /// Restores the kept state into `session` (categories the catalog no longer has are dropped).
    pub fn restore(&self, session: &mut Session) {
        let wanted: Vec<&str> = self.enabled.iter().map(String::as_str).collect();
        session.enabled = std::sync::Arc::new(
            wanted
                .iter()
                .filter_map(|c| resolve_categories(&[c]).ok())
                .flatten()
                .collect(),
        );
    }
}

/// A store failed (the host's storage is unreachable or answered nonsense).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreError(pub String);

/// Keeps sessions by their `Mcp-Session-Id`. Stores forget idle sessions on their own terms.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SessionStore {
    /// The session `id`, or `None` when it is unknown or has expired.
    async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError>;
    /// Keeps (or replaces) the session `id`; this also counts as activity for idle expiry.
    async fn save(&self, id: &str, session: &StoredSession) -> Result<(), StoreError>;
    /// Forgets the session `id` (closed by the client).
    async fn remove(&self, id: &str) -> Result<(), StoreError>;
}

/// A store in this process's memory: for tests and single-process hosts.
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, StoredSession>>,
}

impl MemorySessionStore {
    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.sessions().len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SessionStore for MemorySessionStore {
    async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        Ok(self.sessions().get(id).cloned())
    }

    async fn save(&self, id: &str, session: &StoredSession) -> Result<(), StoreError> {
        self.sessions().insert(id.to_string(), session.clone());
        Ok(())
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.sessions().remove(id);
        Ok(())
    }
}
