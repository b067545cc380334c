//! The rmcp server handler: one [`Session`] per connection, delegating to mistcore.

use crate::service::NativeService;
use crate::transport::UPSTREAM_REQUESTS;
use mistcore::api::HttpTransport;
use mistcore::call::CallContext;
use mistcore::mcp::{self, CallError};
use mistcore::policy::{Confirm, Confirmation, Question};
use mistcore::round_trip::{RoundTrip, StateCheck};
use mistcore::session::Session;
use mistcore::tools::ToolRef;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, DiscoverResult, ErrorCode, InitializeRequestParams,
    InitializeResult, ListPromptsRequestMethod, ListPromptsResult,
    ListResourceTemplatesRequestMethod, ListResourceTemplatesResult, ListResourcesRequestMethod,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ProtocolVersion, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The session an HTTP request carries: built from its query and headers by the HTTP gate,
/// taken by the handler at the session's first request.
#[derive(Debug, Clone)]
pub struct RequestSession {
    /// The session of a request that may start one (an initialize, or a request outside any
    /// session); `None` in a session the gate knows, whose cell holds it.
    pub session: Option<Session>,
    /// Log every tool call of this session (query `debug=true`).
    pub debug: bool,
    /// Who sent the request: the server token's id and a hash of the Mist credentials. A session
    /// serves only the identity that created it.
    pub identity: String,
    /// The state of the request's session, kept by the HTTP gate for the session's whole life
    /// (a fresh one for a request outside any session).
    pub cell: Arc<SessionCell>,
    /// The OAuth write scope this request's access token lacks: its calls may not write.
    pub missing_write_scope: Option<String>,
}

/// What a session keeps from one request to the next: its configuration and state (enabled
/// categories, secret handles) and who opened it. The HTTP gate holds it, not rmcp's worker, so
/// that a session that hibernated wakes with it.
#[derive(Debug, Default)]
pub struct SessionCell {
    /// `None` until the first request of an HTTP session brings it.
    session: Mutex<Option<Session>>,
    /// The identity of the HTTP requests this session serves (set by its first request).
    identity: Mutex<Option<String>>,
    debug: std::sync::atomic::AtomicBool,
}

impl SessionCell {
    fn lock(&self) -> MutexGuard<'_, Option<Session>> {
        // A panic while holding the lock cannot leave a Session half-updated: keep serving.
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Cancelled when the HTTP client of a request has gone away (set by the HTTP gate).
#[derive(Debug, Clone)]
pub struct ClientGone(pub tokio_util::sync::CancellationToken);

/// Serves one MCP client: its session, and the transport that reaches Mist.
pub struct MistServer {
    /// The session's state: given at start (stdio), or by the first HTTP request.
    cell: OnceLock<Arc<SessionCell>>,
    transport: Arc<dyn HttpTransport>,
    service: Arc<NativeService>,
}

impl MistServer {
    /// A server for one client whose session is known (stdio).
    pub fn new(session: Session, service: Arc<NativeService>) -> Self {
        let cell = SessionCell {
            session: Mutex::new(Some(session)),
            ..SessionCell::default()
        };
        MistServer {
            cell: OnceLock::from(Arc::new(cell)),
            transport: service.transport(),
            service,
        }
    }

    /// A server whose session comes with its first HTTP request ([`RequestSession`]).
    pub fn from_requests(service: Arc<NativeService>) -> Self {
        MistServer {
            cell: OnceLock::new(),
            transport: service.transport(),
            service,
        }
    }

    /// A snapshot of the session, with what the client declared in `initialize`.
    fn session_for(&self, context: &RequestContext<RoleServer>) -> Result<Session, ErrorData> {
        let from_request = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestSession>());
        let Some(cell) = from_request
            .map(|request| self.cell.get_or_init(|| request.cell.clone()))
            .or_else(|| self.cell.get())
        else {
            return Err(ErrorData::internal_error(
                "no session configuration on this request",
                None,
            ));
        };
        let mut guard = cell.lock();
        if let Some(request) = from_request {
            let mut identity = cell.identity.lock().unwrap_or_else(|p| p.into_inner());
            match identity.as_deref() {
                None => *identity = Some(request.identity.clone()),
                Some(owner) if owner != request.identity => {
                    return Err(ErrorData::invalid_request(
                        "this session was opened with other credentials (server token or Mist token): start a new session",
                        None,
                    ));
                }
                Some(_) => {}
            }
            if guard.is_none() {
                cell.debug
                    .store(request.debug, std::sync::atomic::Ordering::Relaxed);
                guard.clone_from(&request.session);
            }
        } else if guard.is_none() {
            return Err(ErrorData::internal_error(
                "no session configuration on this request",
                None,
            ));
        }
        let session = guard
            .as_mut()
            .ok_or_else(|| ErrorData::internal_error("no session", None))?;
        // From the request's `_meta` (protocol 2026-07-28), else from `initialize`.
        session.client.elicitation = context
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        session.client.sessionless = stateless_request(context);
        let mut snapshot = session.clone();
        // The scopes are the request's, not the session's: a token refreshed with the write
        // scope may write in the same session.
        snapshot.missing_write_scope = from_request.and_then(|r| r.missing_write_scope.clone());
        Ok(snapshot)
    }
}

/// Asks the human through MCP elicitation: a form with one `confirm` checkbox, answered within
/// `timeout` (an answer after it is ignored: the write is not sent).
struct PeerElicitor<'a> {
    peer: &'a Peer<RoleServer>,
    timeout: std::time::Duration,
}

#[async_trait::async_trait]
impl Confirm for PeerElicitor<'_> {
    async fn confirm(&self, question: &Question) -> Confirmation {
        let asked = self
            .peer
            .create_elicitation(mcp::confirmation_form(question));
        match tokio::time::timeout(self.timeout, asked).await {
            Err(_) => Confirmation::Failed(format!(
                "not confirmed in time ({} s, MISTMCP_CONFIRM_TIMEOUT); a later answer is ignored",
                self.timeout.as_secs()
            )),
            Ok(Ok(answer)) => match serde_json::to_value(&answer) {
                Ok(answer) => Confirmation::from_answer(&answer),
                Err(e) => Confirmation::Failed(e.to_string()),
            },
            Ok(Err(e)) => Confirmation::Failed(e.to_string()),
        }
    }
}

/// Runs a handler, turning a panic into an internal error for that call only: the server
/// keeps serving, and the request still gets its one answer.
async fn guarded<T>(work: impl Future<Output = T>) -> Result<T, ErrorData> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            tracing::error!(panic = %what, "a handler panicked; the server keeps serving");
            ErrorData::internal_error(
                format!(
                    "internal error in mistmcp ({what}); the server keeps serving, please report it"
                ),
                None,
            )
        })
}

/// The session a request belongs to, for logs: a short hash of its `Mcp-Session-Id` on HTTP.
fn session_label(context: &RequestContext<RoleServer>) -> String {
    use sha2::Digest;
    match context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|p| p.headers.get("mcp-session-id"))
        .and_then(|v| v.to_str().ok())
    {
        Some(id) => {
            let digest = sha2::Sha256::digest(id.as_bytes());
            digest[..4].iter().map(|b| format!("{b:02x}")).collect()
        }
        None if context.extensions.get::<http::request::Parts>().is_some() => "sessionless".into(),
        None => "stdio".into(),
    }
}

/// A request of protocol 2026-07-28 (sessionless).
fn stateless_request(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
}

impl ServerHandler for MistServer {
    fn get_info(&self) -> ServerConfig {
        mcp::server_config()
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        // An HTTP session takes its configuration from the initialize request.
        self.session_for(&context)?;
        self.negotiate_initialize(&request)
    }

    async fn discover(
        &self,
        _context: RequestContext<RoleServer>,
    ) -> Result<DiscoverResult, ErrorData> {
        Ok(DiscoverResult::from_server_info(
            self.supported_protocol_versions().into_owned(),
            mcp::stateless_server_config(),
        ))
    }

    // Tools only: prompts and resources are not implemented, and say so.
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListPromptsRequestMethod>())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Err(ErrorData::method_not_found::<ListResourcesRequestMethod>())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Err(ErrorData::method_not_found::<
            ListResourceTemplatesRequestMethod,
        >())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let session = self.session_for(&context)?;
        let tools = guarded(async { mcp::list_tools(&session) }).await?;
        self.service.memory.touch();
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let tool = ToolRef::lookup(name)?;
        let guard = self.cell.get()?.lock();
        let session = guard.as_ref()?;
        mistcore::tools::is_visible(session, &tool).then(|| tool.definition_for(session))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // The call works on a snapshot: a slow Mist answer never holds the lock.
        let session = self.session_for(&context)?;
        let started = std::time::Instant::now();
        // Sessionless clients (2026-07-28) confirm writes through the answers themselves.
        let caller = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<RequestSession>())
            .map_or_else(
                || mistcore::session_request::caller_identity(None, &session.credentials),
                |r| r.identity.clone(),
            );
        let check = StateCheck {
            key: self.service.state_key(),
            caller: &caller,
            now: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        let round_trip = if stateless_request(&context) {
            match RoundTrip::for_call(&session, &request, check) {
                Ok(r) => Some(r),
                Err(missing) => {
                    return Err(ErrorData::new(
                        ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY,
                        missing.message,
                        Some(missing.data),
                    ));
                }
            }
        } else {
            None
        };
        let peer = PeerElicitor {
            peer: &context.peer,
            timeout: self.service.confirm_timeout(),
        };
        let confirm: &dyn Confirm = match &round_trip {
            Some(r) => r,
            None => &peer,
        };
        // Long calls (device utilities) report the output messages received as progress.
        let progress_token = context.meta.get_progress_token();
        let peer_for_progress = context.peer.clone();
        let progress = move |messages: usize, _chunk: &str| {
            if let Some(token) = progress_token.clone() {
                let peer = peer_for_progress.clone();
                let note = ProgressNotificationParam::new(token, messages as f64)
                    .with_message(format!("{messages} output messages received"));
                tokio::spawn(async move {
                    let _ = peer.notify_progress(note).await;
                });
            }
        };
        let ctx = CallContext {
            session: &session,
            transport: self.transport.as_ref(),
            confirm,
            service: self.service.as_ref(),
            progress: Some(&progress),
        };
        let upstream = Arc::new(AtomicU32::new(0));
        // A client's notifications/cancelled (or a closed HTTP stream) drops the call, and with
        // it the request to Mist.
        let call = UPSTREAM_REQUESTS.scope(
            upstream.clone(),
            guarded(mcp::call_tool(ctx, &request.name, request.arguments)),
        );
        let gone = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<ClientGone>())
            .map(|g| g.0.clone())
            .unwrap_or_default();
        let outcome = tokio::select! {
            outcome = call => outcome?,
            () = gone.cancelled() => {
                self.service.metrics.record(&request.name, started.elapsed(), Some("cancelled"));
                tracing::info!(target: "mistmcp::call", tool = %request.name, status = "client_gone", duration_ms = started.elapsed().as_secs_f64() * 1000.0, upstream_requests = upstream.load(Ordering::Relaxed), "tool call");
                return Err(ErrorData::internal_error("the client went away", None));
            }
            () = context.ct.cancelled() => {
                self.service.metrics.record(&request.name, started.elapsed(), Some("cancelled"));
                tracing::info!(target: "mistmcp::call", tool = %request.name, status = "cancelled", duration_ms = started.elapsed().as_secs_f64() * 1000.0, upstream_requests = upstream.load(Ordering::Relaxed), "tool call");
                return Err(ErrorData::new(
                    ErrorCode::INTERNAL_ERROR,
                    "cancelled by the client: the request to Mist was abandoned (a write already sent may have been applied: check before repeating it)",
                    None,
                ));
            }
        }
        .map_err(|e| match e {
            CallError::UnknownTool { .. } => ErrorData::invalid_params(e.to_string(), None),
            other => ErrorData::internal_error(other.to_string(), None),
        })?;
        if let Some(input) = round_trip.as_ref().and_then(RoundTrip::input_required) {
            return Ok(CallToolResponse::InputRequired(input));
        }
        let elapsed = started.elapsed();
        let error = outcome
            .error_kind
            .filter(|_| outcome.result.is_error == Some(true));
        self.service
            .metrics
            .record(outcome.operation.unwrap_or(&request.name), elapsed, error);
        self.service.memory.touch();
        // One structured line per call (JSON with --log-format json); never a secret.
        tracing::info!(
            target: "mistmcp::call",
            session = %session_label(&context),
            tool = %request.name,
            operation = outcome.operation.unwrap_or("-"),
            status = outcome.error_kind.unwrap_or("ok"),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            upstream_requests = upstream.load(Ordering::Relaxed),
            "tool call"
        );
        if let Some(change) = &outcome.change {
            let changed = self
                .cell
                .get()
                .is_some_and(|cell| cell.lock().as_mut().is_some_and(|s| s.apply(change)));
            if changed && let Err(e) = context.peer.notify_tool_list_changed().await {
                tracing::warn!("could not send tools/list_changed: {e}");
            }
        }
        Ok(outcome.result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::guarded;

    #[tokio::test]
    async fn a_panicking_handler_becomes_an_error_for_that_call() {
        let failed: Result<(), _> = guarded(async { panic!("boom") }).await;
        let error = failed.expect_err("the panic is caught");
        assert!(error.message.contains("boom"), "{}", error.message);
        assert_eq!(guarded(async { 7 }).await.ok(), Some(7));
    }
}
