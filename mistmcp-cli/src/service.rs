//! What the native frontends offer the diagnostic tools: uptime and counters, the rate budget,
//! sessions, the security limits, and WebSockets to the Mist stream (tokio-tungstenite).

use crate::transport::MistTransport;
use futures_util::{SinkExt, StreamExt};
use mistcore::api::{Credentials, HttpTransport};
use mistcore::host::{Metrics, Service};
use mistcore::request_state::StateKey;
use mistcore::security::Limits;
use mistcore::session::Session;
use mistcore::stream::{DeviceStreams, Stream, StreamError, StreamEvent};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The service of one `mistmcp` or `mistcli` process.
pub struct NativeService {
    started: Instant,
    /// Counters of the calls answered.
    pub metrics: Metrics,
    /// Gives memory back to the system after each burst of work.
    pub memory: Arc<crate::memory::Keeper>,
    transport: Arc<MistTransport>,
    limits: Limits,
    /// HTTP sessions open (`None` on stdio and in the CLI).
    sessions: Mutex<Option<usize>>,
    streams: WsStreams,
    command_deadline: Duration,
    confirm_timeout: Duration,
    /// The key of sessionless confirmations, with a secret of this process.
    state_key: StateKey,
}

impl NativeService {
    /// The service around `transport`, with the security `limits`; `stream_url` (`MIST_WS_URL`
    /// of the token's source) replaces the cloud's event stream URL.
    pub fn new(transport: MistTransport, limits: Limits, stream_url: Option<String>) -> Self {
        NativeService {
            started: Instant::now(),
            metrics: Metrics::default(),
            memory: Arc::default(),
            transport: Arc::new(transport),
            limits,
            sessions: Mutex::new(None),
            state_key: process_state_key(),
            streams: WsStreams::new(stream_url),
            // MISTMCP_COMMAND_TIMEOUT: seconds a device command's output is read at most.
            command_deadline: mistcore::stream::command_deadline(
                std::env::var("MISTMCP_COMMAND_TIMEOUT")
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok()),
            ),
            // MISTMCP_CONFIRM_TIMEOUT: seconds a write confirmation waits for the human.
            confirm_timeout: std::env::var("MISTMCP_CONFIRM_TIMEOUT")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(300), |s| {
                    Duration::from_secs(s.clamp(1, 86_400))
                }),
        }
    }

    /// The key that issues and redeems the `requestState` of sessionless confirmations.
    pub fn state_key(&self) -> &StateKey {
        &self.state_key
    }

    /// How long a write confirmation waits for the human's answer.
    pub fn confirm_timeout(&self) -> Duration {
        self.confirm_timeout
    }

    /// Records how many HTTP sessions are open (shown by the health tool).
    pub fn set_sessions(&self, open: usize) {
        *self.sessions.lock().unwrap_or_else(|p| p.into_inner()) = Some(open);
    }

    /// The way to Mist.
    pub fn transport(&self) -> Arc<dyn HttpTransport> {
        self.transport.clone()
    }
}

#[async_trait::async_trait]
impl Service for NativeService {
    fn health(&self, session: &Session) -> Value {
        let token = session
            .credentials
            .token
            .as_ref()
            .map(|t| format!("Token {}", t.expose()));
        let policy = self.transport.policy();
        let mut health = json!({
            "service": "mistmcp",
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": self.started.elapsed().as_secs(),
            "cloud": session.credentials.base.as_str(),
            "rate_budget": {
                "calls_per_hour": policy.calls_per_hour,
                "left_for_this_token": token.as_deref().and_then(|t| self.transport.calls_left(t)),
            },
            "request_timeout_seconds": policy.request_timeout.as_secs(),
        });
        if let Some(open) = *self.sessions.lock().unwrap_or_else(|p| p.into_inner()) {
            health["sessions"] = json!(open);
        }
        if let (Value::Object(h), Value::Object(mut m)) = (&mut health, self.metrics.snapshot()) {
            // A shared HTTP server shows totals only: which operations other sessions ran
            // is theirs.
            if h.contains_key("sessions") {
                m.remove("operations");
            }
            h.extend(m);
        }
        health
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn security_limits(&self) -> Limits {
        self.limits.clone()
    }

    fn command_deadline(&self) -> Duration {
        self.command_deadline
    }

    fn devices(&self) -> Option<&dyn DeviceStreams> {
        Some(&self.streams)
    }
}

/// A key with 32 random bytes of this process: states die with it.
fn process_state_key() -> StateKey {
    let mut secret = [0u8; 40];
    // Server tokens need the same randomness; a system without it cannot run a server safely.
    getrandom::fill(&mut secret).expect("the operating system provides randomness");
    let (key, instance) = secret.split_at(32);
    let instance = u64::from_le_bytes(instance.try_into().expect("8 bytes"));
    StateKey::new(key, instance)
}

/// Opens the WebSocket of `request` to `target`: a TCP connection, directly or through a CONNECT
/// tunnel of the proxy [`crate::proxy`] chooses, then TLS with [`crate::trust`]'s configuration
/// (for `wss`) and the WebSocket handshake. Errors name the host (and the proxy without its
/// credentials), never the request's headers.
async fn connect(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
    target: &url::Url,
) -> Result<Socket, StreamError> {
    let host = target.host_str().unwrap_or("").to_string();
    let port = target
        .port_or_known_default()
        .ok_or_else(|| StreamError::Refused(format!("bad stream URL: no port for {host}")))?;
    let failed = |problem: String| {
        StreamError::Connect(format!("cannot open the Mist stream at {host}: {problem}"))
    };
    let tls = crate::trust::client_config().map_err(|e| failed(e.to_string()))?;
    let proxies = crate::proxy::ProxySettings::from_env().map_err(|e| failed(e.to_string()))?;
    let tcp = match proxies.for_url(target) {
        Some(proxy) => {
            tracing::debug!(%proxy, "opening the Mist stream through the proxy");
            proxy
                .open_tunnel(&host, port)
                .await
                .map_err(|e| failed(e.to_string()))?
        }
        None => {
            let tcp = match target.host() {
                Some(url::Host::Ipv6(address)) => {
                    tokio::net::TcpStream::connect((address, port)).await
                }
                _ => tokio::net::TcpStream::connect((host.as_str(), port)).await,
            }
            .map_err(|e| failed(e.to_string()))?;
            let _ = tcp.set_nodelay(true);
            tcp
        }
    };
    let (socket, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        None,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    )
    .await
    .map_err(|e| {
        let authority = format!("{host}:{port}");
        failed(crate::trust::certificate_problem(&e, &authority).unwrap_or_else(|| e.to_string()))
    })?;
    Ok(socket)
}

/// WebSockets to the Mist stream with tokio-tungstenite, opened directly or through the proxy
/// (see `connect` in this module), with TLS by [`crate::trust`].
pub struct WsStreams {
    stream_url: Option<String>,
    denylist: Option<Vec<String>>,
}

impl WsStreams {
    /// `stream_url` overrides the stream's URL (tests, private deployments);
    /// `MISTMCP_SHELL_DENYLIST` names a file of denied shell commands, one per line (a missing
    /// or empty file refuses every shell command).
    pub fn new(stream_url: Option<String>) -> Self {
        let denylist = match std::env::var_os("MISTMCP_SHELL_DENYLIST") {
            None => Some(mistcore::devices::default_shell_denylist()),
            Some(path) => std::fs::read_to_string(path)
                .ok()
                .and_then(|text| mistcore::devices::shell_denylist_from_text(&text)),
        };
        WsStreams {
            stream_url: stream_url.filter(|u| !u.is_empty()),
            denylist,
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct WsStream(Socket);

#[async_trait::async_trait]
impl Stream for WsStream {
    async fn send_text(&mut self, text: &str) -> Result<(), StreamError> {
        self.0
            .send(Message::text(text))
            .await
            .map_err(|e| StreamError::Send(e.to_string()))
    }

    async fn send_binary(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.0
            .send(Message::binary(data.to_vec()))
            .await
            .map_err(|e| StreamError::Send(e.to_string()))
    }

    async fn next(&mut self, wait: Duration) -> StreamEvent {
        // One deadline for the whole wait: pings and other control frames do not extend it.
        let until = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(until, self.0.next()).await {
                Err(_) => return StreamEvent::Idle,
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return StreamEvent::Closed,
                Ok(Some(Err(e))) => return StreamEvent::Failed(e.to_string()),
                Ok(Some(Ok(Message::Text(t)))) => return StreamEvent::Message(t.to_string()),
                Ok(Some(Ok(Message::Binary(b)))) => {
                    let text = String::from_utf8_lossy(&b).replace('\0', "");
                    return StreamEvent::Message(text);
                }
                // Pings are answered by tungstenite; keep reading.
                Ok(Some(Ok(_))) => {}
            }
        }
    }
}

#[async_trait::async_trait]
impl DeviceStreams for WsStreams {
    async fn open(
        &self,
        url: &str,
        credentials: &Credentials,
    ) -> Result<Box<dyn Stream>, StreamError> {
        let mut request = url
            .into_client_request()
            .map_err(|e| StreamError::Refused(format!("bad stream URL: {e}")))?;
        // Which URLs may be opened, and which get the token: mistcore's one rule.
        let target = mistcore::stream::stream_target(url, &self.stream_url(credentials))?;
        let host = target.host;
        if target.send_token
            && let Some(token) = &credentials.token
        {
            let value = format!("Token {}", token.expose())
                .parse()
                .map_err(|_| StreamError::Refused("the token cannot be sent in a header".into()))?;
            request.headers_mut().insert("authorization", value);
        }
        let socket = tokio::time::timeout(Duration::from_secs(15), connect(request, &target.url))
            .await
            .map_err(|_| {
                StreamError::Connect(format!(
                    "the Mist stream at {host} did not answer within 15 s"
                ))
            })??;
        Ok(Box::new(WsStream(socket)))
    }

    fn stream_url(&self, credentials: &Credentials) -> String {
        self.stream_url
            .clone()
            .unwrap_or_else(|| mistcore::stream::stream_url(&credentials.base))
    }

    fn shell_denylist(&self) -> Option<Vec<String>> {
        self.denylist.clone()
    }
}
