//! What the edge offers tool calls beyond Mist ([`Service`]): its clock, the device command
//! deadline (`MISTMCP_COMMAND_TIMEOUT`) and the Mist stream through [`EdgeStreams`]. It keeps no
//! counters: an isolate's requests are not a service's history.

use crate::fetch::JsClock;
use crate::websocket::EdgeStreams;
use mistcore::host::{NoService, Service};
use mistcore::resilience::Clock;
use mistcore::session::Session;
use serde_json::Value;
use std::time::Duration;

/// The service of one request on the edge.
#[derive(Debug, Clone)]
pub struct EdgeService {
    /// WebSockets to the Mist stream.
    pub streams: EdgeStreams,
    /// The longest a device command's output is read.
    pub command_deadline: Duration,
}

#[async_trait::async_trait(?Send)]
impl Service for EdgeService {
    fn health(&self, session: &Session) -> Value {
        NoService.health(session)
    }

    fn now(&self) -> Duration {
        JsClock.now()
    }

    fn command_deadline(&self) -> Duration {
        self.command_deadline
    }

    fn devices(&self) -> Option<&dyn mistcore::stream::DeviceStreams> {
        Some(&self.streams)
    }
}
