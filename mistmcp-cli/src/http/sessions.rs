//! The one count of HTTP sessions, and what the gate keeps of each: who opened it (a session
//! serves no one else), whether it accepts JSON-RPC batches, its state, and whether it is awake.
//!
//! The gate reserves a slot for an `initialize` before rmcp sees it ([`SessionSlots::reserve`]);
//! rmcp's session manager, wrapped in [`CountedSessions`], turns that reservation into an open
//! session when it creates one. Reservations and open sessions are counted under one lock, so the
//! cap holds exactly whatever the concurrency.
//!
//! A session costs ~85 KB while rmcp's worker serves it (its tasks and channels). One that has
//! had no request in flight for `--session-hibernate-after` hibernates: its worker ends and
//! the gate keeps a record of a few hundred bytes (the client's `initialize`, the session's
//! state in a [`SessionCell`]); its next request wakes it through rmcp's session store, with the
//! same state. A session leaves only when its client closes it (`DELETE`) or when it has been
//! idle for `--session-idle-timeout`.

use crate::server::SessionCell;
use futures_util::Stream;
use mistcore::envelope;
use rmcp::model::{ClientJsonRpcMessage, InitializeRequestParams, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    RestoreOutcome, ServerSseMessage, SessionId, SessionManager, SessionState, SessionStore,
    SessionStoreError,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether rmcp's worker serves a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Worker {
    Running,
    /// Being stopped by [`SessionSlots::due`]: requests wait until it has stopped.
    Stopping,
    /// Hibernating: the next request starts a worker again.
    Stopped,
}

/// What is known of an open session.
#[derive(Debug)]
struct Opened {
    /// The identity (server token and Mist credentials) that opened it.
    owner: String,
    /// It negotiated protocol 2025-03-26.
    batches: bool,
    /// Its configuration and state, for whichever worker serves it.
    cell: Arc<SessionCell>,
    /// The client's `initialize`, replayed when the session wakes (`None` until it succeeded).
    initialize: Option<InitializeRequestParams>,
    /// Requests being answered (an open event stream counts until it closes).
    in_flight: usize,
    /// When the last request came or ended.
    last_used: Instant,
    worker: Worker,
    /// Held while the worker is stopped; requests that come meanwhile wait for it.
    stopping: Arc<tokio::sync::Mutex<()>>,
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
    /// The session-to-be; `None` once rmcp created it.
    session: Mutex<Option<Opened>>,
}

tokio::task_local! {
    /// The reservation of the `initialize` being served by this task (set by the gate around
    /// rmcp's handling of the request, read by [`CountedSessions::create_session`]).
    static ADMITTED: Reservation;
}

/// A request in a known session: keeps the session awake until dropped (when the answer has
/// been sent, or the event stream closed).
#[derive(Debug)]
pub struct InFlight {
    slots: Arc<SessionSlots>,
    id: String,
    /// The session's state.
    pub cell: Arc<SessionCell>,
    /// Set while the session's worker is being stopped: wait for it before forwarding.
    stopping: Option<Arc<tokio::sync::Mutex<()>>>,
}

/// The sessions [`SessionSlots::due`] found idle.
#[derive(Debug, Default)]
pub struct Due {
    /// Sessions whose worker is to stop (hibernate), with the lock requests wait on meanwhile.
    pub hibernate: Vec<(String, tokio::sync::OwnedMutexGuard<()>)>,
    /// Sessions gone for good (idle past the timeout), whose worker may still run.
    pub expired: Vec<String>,
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

    /// A slot for a new session of `owner` that negotiates `version` and keeps its state in
    /// `cell`, or `None` at the cap.
    pub fn reserve(
        self: &Arc<Self>,
        owner: &str,
        version: Option<&str>,
        cell: Arc<SessionCell>,
    ) -> Option<Reservation> {
        let mut slots = self.lock();
        if slots.pending + slots.open.len() >= self.max {
            return None;
        }
        slots.pending += 1;
        Some(Reservation {
            slots: self.clone(),
            session: Mutex::new(Some(Opened {
                owner: owner.to_string(),
                batches: envelope::allows_batches(version),
                cell,
                initialize: None,
                // The gate enters the session when the initialize's answer names it.
                in_flight: 0,
                last_used: Instant::now(),
                worker: Worker::Running,
                stopping: Arc::default(),
            })),
        })
    }

    /// The number of open sessions (awake or hibernating), and of those hibernating.
    pub fn open(&self) -> (usize, usize) {
        let slots = self.lock();
        let asleep = slots
            .open
            .values()
            .filter(|o| o.worker == Worker::Stopped)
            .count();
        (slots.open.len(), asleep)
    }

    /// The server's cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A request of `identity` in session `id`: `Ok(None)` for a session the gate does not know
    /// (rmcp answers those 404), `Err(())` when another identity opened it.
    pub fn enter(self: &Arc<Self>, id: &str, identity: &str) -> Result<Option<InFlight>, ()> {
        let mut slots = self.lock();
        let Some(opened) = slots.open.get_mut(id) else {
            return Ok(None);
        };
        if opened.owner != identity {
            return Err(());
        }
        opened.in_flight += 1;
        opened.last_used = Instant::now();
        Ok(Some(InFlight {
            slots: self.clone(),
            id: id.to_string(),
            cell: opened.cell.clone(),
            stopping: (opened.worker == Worker::Stopping).then(|| opened.stopping.clone()),
        }))
    }

    /// Whether the session accepts batches.
    pub fn accepts_batches(&self, session_id: Option<&str>) -> bool {
        session_id.is_some_and(|id| self.lock().open.get(id).is_some_and(|o| o.batches))
    }

    /// The sessions idle since `hibernate_after` (to hibernate, when given) or `idle_timeout`
    /// (to forget), with no request in flight. The first are marked as stopping: call
    /// [`SessionSlots::stopped`] once their worker has stopped.
    pub fn due(&self, hibernate_after: Option<Duration>, idle_timeout: Duration) -> Due {
        let now = Instant::now();
        let mut due = Due::default();
        let mut slots = self.lock();
        slots.open.retain(|id, opened| {
            if opened.in_flight > 0 || opened.worker == Worker::Stopping {
                return true;
            }
            let idle = now.duration_since(opened.last_used);
            if idle >= idle_timeout {
                due.expired.push(id.clone());
                return false;
            }
            if opened.worker == Worker::Running
                && opened.initialize.is_some()
                && hibernate_after.is_some_and(|after| idle >= after)
                && let Ok(guard) = opened.stopping.clone().try_lock_owned()
            {
                opened.worker = Worker::Stopping;
                due.hibernate.push((id.clone(), guard));
            }
            true
        });
        due
    }

    /// The worker of a session marked by [`SessionSlots::due`] has stopped.
    pub fn stopped(&self, id: &str) {
        if let Some(opened) = self.lock().open.get_mut(id) {
            opened.worker = Worker::Stopped;
        }
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

    /// rmcp's worker of a session ended: the session sleeps if it can wake, else it is gone.
    fn worker_ended(&self, id: &SessionId) {
        let mut slots = self.lock();
        let Some(opened) = slots.open.get_mut(id.as_ref()) else {
            return;
        };
        match (opened.worker, &opened.initialize) {
            // Its hibernation is under way (the gate marks it stopped when done).
            (Worker::Stopping, _) => {}
            (_, Some(_)) => opened.worker = Worker::Stopped,
            (_, None) => {
                slots.open.remove(id.as_ref());
            }
        }
    }

    fn woke(&self, id: &SessionId) {
        if let Some(opened) = self.lock().open.get_mut(id.as_ref()) {
            opened.worker = Worker::Running;
        }
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

impl InFlight {
    /// Waits until the session's worker, if being stopped, has stopped (rmcp then wakes it).
    pub async fn ready(&mut self) {
        if let Some(stopping) = self.stopping.take() {
            drop(stopping.lock().await);
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(opened) = self.slots.lock().open.get_mut(&self.id) {
            opened.in_flight = opened.in_flight.saturating_sub(1);
            opened.last_used = Instant::now();
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
    /// Told of ended workers, whose memory is then given back.
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

    /// Stops the worker of session `id` (it hibernates, or is gone if the gate forgot it).
    pub async fn stop_worker(&self, id: &str) {
        let id: SessionId = id.to_string().into();
        if let Err(e) = self.inner.close_session(&id).await {
            tracing::warn!("stopping an idle session's worker: {e}");
        }
        self.memory.touch();
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
        // Called for a DELETE (rmcp then deletes it from the store: the slot is freed there)
        // and when the session's worker ends.
        let closed = self.inner.close_session(id).await;
        self.slots.worker_ended(id);
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
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        // Only sessions the gate keeps are restored (the store has no other).
        let outcome = self.inner.restore_session(id.clone()).await?;
        self.slots.woke(&id);
        Ok(outcome)
    }
}

/// The sessions' `initialize`, as rmcp's session store: what a hibernating session wakes with.
#[derive(Debug)]
pub struct Hibernation(pub Arc<SessionSlots>);

#[async_trait::async_trait]
impl SessionStore for Hibernation {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        Ok(self
            .0
            .lock()
            .open
            .get(session_id)
            .and_then(|o| o.initialize.clone())
            .map(SessionState::new))
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        if let Some(opened) = self.0.lock().open.get_mut(session_id) {
            opened.initialize = Some(state.initialize_params.clone());
        }
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        // A DELETE: the client ended its session, whose slot is free at once.
        self.0.lock().open.remove(session_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init() -> InitializeRequestParams {
        serde_json::from_value(serde_json::json!({"protocolVersion": "2025-06-18",
            "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}))
        .expect("initialize params")
    }

    #[test]
    fn reservations_and_open_sessions_share_the_cap() {
        let slots = SessionSlots::new(2);
        let a = slots
            .reserve("alice", Some("2025-06-18"), Arc::default())
            .expect("a free slot");
        let b = slots
            .reserve("bob", Some("2025-03-26"), Arc::default())
            .expect("a free slot");
        assert!(
            slots.reserve("carol", None, Arc::default()).is_none(),
            "two reserved of two"
        );
        // A reservation that opened no session gives its slot back.
        drop(a);
        let c = slots
            .reserve("carol", None, Arc::default())
            .expect("the freed slot");
        // A reservation that opened a session keeps the slot until the session closes.
        let id: SessionId = "s1".to_string().into();
        slots.created(&id, b.take().expect("unused"));
        drop(b);
        assert_eq!(slots.open(), (1, 0));
        assert!(slots.reserve("dave", None, Arc::default()).is_none());
        assert!(slots.accepts_batches(Some("s1")));
        assert!(slots.enter("s1", "alice").is_err(), "not the opener");
        // Its worker ending before the initialize succeeded: nothing to wake, the slot is free.
        slots.worker_ended(&id);
        drop(c);
        assert_eq!(slots.open(), (0, 0));
        assert!(slots.reserve("erin", None, Arc::default()).is_some());
    }

    #[tokio::test]
    async fn idle_sessions_hibernate_then_expire_but_never_with_a_request_in_flight() {
        let slots = SessionSlots::new(4);
        let r = slots
            .reserve("alice", None, Arc::default())
            .expect("a free slot");
        let id: SessionId = "s1".to_string().into();
        slots.created(&id, r.take().expect("unused"));
        // The initialize's answer stored what the session wakes with.
        Hibernation(slots.clone())
            .store("s1", &SessionState::new(init()))
            .await
            .expect("stored");
        let request = slots
            .enter("s1", "alice")
            .expect("its opener")
            .expect("known");
        let due = slots.due(Some(Duration::ZERO), Duration::from_secs(60));
        assert!(due.hibernate.is_empty(), "a request is in flight");
        drop(request);
        let mut due = slots.due(Some(Duration::ZERO), Duration::from_secs(60));
        let (hibernating, guard) = due.hibernate.pop().expect("idle");
        assert_eq!(hibernating, "s1");
        // A request that comes while the worker stops waits for it.
        let mut waiting = slots.enter("s1", "alice").expect("ok").expect("known");
        let ready = tokio::spawn(async move {
            waiting.ready().await;
            waiting
        });
        tokio::task::yield_now().await;
        assert!(!ready.is_finished());
        slots.worker_ended(&id);
        slots.stopped("s1");
        drop(guard);
        let waiting = ready.await.expect("the request goes on");
        assert_eq!(slots.open(), (1, 1), "open, asleep");
        assert!(
            Hibernation(slots.clone())
                .load("s1")
                .await
                .expect("ok")
                .is_some(),
            "it can wake"
        );
        slots.woke(&id);
        drop(waiting);
        // Idle past the timeout: forgotten, its slot free.
        let due = slots.due(None, Duration::ZERO);
        assert_eq!(due.expired, vec!["s1".to_string()]);
        assert_eq!(slots.open(), (0, 0));
    }
}
