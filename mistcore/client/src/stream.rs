//! The port through which device commands reach the Mist WebSocket stream: the host opens
//! WebSockets (tokio-tungstenite natively, the host's `fetch` upgrade on Workers-style hosts);
//! mistcore's `devices` speaks the stream's protocol over them. Which URLs may be opened and which
//! get the token is decided here ([`stream_target`]), once for every host.

use crate::api::Credentials;
use std::time::Duration;

/// The longest a utility's output is read by default (`MISTMCP_COMMAND_TIMEOUT`).
pub const MAX_DURATION: Duration = Duration::from_secs(60);

/// The command deadline of a `MISTMCP_COMMAND_TIMEOUT` setting in seconds (natively the
/// environment, on the edge a binding): [`MAX_DURATION`] without one, else 1 s to 10 min.
pub fn command_deadline(seconds: Option<u64>) -> Duration {
    seconds.map_or(MAX_DURATION, |s| Duration::from_secs(s.clamp(1, 600)))
}

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

/// `Send` natively, where streams cross threads; nothing on wasm32, where there is one thread
/// and a WebSocket is a JS object (never `Send`).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + ?Sized> MaybeSend for T {}
/// `Send` natively, where streams cross threads; nothing on wasm32, where there is one thread
/// and a WebSocket is a JS object (never `Send`).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSend for T {}

/// An open WebSocket.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait Stream: MaybeSend {
    /// Sends a text frame.
    async fn send_text(&mut self, text: &str) -> Result<(), StreamError>;
    /// Sends a binary frame.
    async fn send_binary(&mut self, data: &[u8]) -> Result<(), StreamError>;
    /// The next message, waiting at most `wait`.
    async fn next(&mut self, wait: Duration) -> StreamEvent;
}

/// Opens WebSockets (tokio-tungstenite natively, `fetch` with `Upgrade: websocket` on the edge).
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait DeviceStreams: Send + Sync {
    /// Opens `url`, with the token of `credentials` (`Authorization: Token ...`) when
    /// [`stream_target`] says it may carry it.
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

/// A stream URL that may be opened, and whether the token goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTarget {
    /// The URL to open.
    pub url: url::Url,
    /// Its host, for error texts (which never name headers, so never the token).
    pub host: String,
    /// Whether `Authorization: Token ...` is sent: only to the cloud's own stream.
    pub send_token: bool,
}

/// Decides whether the stream at `url` may be opened when the cloud's stream is `configured`
/// ([`DeviceStreams::stream_url`]), and whether it gets the token. The token goes only to the
/// cloud's own stream: the same origin (scheme, host and port) as `configured`. Other URLs (a
/// shell's, which carries its own JWT) get none, and must be encrypted (`wss`) unless the
/// configured stream itself is plain `ws` (tests).
pub fn stream_target(url: &str, configured: &str) -> Result<StreamTarget, StreamError> {
    let target =
        url::Url::parse(url).map_err(|e| StreamError::Refused(format!("bad stream URL: {e}")))?;
    if !matches!(target.scheme(), "ws" | "wss") {
        return Err(StreamError::Refused(format!(
            "bad stream URL: `{}` is not a WebSocket scheme (ws, wss)",
            target.scheme()
        )));
    }
    let host = target.host_str().unwrap_or("").to_string();
    let configured = url::Url::parse(configured).ok();
    let own = configured
        .as_ref()
        .is_some_and(|c| c.origin() == target.origin());
    let plain_configured = configured.as_ref().is_some_and(|c| c.scheme() == "ws");
    if !own && target.scheme() != "wss" && !plain_configured {
        return Err(StreamError::Refused(format!(
            "refused: the stream at {host} is neither the cloud's stream nor encrypted (wss)"
        )));
    }
    Ok(StreamTarget {
        url: target,
        host,
        send_token: own,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_to_the_clouds_own_stream_only() {
        let cloud = "wss://api-ws.mist.com/api-ws/v1/stream";
        let own = stream_target("wss://api-ws.mist.com/api-ws/v1/stream", cloud).expect("own");
        assert!(own.send_token);
        let shell = stream_target("wss://shell.mist.com/ssh?jwt=x", cloud).expect("shell");
        assert!(!shell.send_token && shell.host == "shell.mist.com");
        let other_port = stream_target("wss://api-ws.mist.com:8443/x", cloud).expect("port");
        assert!(!other_port.send_token, "another port is another origin");
        assert!(
            stream_target("ws://shell.mist.com/ssh", cloud).is_err(),
            "plain"
        );
        assert!(
            stream_target("https://api-ws.mist.com/", cloud).is_err(),
            "scheme"
        );
        let test = "ws://127.0.0.1:9000/api-ws/v1/stream";
        assert!(stream_target("ws://127.0.0.1:9001/ssh", test).is_ok_and(|t| !t.send_token));
    }
}
