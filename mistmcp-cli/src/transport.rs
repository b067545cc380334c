//! [`HttpTransport`] over reqwest: TLS by rustls with the roots of [`crate::trust`] (the platform's
//! store or `SSL_CERT_FILE`/`SSL_CERT_DIR`, and the bundled Mozilla roots), through the proxy
//! [`crate::proxy`] chooses (`HTTPS_PROXY`, `NO_PROXY`, ...).

use mistcore::api::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use mistcore::catalog::Method;
use mistcore::resilience::{Clock, Policy, Resilient};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

tokio::task_local! {
    /// Requests sent to Mist by the current call, counted here as they are sent (the MCP server
    /// scopes one counter per tool call for its call log).
    pub static UPSTREAM_REQUESTS: std::sync::Arc<std::sync::atomic::AtomicU32>;
}

/// Sends Mist requests with one pooled reqwest client and a per-request timeout.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    /// Built at the first request, shared by clones: the trusted roots are read only when Mist
    /// is called (reading the platform's store would double the start-up time of a server that
    /// may only list tools). A root that cannot be used is kept here as the error every call shows.
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
    /// The proxies reqwest is given, also to name the one a failed connection went through.
    proxies: crate::proxy::ProxySettings,
    timeout: Duration,
    /// The largest answer read (`MISTMCP_MAX_UPSTREAM_BYTES`, default 64 MiB): one call can never
    /// fill the memory of a server others share.
    max_body: usize,
}

/// The most idle connections to one Mist host kept open for the next requests: more than the
/// calls a team server runs at once (a cap of 32 made 50 busy sessions open 197 connections
/// for 10,000 calls instead of 50, each a new TLS handshake with Mist).
pub const IDLE_CONNECTIONS: usize = 128;

/// How long an idle connection to Mist is kept: through an assistant's burst of calls, not
/// for the life of the server (each holds its TLS and HTTP buffers).
pub const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer body read from Mist by default.
pub const DEFAULT_MAX_UPSTREAM_BYTES: usize = 64 << 20;

impl ReqwestTransport {
    /// A transport whose requests give up after `timeout`; fails when a proxy variable cannot be
    /// used (the error names it and says how to fix it). Unusable trusted roots (`SSL_CERT_FILE`,
    /// `SSL_CERT_DIR`) fail the first request instead, with the same kind of message.
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let proxies = crate::proxy::ProxySettings::from_env()?;
        let max_body = std::env::var("MISTMCP_MAX_UPSTREAM_BYTES")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_UPSTREAM_BYTES);
        Ok(ReqwestTransport {
            client: Arc::new(OnceLock::new()),
            proxies,
            timeout,
            max_body,
        })
    }

    /// The reqwest client, built at the first call.
    fn client(&self) -> Result<&reqwest::Client, TransportError> {
        self.client
            .get_or_init(|| {
                let tls = crate::trust::client_config().map_err(|e| e.to_string())?;
                // No redirects: one tool call is one request, and a token never follows a Location.
                let builder = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(self.timeout)
                    .connect_timeout(self.timeout.min(Duration::from_secs(10)))
                    // Idle connections to Mist kept for reuse: enough for a team's bursts, not
                    // one per session ever seen (each holds its TLS and HTTP buffers).
                    .pool_max_idle_per_host(IDLE_CONNECTIONS)
                    .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
                    .use_preconfigured_tls((*tls).clone());
                self.proxies
                    .apply_to(builder)
                    .build()
                    .map_err(|e| format!("cannot set up the HTTP client: {e}"))
            })
            .as_ref()
            // No connection can be made without it (the connectivity tool says "not reachable").
            .map_err(|problem| TransportError::Untrusted(problem.clone()))
    }
}

/// A connect error in words: reqwest's own text ("error sending request") and the innermost
/// cause (refused, a DNS failure, the proxy's refusal), which name no header and no credential
/// (the proxy URL handed to reqwest has none).
fn connect_problem(e: reqwest::Error) -> String {
    use std::error::Error;
    let mut innermost = None;
    let mut source = e.source();
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    let head = e.without_url().to_string();
    match innermost {
        Some(cause) => format!("{head}: {cause}"),
        None => head,
    }
}

/// Whether the connection broke mid-request (reset, closed before the answer was complete).
fn is_reset(e: &reqwest::Error) -> bool {
    use std::error::Error;
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled())
        {
            return true;
        }
        source = cause.source();
    }
    false
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
            Method::Patch => reqwest::Method::PATCH,
        };
        let authority = match request.url.port() {
            Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or("")),
            None => request.url.host_str().unwrap_or("").to_string(),
        };
        // A connection through a proxy that fails says so (the proxy without its credentials).
        let via = self
            .proxies
            .for_url(&request.url)
            .map(|proxy| format!(" (through the proxy {proxy})"))
            .unwrap_or_default();
        let mut builder = self.client()?.request(method, request.url.as_str());
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let classify = |e: reqwest::Error| {
            // reqwest's messages name the URL, never the headers: no token can leak here.
            if e.is_timeout() {
                TransportError::Timeout {
                    seconds: self.timeout.as_secs(),
                }
            } else if let Some(problem) = crate::trust::certificate_problem(&e, &authority) {
                TransportError::Untrusted(format!("{problem}{via}"))
            } else if e.is_connect() {
                TransportError::Connect(format!("{}{via}", connect_problem(e)))
            } else if is_reset(&e) {
                TransportError::Reset(e.without_url().to_string())
            } else {
                TransportError::Other(e.without_url().to_string())
            }
        };
        // Counted for the call's log line (mistmcp's tool calls set the counter).
        let _ =
            UPSTREAM_REQUESTS.try_with(|n| n.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        // Read as a stream, up to the limit: neither a huge nor an endless body is buffered.
        let limit = self.max_body;
        if let Some(length) = response.content_length().filter(|l| *l as usize > limit) {
            return Err(TransportError::TooLarge {
                limit,
                seen: length as usize,
            });
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(TransportError::TooLarge {
                    limit,
                    seen: body.len() + chunk.len(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The [`Clock`] of the native frontends: tokio's timer and the system clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

#[async_trait::async_trait]
impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix_seconds(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The transport of the native frontends: reqwest under the [`Policy`] (deadline, retries of
/// reads, rate budget per token).
pub type MistTransport = Resilient<ReqwestTransport, TokioClock>;

/// A [`MistTransport`] for `policy`.
pub fn mist_transport(policy: Policy) -> anyhow::Result<MistTransport> {
    let inner = ReqwestTransport::new(policy.request_timeout)?;
    Ok(Resilient::new(inner, TokioClock::default(), policy))
}

/// Makes ring the process's TLS provider (reqwest, the Mist stream's WebSockets and the HTTPS
/// server all use rustls); harmless when done twice.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::TokioClock;
    use mistcore::api::{HttpRequest, HttpResponse, HttpTransport, TransportError};
    use mistcore::catalog::Method;
    use mistcore::resilience::{Policy, Resilient};
    use std::sync::Arc;
    use std::time::Duration;

    /// Answers every request with a certificate error, counting them.
    struct Untrusted(Arc<std::sync::atomic::AtomicUsize>);

    #[async_trait::async_trait]
    impl HttpTransport for Untrusted {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(TransportError::Untrusted("invalid peer certificate".into()))
        }
    }

    /// A certificate the host does not trust fails at once: a retry cannot change it.
    #[tokio::test(start_paused = true)]
    async fn a_certificate_error_is_not_retried() {
        let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let client = Resilient::new(
            Untrusted(sent.clone()),
            TokioClock::default(),
            Policy::default(),
        );
        let error = client.send(request()).await.expect_err("untrusted");
        assert!(error.to_string().starts_with("cannot connect:"), "{error}");
        assert_eq!(sent.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    struct Answers;

    #[async_trait::async_trait]
    impl HttpTransport for Answers {
        async fn send(&self, _: HttpRequest) -> Result<HttpResponse, TransportError> {
            Ok(HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: b"{}".to_vec(),
            })
        }
    }

    fn request() -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: url::Url::parse("https://api.mist.com/api/v1/self").expect("a URL"),
            headers: vec![("authorization".into(), "Token t".into())],
            body: None,
        }
    }

    /// Issue 18: with the budget spent, 100 concurrent calls each answer within the 2 s cap
    /// (in tokio's paused time: no real waiting), the few that a freed call lets through and
    /// the others failing fast, instead of all waiting out the request timeout.
    #[tokio::test(start_paused = true)]
    async fn concurrent_calls_on_a_spent_budget_answer_within_the_cap() {
        let policy = Policy {
            calls_per_hour: Some(3600),
            ..Policy::default()
        };
        let cap = policy.budget_wait_cap;
        let client = Arc::new(Resilient::new(Answers, TokioClock::default(), policy));
        for _ in 0..3600 {
            client.send(request()).await.expect("within the budget");
        }
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move {
                    let started = tokio::time::Instant::now();
                    let outcome = client.send(request()).await;
                    (started.elapsed(), outcome.is_ok())
                })
            })
            .collect();
        let mut through = 0;
        for call in calls {
            let (waited, ok) = call.await.expect("the call ran");
            assert!(
                waited <= cap + Duration::from_millis(1),
                "waited {waited:?}"
            );
            through += usize::from(ok);
        }
        // One call a second frees: about two of the hundred get through within the cap.
        assert!((1..=3).contains(&through), "{through} calls went through");
    }
}
