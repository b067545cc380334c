//! The one count of HTTP sessions, and what the gate keeps of each: who opened it (a session
//! serves no one else), and whether it accepts JSON-RPC batches.
//!
//! The gate reserves a slot for an `initialize` before rmcp sees it ([`SessionSlots::reserve`]);
//! rmcp's session manager, wrapped in [`CountedSessions`], turns that reservation into an open
//! session when it creates one, and frees the slot when the session closes (a `DELETE`, or its
//! worker ending when idle). Reservations and open sessions are counted under one lock, so the
//! cap holds exactly whatever the concurrency: as many initializes as there are free slots
//! succeed, and no more.

use futures_util::Stream;
use mistcore::envelope;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    RestoreOutcome, ServerSseMessage, SessionId, SessionManager,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What is known of an open session.
#[derive(Debug)]
struct Opened {
    /// The identity (server token and Mist credentials) that opened it.
    owner: String,
    /// It negotiated protocol 2025-03-26.
    batches: bool,
}

#[derive(Debug, Default)]
struct Slots {
    /// Initializes admitted by the gate whose session is not created yet.
    pending: usize,
    /// The open sessions, by `Mcp-Session-Id`.
    open: HashMap<String, Opened>,
}

/// Open sessions and admitted initializes, under the server's cap (`--max-sessions`).
#[derive(Debug)]
pub struct SessionSlots {
    slots: Mutex<Slots>,
    max: usize,
}

/// A slot reserved for one `initialize`: given back when dropped, unless rmcp created the
/// session (then the slot is the session's until it closes).
#[derive(Debug)]
pub struct Reservation {
    slots: Arc<SessionSlots>,
    /// Who the session will serve, and whether it will accept batches; `None` once used.
    session: std::sync::Mutex<Option<Opened>>,
}

tokio::task_local! {
    /// The reservation of the `initialize` being served by this task (set by the gate around
    /// rmcp's handling of the request, read by [`CountedSessions::create_session`]).
    static ADMITTED: Reservation;
}

impl SessionSlots {
    /// No session yet, at most `max` at once.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(SessionSlots {
            slots: Mutex::default(),
            max,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new session of `owner` that negotiates `version`, or `None` at the cap.
    pub fn reserve(self: &Arc<Self>, owner: &str, version: Option<&str>) -> Option<Reservation> {
        let mut slots = self.lock();
        if slots.pending + slots.open.len() >= self.max {
            return None;
        }
        slots.pending += 1;
        Some(Reservation {
            slots: self.clone(),
            session: std::sync::Mutex::new(Some(Opened {
                owner: owner.to_string(),
                batches: envelope::allows_batches(version),
            })),
        })
    }

    /// The number of open sessions.
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// The server's cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether `identity` may use the session: its opener, or anyone for a session the gate does
    /// not know (rmcp answers those 404).
    pub fn admits(&self, session_id: &str, identity: &str) -> bool {
        self.lock()
            .open
            .get(session_id)
            .is_none_or(|o| o.owner == identity)
    }

    /// Whether the session accepts batches.
    pub fn accepts_batches(&self, session_id: Option<&str>) -> bool {
        session_id.is_some_and(|id| self.lock().open.get(id).is_some_and(|o| o.batches))
    }

    fn created(&self, id: &SessionId, session: Opened) {
        let mut slots = self.lock();
        slots.pending = slots.pending.saturating_sub(1);
        slots.open.insert(id.to_string(), session);
    }

    fn release_pending(&self) {
        let mut slots = self.lock();
        slots.pending = slots.pending.saturating_sub(1);
    }

    fn closed(&self, id: &SessionId) {
        self.lock().open.remove(id.as_ref());
    }
}

impl Reservation {
    /// Runs `work` (rmcp's handling of the `initialize`) with this reservation, so that the
    /// session it creates takes the slot.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        ADMITTED.scope(self, work).await
    }

    fn take(&self) -> Option<Opened> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.take().is_some() {
            self.slots.release_pending();
        }
    }
}

/// Why [`CountedSessions`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    /// rmcp's session manager failed.
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
    /// A session was about to be created for a request the gate did not admit.
    #[error("no session slot was reserved for this initialize")]
    NotAdmitted,
}

/// rmcp's in-memory session manager, with every session counted in [`SessionSlots`].
pub struct CountedSessions {
    inner: LocalSessionManager,
    slots: Arc<SessionSlots>,
    /// Told of closed sessions, whose memory is then given back.
    memory: Arc<crate::memory::Keeper>,
}

impl CountedSessions {
    /// Counts the sessions of `inner` in `slots`.
    pub fn new(
        inner: LocalSessionManager,
        slots: Arc<SessionSlots>,
        memory: Arc<crate::memory::Keeper>,
    ) -> Self {
        CountedSessions {
            inner,
            slots,
            memory,
        }
    }
}

impl SessionManager for CountedSessions {
    type Error = SessionsError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        // Only an initialize the gate admitted opens a session: its slot becomes the session's.
        let session = ADMITTED
            .try_with(Reservation::take)
            .ok()
            .flatten()
            .ok_or(SessionsError::NotAdmitted)?;
        match self.inner.create_session().await {
            Ok((id, transport)) => {
                self.slots.created(&id, session);
                Ok((id, transport))
            }
            Err(e) => {
                self.slots.release_pending();
                Err(e.into())
            }
        }
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        // Called for a DELETE and when the session's worker ends (idle, or closed).
        let closed = self.inner.close_session(id).await;
        self.slots.closed(id);
        self.memory.touch();
        Ok(closed?)
    }

    fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        let stream = self.inner.create_stream(id, message);
        async move { Ok(stream.await?) }
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        let stream = self.inner.create_standalone_stream(id);
        async move { Ok(stream.await?) }
    }

    fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> impl Future<
        Output = Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>,
    > + Send {
        let stream = self.inner.resume(id, last_event_id);
        async move { Ok(stream.await?) }
    }

    async fn restore_session(
        &self,
        _id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        // No session store is configured: a session unknown here is gone.
        Ok(RestoreOutcome::NotSupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_and_open_sessions_share_the_cap() {
        let slots = SessionSlots::new(2);
        let a = slots
            .reserve("alice", Some("2025-06-18"))
            .expect("a free slot");
        let b = slots
            .reserve("bob", Some("2025-03-26"))
            .expect("a free slot");
        assert!(
            slots.reserve("carol", None).is_none(),
            "two reserved of two"
        );
        // A reservation that opened no session gives its slot back.
        drop(a);
        let c = slots.reserve("carol", None).expect("the freed slot");
        // A reservation that opened a session keeps the slot until the session closes.
        let id: SessionId = "s1".to_string().into();
        slots.created(&id, b.take().expect("unused"));
        drop(b);
        assert_eq!(slots.open(), 1);
        assert!(
            slots.reserve("dave", None).is_none(),
            "one open, one reserved"
        );
        assert!(slots.accepts_batches(Some("s1")) && !slots.admits("s1", "alice"));
        slots.closed(&id);
        drop(c);
        assert_eq!(slots.open(), 0);
        assert!(slots.reserve("erin", None).is_some());
    }
}
