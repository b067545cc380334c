//! The rmcp server handler: one [`Session`] per connection, delegating to mistcore.

use mistcore::api::HttpTransport;
use mistcore::mcp::{self, CallError};
use mistcore::session::Session;
use mistcore::tools::ToolRef;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ListToolsResult, PaginatedRequestParams, ServerConfig,
    Tool,
};
use rmcp::service::RequestContext;
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
}

impl ServerHandler for MistServer {
    fn get_info(&self) -> ServerConfig {
        mcp::server_config()
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = mcp::list_tools(&self.session());
        Ok(ListToolsResult::with_all_items(tools))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let tool = ToolRef::lookup(name)?;
        mistcore::tools::is_visible(&self.session(), &tool).then(|| tool.definition())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // The call works on a snapshot: a slow Mist answer never holds the lock.
        let session = self.session().clone();
        let outcome = mcp::call_tool(
            &session,
            self.transport.as_ref(),
            &request.name,
            request.arguments,
        )
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
