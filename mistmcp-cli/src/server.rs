//! The rmcp server handler: one [`Session`] per connection, delegating to mistcore.

use mistcore::api::HttpTransport;
use mistcore::mcp::{self, CallContext, CallError, Confirmation, Elicitor};
use mistcore::session::Session;
use mistcore::tools::ToolRef;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ElicitRequestParams, ElicitationAction,
    ListToolsResult, PaginatedRequestParams, ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use std::sync::{Arc, Mutex, MutexGuard};

/// Serves one MCP client: its session, and the transport that reaches Mist.
pub struct MistServer {
    session: Mutex<Session>,
    transport: Arc<dyn HttpTransport>,
}

impl MistServer {
    /// A server for one client.
    pub fn new(session: Session, transport: Arc<dyn HttpTransport>) -> Self {
        MistServer {
            session: Mutex::new(session),
            transport,
        }
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while holding the lock cannot leave a Session half-updated: keep serving.
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A snapshot of the session, with what the client declared in `initialize`.
    fn session_for(&self, peer: &Peer<RoleServer>) -> Session {
        let mut session = self.session();
        session.client.elicitation = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.elicitation.is_some());
        session.clone()
    }
}

/// Asks the human through MCP elicitation: a form with one `confirm` checkbox.
struct PeerElicitor<'a>(&'a Peer<RoleServer>);

#[async_trait::async_trait]
impl Elicitor for PeerElicitor<'_> {
    async fn confirm(&self, request: ElicitRequestParams) -> Confirmation {
        match self.0.create_elicitation(request).await {
            Ok(answer) => match answer.action {
                ElicitationAction::Accept => {
                    // Accepting the form with the box unticked is a "no".
                    let confirmed = answer
                        .content
                        .as_ref()
                        .and_then(|c| c.get(mcp::CONFIRM_FIELD))
                        .and_then(serde_json::Value::as_bool)
                        .unwrap_or(true);
                    if confirmed {
                        Confirmation::Accepted
                    } else {
                        Confirmation::Declined
                    }
                }
                ElicitationAction::Decline => Confirmation::Declined,
                ElicitationAction::Cancel => Confirmation::Cancelled,
                other => Confirmation::Failed(format!("unexpected answer {other:?}")),
            },
            Err(e) => Confirmation::Failed(e.to_string()),
        }
    }
}

impl ServerHandler for MistServer {
    fn get_info(&self) -> ServerConfig {
        mcp::server_config()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = mcp::list_tools(&self.session_for(&context.peer));
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let tool = ToolRef::lookup(name)?;
        let session = self.session();
        mistcore::tools::is_visible(&session, &tool).then(|| tool.definition_for(&session))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // The call works on a snapshot: a slow Mist answer never holds the lock.
        let session = self.session_for(&context.peer);
        let elicitor = PeerElicitor(&context.peer);
        let ctx = CallContext {
            session: &session,
            transport: self.transport.as_ref(),
            elicitor: &elicitor,
        };
        let outcome = mcp::call_tool(ctx, &request.name, request.arguments)
            .await
            .map_err(|e| match e {
                CallError::UnknownTool { .. } => ErrorData::invalid_params(e.to_string(), None),
                other => ErrorData::internal_error(other.to_string(), None),
            })?;
        if let Some(change) = &outcome.change {
            let changed = self.session().apply(change);
            if changed && let Err(e) = context.peer.notify_tool_list_changed().await {
                tracing::warn!("could not send tools/list_changed: {e}");
            }
        }
        Ok(outcome.result.into())
    }
}
