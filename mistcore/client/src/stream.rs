//! The port through which device commands reach the Mist WebSocket stream: the host opens
//! WebSockets (natively; Workers-style hosts in a later step); mistcore's `devices` speaks the
//! stream's protocol over them.

use crate::api::Credentials;
use std::time::Duration;

/// The longest a utility's output is read by default (`MISTMCP_COMMAND_TIMEOUT` natively).
pub const MAX_DURATION: Duration = Duration::from_secs(60);

/// Why a stream could not be opened or written to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// Opening it was refused before any connection (a URL that may not carry the token, a
    /// malformed URL or header).
    #[error("{0}")]
    Refused(String),
    /// The connection could not be made, or did not answer in time.
    #[error("{0}")]
    Connect(String),
    /// A frame could not be sent.
    #[error("cannot send on the Mist stream: {0}")]
    Send(String),
}

/// What a stream gave when asked for its next message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A message (text, or binary decoded as UTF-8 with NUL bytes removed).
    Message(String),
    /// Nothing within the time asked.
    Idle,
    /// The other side closed the stream.
    Closed,
    /// The stream failed.
    Failed(String),
}

/// An open WebSocket.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Stream: Send {
    /// Sends a text frame.
    async fn send_text(&mut self, text: &str) -> Result<(), StreamError>;
    /// Sends a binary frame.
    async fn send_binary(&mut self, data: &[u8]) -> Result<(), StreamError>;
    /// The next message, waiting at most `wait`.
    async fn next(&mut self, wait: Duration) -> StreamEvent;
}

/// Opens WebSockets (natively; the edge has none).
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait DeviceStreams: Send + Sync {
    /// Opens `url` with the token of `credentials` (`Authorization: Token ...`).
    async fn open(
        &self,
        url: &str,
        credentials: &Credentials,
    ) -> Result<Box<dyn Stream>, StreamError>;

    /// The URL of the cloud's event stream: the API host with `api.` replaced by `api-ws.`
    /// (`wss://api-ws.mist.com/api-ws/v1/stream`); for another base URL, the same host.
    fn stream_url(&self, credentials: &Credentials) -> String {
        stream_url(&credentials.base)
    }

    /// The commands a remote shell refuses (prefixes of the normalized command); `None` when
    /// the list is missing, and then every shell command is refused.
    fn shell_denylist(&self) -> Option<Vec<String>>;
}

/// The event stream URL for an API base URL.
pub fn stream_url(base: &url::Url) -> String {
    let host = base.host_str().unwrap_or("api.mist.com");
    let scheme = if base.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
    let host = match host.strip_prefix("api.") {
        Some(rest) => format!("api-ws.{rest}"),
        None => host.to_string(),
    };
    format!("{scheme}://{host}{port}/api-ws/v1/stream")
}
