//! The Mist API client: credentials, clouds, one request per call, and what comes back.
//!
//! The HTTP stack is behind [`HttpTransport`] (reqwest natively, fetch on the edge), so this
//! module only builds requests and reads responses. Deadlines, retries and the rate budget wrap
//! the transport ([`crate::resilience`]).

use crate::catalog::{CLOUD_HOSTS, Method, Operation, closest};
use crate::schema::ValidatedArgs;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::fmt;
use url::Url;

/// The operation that tells who a token is (`GET /api/v1/self`).
pub const GET_SELF: &str = "getSelf";

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("mistmcp/", env!("CARGO_PKG_VERSION"));

/// Characters escaped in a path segment: everything but RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An HTTP request, independent of any HTTP stack. Its `Debug` form hides the `Authorization` value.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL, query included.
    pub url: Url,
    /// Request headers (the `Authorization` value is secret: never log it).
    pub headers: Vec<(String, String)>,
    /// A JSON body, for writes.
    pub body: Option<Vec<u8>>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let shown = if k.eq_ignore_ascii_case("authorization") {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// An HTTP response, independent of any HTTP stack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Response headers; names in lower case.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No answer within the configured time.
    #[error("no answer within {seconds} s")]
    Timeout {
        /// The timeout that expired.
        seconds: u64,
    },
    /// The connection could not be made (DNS, TCP, TLS, proxy).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server's certificate is not trusted, or the trusted certificates cannot be read: no
    /// retry can help (reads are not retried), the text says what to configure.
    #[error("cannot connect: {0}")]
    Untrusted(String),
    /// The connection was closed or reset before the whole answer arrived.
    #[error("the connection was reset: {0}")]
    Reset(String),
    /// mistmcp's own budget of calls for this token is spent (see [`crate::resilience`]).
    #[error(
        "the rate budget of this Mist token ({per_hour} calls per hour, --rate-limit) is spent: the next call is possible in {seconds} s"
    )]
    RateBudget {
        /// The budget.
        per_hour: u32,
        /// Seconds until one call frees.
        seconds: u64,
    },
    /// The answer was larger than the host accepts (its body is not read further).
    #[error(
        "the answer is too large: over {limit} bytes ({seen} seen); narrow the request (limit, fields, a time range) or raise MISTMCP_MAX_UPSTREAM_BYTES"
    )]
    TooLarge {
        /// The most bytes accepted.
        limit: usize,
        /// Bytes seen when reading stopped.
        seen: usize,
    },
    /// Anything else the HTTP stack reported.
    #[error("{0}")]
    Other(String),
}

/// Sends one HTTP request. Implemented with reqwest natively and with fetch on the edge.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait HttpTransport: Send + Sync {
    /// Sends the request and returns the whole response.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// A secret string (an API token) that never shows in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret; surrounding whitespace is dropped.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into().trim().to_string())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A bad cloud host or base URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The host is not one of the Mist clouds of the spec.
    #[error(
        "`{host}` is not a Mist cloud host{hint}. Known hosts: {known}. For any other base URL (a test server, a private deployment) use --api-url / MIST_API_URL"
    )]
    UnknownHost {
        /// What was given.
        host: String,
        /// A "did you mean" clause, possibly empty.
        hint: String,
        /// The allowed hosts.
        known: String,
    },
    /// The explicit base URL cannot be used.
    #[error("invalid API base URL `{url}`: {reason}")]
    BadUrl {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Resolves a Mist cloud host (`api.mist.com`, with or without `https://`) against the
/// spec's clouds. The dashboard host (`manage.mist.com`) is accepted for its API host.
pub fn cloud_base(host: &str) -> Result<Url, CloudError> {
    let h = host
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let h = match h.strip_prefix("manage.") {
        Some(rest) => format!("api.{rest}"),
        None => h,
    };
    if let Some(c) = CLOUD_HOSTS.iter().find(|c| c.host() == h) {
        return Url::parse(c.url).map_err(|e| CloudError::BadUrl {
            url: c.url.into(),
            reason: e.to_string(),
        });
    }
    let near = closest(&h, CLOUD_HOSTS.iter().map(|c| c.host()), 1);
    Err(CloudError::UnknownHost {
        host: host.to_string(),
        hint: near
            .first()
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default(),
        known: CLOUD_HOSTS
            .iter()
            .map(|c| c.host())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Parses an explicit base URL (`http://127.0.0.1:4010`), for tests and private deployments.
pub fn custom_base(url: &str) -> Result<Url, CloudError> {
    let bad = |reason: &str| CloudError::BadUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let u = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad("the scheme must be http or https"));
    }
    if u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() {
        return Err(bad(
            "give only scheme, host, port and an optional path prefix",
        ));
    }
    Ok(u)
}

/// Who calls the API, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The API token; calls fail with [`ApiError::MissingToken`] without one.
    pub token: Option<Secret>,
    /// The cloud's base URL (`https://api.mist.com`).
    pub base: Url,
}

impl Credentials {
    /// Credentials for the default cloud (`api.mist.com`) without a token.
    pub fn anonymous() -> Self {
        Credentials {
            token: None,
            base: Url::parse(
                CLOUD_HOSTS
                    .first()
                    .map(|c| c.url)
                    .unwrap_or("https://api.mist.com"),
            )
            .expect("the spec's first server is a valid URL"),
        }
    }
}

/// Where a list or search answer stands in its result set.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pagination {
    /// Total number of results, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Results per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The page that was returned (list endpoints, from 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    /// The relative path of the next page (search endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Whether more results exist beyond this answer.
    pub has_more: bool,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The JSON body (`null` when empty); a non-JSON body is a JSON string.
    pub body: Value,
    /// Pagination facts, for list and search answers.
    pub pagination: Option<Pagination>,
}

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No token is configured.
    #[error("no Mist API token is configured")]
    MissingToken,
    /// The request got no answer.
    #[error("{method} {path} on {host}: {source}")]
    Transport {
        /// The method.
        method: Method,
        /// The path, ids included.
        path: String,
        /// The host called.
        host: String,
        /// What went wrong.
        source: TransportError,
    },
    /// Mist answered with an error status.
    #[error("Mist API error {status} on {method} {path}: {message}. Hint: {hint}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The method.
        method: Method,
        /// The path, ids included.
        path: String,
        /// Mist's own message (or the start of the body).
        message: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// Mist (or something in between) answered a success with a body that is not JSON.
    #[error(
        "Mist answered {status} on {method} {path} with {problem} (content type {content_type}); it starts with: {start}. Hint: this is usually a proxy or an outage in between; try again later"
    )]
    Malformed {
        /// The HTTP status.
        status: u16,
        /// The method.
        method: Method,
        /// The path, ids included.
        path: String,
        /// The `Content-Type` received.
        content_type: String,
        /// What is wrong with the body.
        problem: &'static str,
        /// The first characters of the body.
        start: String,
    },
}

/// What kind of failure an [`ApiError`] is, for counters, logs, exit codes and retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No token is configured.
    NoToken,
    /// No answer within the deadline.
    Timeout,
    /// mistmcp's own rate budget for the token is spent.
    RateBudget,
    /// The connection failed, was reset, or the HTTP stack failed otherwise.
    Network,
    /// Mist answered 429.
    RateLimited,
    /// Mist answered 401 or 403.
    Unauthorized,
    /// Mist answered 404.
    NotFound,
    /// Mist answered another 4xx.
    Upstream4xx,
    /// Mist answered 5xx.
    Upstream5xx,
    /// A success whose body is not JSON.
    Malformed,
    /// An answer over the host's size limit.
    TooLarge,
}

impl ErrorKind {
    /// The kind as counters and logs name it (`upstream_4xx`, `timeout`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NoToken => "no_token",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateBudget => "rate_budget",
            ErrorKind::Network => "network",
            ErrorKind::RateLimited => "rate_limited",
            // Counted with the other 4xx, as before the kinds were typed.
            ErrorKind::Unauthorized | ErrorKind::NotFound | ErrorKind::Upstream4xx => {
                "upstream_4xx"
            }
            ErrorKind::Upstream5xx => "upstream_5xx",
            ErrorKind::Malformed => "malformed",
            ErrorKind::TooLarge => "too_large",
        }
    }
}

impl ApiError {
    /// The error with the token of `credentials` cut out of the texts that came from upstream
    /// (Mist, or a proxy, may echo the request's headers back): it never reaches a client or a log.
    pub fn without(self, credentials: &Credentials) -> ApiError {
        let Some(token) = credentials.token.as_ref().map(Secret::expose) else {
            return self;
        };
        if token.len() < 4 {
            return self;
        }
        let scrub = |text: String| text.replace(token, "«token»");
        match self {
            ApiError::Status {
                status,
                method,
                path,
                message,
                hint,
            } => ApiError::Status {
                status,
                method,
                path,
                message: scrub(message),
                hint,
            },
            ApiError::Malformed {
                status,
                method,
                path,
                content_type,
                problem,
                start,
            } => ApiError::Malformed {
                status,
                method,
                path,
                content_type: scrub(content_type),
                problem,
                start: scrub(start),
            },
            other => other,
        }
    }

    /// Whether Mist could not be reached at all (no connection, or no answer in time).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ApiError::Transport {
                source: TransportError::Connect(_)
                    | TransportError::Untrusted(_)
                    | TransportError::Timeout { .. },
                ..
            }
        )
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ApiError::MissingToken => ErrorKind::NoToken,
            ApiError::Transport { source, .. } => match source {
                TransportError::Timeout { .. } => ErrorKind::Timeout,
                TransportError::RateBudget { .. } => ErrorKind::RateBudget,
                TransportError::TooLarge { .. } => ErrorKind::TooLarge,
                _ => ErrorKind::Network,
            },
            ApiError::Status { status: 429, .. } => ErrorKind::RateLimited,
            ApiError::Status {
                status: 401 | 403, ..
            } => ErrorKind::Unauthorized,
            ApiError::Status { status: 404, .. } => ErrorKind::NotFound,
            ApiError::Status { status, .. } if *status >= 500 => ErrorKind::Upstream5xx,
            ApiError::Status { .. } => ErrorKind::Upstream4xx,
            ApiError::Malformed { .. } => ErrorKind::Malformed,
        }
    }
}

/// What to do about an error status.
pub fn status_hint(status: u16) -> &'static str {
    match status {
        400 => {
            "the request does not match what Mist expects; check the arguments against the operation's parameters"
        }
        401 => {
            "the API token is missing, wrong or expired; check MIST_APITOKEN and that MIST_HOST is the cloud the token was created on"
        }
        403 => {
            "the token cannot access this object; check the ids (org_id, site_id) with getSelf, which lists the orgs and sites the token can see"
        }
        404 => {
            "no such object or path; check the ids, e.g. list the parent objects to find valid ones"
        }
        429 => {
            "the API rate limit is reached (5000 calls per hour per token); wait before retrying, getSelfApiUsage shows the usage"
        }
        500..=599 => "the Mist cloud failed to answer; try again later",
        _ => "see the message from Mist",
    }
}

/// `value` percent-encoded as one path segment: a `/`, `?`, `#` or `.` in it stays inside it.
pub fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// The path of a call, its `{param}` segments filled with percent-encoded values.
pub fn fill_path(op: &Operation, args: &ValidatedArgs) -> String {
    let mut path = op.path.to_string();
    for (name, value) in &args.path {
        path = path.replace(&format!("{{{name}}}"), &encode_segment(value));
    }
    path
}

/// Builds the request of one call.
pub fn build_request(
    credentials: &Credentials,
    op: &Operation,
    args: &ValidatedArgs,
) -> Result<HttpRequest, ApiError> {
    let mut url = credentials.base.clone();
    let prefix = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{}", fill_path(op, args)));
    if !args.query.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in &args.query {
            q.append_pair(k, v);
        }
    }
    request(credentials, op.method, url, args.body.as_ref())
}

/// Builds the request of a relative path and query (`mist_get_next_page`), already checked.
pub fn build_path_request(
    credentials: &Credentials,
    method: Method,
    path_and_query: &str,
) -> Result<HttpRequest, ApiError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut url = credentials.base.clone();
    let prefix = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(Some(query).filter(|q| !q.is_empty()));
    request(credentials, method, url, None)
}

fn request(
    credentials: &Credentials,
    method: Method,
    url: Url,
    body: Option<&Value>,
) -> Result<HttpRequest, ApiError> {
    let token = credentials.token.as_ref().ok_or(ApiError::MissingToken)?;
    let mut headers = vec![
        (
            "authorization".to_string(),
            format!("Token {}", token.expose()),
        ),
        ("accept".to_string(), "application/json".to_string()),
        ("user-agent".to_string(), USER_AGENT.to_string()),
    ];
    let body = body.map(|b| {
        headers.push(("content-type".to_string(), "application/json".to_string()));
        b.to_string().into_bytes()
    });
    Ok(HttpRequest {
        method,
        url,
        headers,
        body,
    })
}

/// `GET /api/v1/self`: who the token is and what it reaches.
pub async fn get_self(
    transport: &dyn HttpTransport,
    credentials: &Credentials,
) -> Result<ApiResponse, ApiError> {
    let op = crate::catalog::operation(GET_SELF).expect("getSelf is in the catalog");
    // getSelf takes no argument: nothing to validate.
    execute(transport, credentials, op, &ValidatedArgs::default()).await
}

/// Sends exactly one request for `op` and interprets the answer.
pub async fn execute(
    transport: &dyn HttpTransport,
    credentials: &Credentials,
    op: &Operation,
    args: &ValidatedArgs,
) -> Result<ApiResponse, ApiError> {
    send(
        transport,
        credentials,
        op,
        build_request(credentials, op, args)?,
    )
    .await
}

/// Sends exactly one prepared request for `op` and interprets the answer.
pub async fn send(
    transport: &dyn HttpTransport,
    credentials: &Credentials,
    op: &Operation,
    request: HttpRequest,
) -> Result<ApiResponse, ApiError> {
    let url = request.url.clone();
    let path = request.url.path().to_string();
    tracing::debug!(operation = op.id, method = %op.method, %path, "calling Mist");
    let response = transport
        .send(request)
        .await
        .map_err(|source| ApiError::Transport {
            method: op.method,
            path: path.clone(),
            host: credentials.base.host_str().unwrap_or("").to_string(),
            source,
        })?;
    tracing::debug!(
        operation = op.id,
        status = response.status,
        bytes = response.body.len(),
        "Mist answered"
    );
    let mut answer = interpret(op, &path, response).map_err(|e| e.without(credentials))?;
    if let Some(p) = answer.pagination.as_mut()
        && p.has_more
        && p.next.is_none()
        && let Some(next_page) = p.page.and_then(|page| page.checked_add(1))
    {
        p.next = Some(with_page(&url, credentials, next_page));
    }
    Ok(answer)
}

/// The relative path and query of `url` asking for another page.
fn with_page(url: &Url, credentials: &Credentials, page: u64) -> String {
    let mut next = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    next.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair("page", &page.to_string());
    relative_to(&next, credentials)
}

/// `url`'s path (without the base's prefix) and query.
fn relative_to(url: &Url, credentials: &Credentials) -> String {
    let prefix = credentials.base.path().trim_end_matches('/');
    let path = url.path().strip_prefix(prefix).unwrap_or(url.path());
    match url.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

/// A `next` link that is not followed; the message starts with "refused" and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NextPageRefused(pub String);

impl From<String> for NextPageRefused {
    fn from(message: String) -> Self {
        NextPageRefused(message)
    }
}

/// Checks a `next` path for `mist_get_next_page` and finds the GET operation it belongs to.
///
/// Accepted: a relative `/api/v1/...` path, or an absolute URL on the session's own cloud
/// (same scheme, host and port). Anything else is refused, so a crafted "next" link can
/// never send the token to another host.
pub fn next_page_target(
    credentials: &Credentials,
    next: &str,
) -> Result<(&'static Operation, String), NextPageRefused> {
    let next = next.trim();
    let relative = if next.starts_with('/') && !next.starts_with("//") {
        next.to_string()
    } else {
        let url = Url::parse(next).map_err(|_| {
            format!("refused: `{next}` is neither a relative /api/v1/ path nor a URL of this session's Mist cloud")
        })?;
        let base = &credentials.base;
        if url.scheme() != base.scheme()
            || url.host_str() != base.host_str()
            || url.port_or_known_default() != base.port_or_known_default()
        {
            return Err(format!(
                "refused: `{next}` is not on this session's Mist cloud ({}); only relative /api/v1/ paths are followed",
                base.origin().ascii_serialization()
            ).into());
        }
        relative_to(&url, credentials)
    };
    if !is_plain_path(&relative) {
        return Err(format!("refused: `{next}` is not a plain /api/v1/ path").into());
    }
    let path = relative.split('?').next().unwrap_or("");
    let (op, _) = operation_for_path(Method::Get, path)
        .ok_or_else(|| format!("refused: `{path}` is not the path of a Mist read operation"))?;
    Ok((op, relative))
}

/// Whether a relative path and query is a plain `/api/v1/` path: no `.` or `..` segment, no
/// encoded dot, slash, backslash or NUL, no fragment, no control character.
pub fn is_plain_path(relative: &str) -> bool {
    let path = relative.split('?').next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    path.starts_with("/api/v1/")
        && !path.split('/').any(|seg| seg == ".." || seg == ".")
        && !lower.contains("%2e")
        && !lower.contains("%2f")
        && !lower.contains("%5c")
        && !lower.contains("%00")
        && !relative.contains(['\\', '#'])
        && !relative.chars().any(char::is_control)
}

/// The operation of `method` whose path template matches `path` (`/api/v1/orgs/abc/sites`),
/// with the values of its path parameters. Of several matches, the template with the most
/// literal segments wins: `/devices/search` before `/devices/{device_id}`.
pub fn operation_for_path(
    method: Method,
    path: &str,
) -> Option<(&'static Operation, Vec<(&'static str, String)>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let op = crate::catalog::OPERATIONS
        .iter()
        .filter(|op| op.method == method)
        .filter_map(|op| {
            let fits = op.path.split('/').count() == segments.len()
                && op
                    .path
                    .split('/')
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == *s);
            fits.then(|| {
                (
                    op.path.split('/').filter(|t| !t.starts_with('{')).count(),
                    op,
                )
            })
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, op)| op)?;
    let values = op
        .path
        .split('/')
        .zip(&segments)
        .filter_map(|(t, s)| {
            let name = t.strip_prefix('{')?.strip_suffix('}')?;
            let param = op.param(name)?;
            let value = percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned();
            Some((param.name, value))
        })
        .collect();
    Some((op, values))
}

/// Turns an HTTP answer into a result or an error.
pub fn interpret(
    op: &Operation,
    path: &str,
    response: HttpResponse,
) -> Result<ApiResponse, ApiError> {
    let is_json = response
        .header("content-type")
        .is_none_or(|ct| ct.contains("json"));
    let text = String::from_utf8_lossy(&response.body);
    let parsed: Option<Value> = if text.trim().is_empty() {
        Some(Value::Null)
    } else if is_json {
        serde_json::from_str(&text).ok()
    } else {
        None
    };
    if !(200..300).contains(&response.status) {
        let mut message = error_message(parsed.as_ref(), &text);
        if response.status == 429 {
            message = match response.header("retry-after").map(str::trim) {
                Some(after) if after.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("rate limited, retry after {after} s ({message})")
                }
                Some(after) => format!("rate limited, retry after {after} ({message})"),
                None => format!("rate limited; Mist did not say when to retry ({message})"),
            };
        }
        return Err(ApiError::Status {
            status: response.status,
            method: op.method,
            path: path.to_string(),
            message,
            hint: status_hint(response.status),
        });
    }
    // A success whose body cannot be what the operation answers: an error page from a proxy,
    // or JSON cut short. Said plainly, with the first bytes, rather than passed on as text.
    let content_type = response.header("content-type").unwrap_or("");
    let html = content_type.contains("html");
    // Text that is not JSON is an error page; binary types are downloads (kept as text).
    let text_page = content_type.starts_with("text/") && !is_json;
    if html || text_page || (is_json && parsed.is_none()) {
        return Err(ApiError::Malformed {
            status: response.status,
            method: op.method,
            path: path.to_string(),
            content_type: response
                .header("content-type")
                .unwrap_or("none")
                .to_string(),
            problem: if html {
                "an HTML page instead of JSON"
            } else if text_page {
                "text instead of JSON"
            } else {
                "JSON that does not parse (cut short?)"
            },
            start: clip(text.trim(), 200),
        });
    }
    let mut body = parsed.unwrap_or_else(|| Value::String(text.into_owned()));
    // Some list endpoints answer `null` when there is nothing to list.
    if body.is_null() && op.id.starts_with("list") {
        body = json!([]);
    }
    let pagination = pagination(&response, &body);
    Ok(ApiResponse {
        status: response.status,
        body,
        pagination,
    })
}

fn error_message(parsed: Option<&Value>, text: &str) -> String {
    let fields = ["detail", "message", "error", "title", "reason"];
    if let Some(Value::Object(o)) = parsed {
        let found: Vec<String> = fields
            .iter()
            .filter_map(|f| o.get(*f))
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        if !found.is_empty() {
            return clip(&found.join("; "), 500);
        }
    }
    let t = text.trim();
    if t.is_empty() {
        "(empty answer)".to_string()
    } else {
        clip(t, 500)
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// Pagination facts from `X-Page-*` headers (lists) or `total`/`next` fields (searches).
fn pagination(response: &HttpResponse, body: &Value) -> Option<Pagination> {
    let num = |name: &str| {
        response
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let (total, limit, page) = (num("x-page-total"), num("x-page-limit"), num("x-page-page"));
    if total.is_some() || limit.is_some() || page.is_some() {
        let has_more = match (total, limit, page) {
            (Some(t), Some(l), Some(p)) if l > 0 => p.saturating_mul(l) < t,
            _ => false,
        };
        return Some(Pagination {
            total,
            limit,
            page,
            next: None,
            has_more,
        });
    }
    // Search answers: `results` with `total`, `limit` and a `next` path when more exist.
    let obj = body.as_object().filter(|o| o.contains_key("results"))?;
    let next = obj
        .get("next")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let total = obj.get("total").and_then(Value::as_u64);
    if next.is_none() && total.is_none() {
        return None;
    }
    Some(Pagination {
        total,
        limit: obj.get("limit").and_then(Value::as_u64),
        page: None,
        has_more: next.is_some(),
        next,
    })
}
