//! Load benchmark of `mistmcp --transport http`: N concurrent sessions × M tool calls against a
//! Mist mock of our own (axum, in this process), printing calls/s, p50/p99 and peak RSS.
//!
//! `cargo run --release --example http_load -- [sessions] [calls] [path to mistmcp] [fault %]`
//! (scripts/soak.sh runs it with 20 × 1000 and 10 % faults).
//!
//! `http_load levels [path to mistmcp]` (scripts/bench.sh): a fresh server per mode and number of
//! sessions (1, 50, 200, 400 in `managed`; 50 in every other mode) printing calls/s, p50/p99, the
//! server's CPU per call (its /proc utime+stime), its RSS per open idle session and its RSS after
//! every session was closed, against its RSS before the load.
//!
//! With faults, the mock answers that share of requests with a 503 (retried by the server), a
//! 429 with `Retry-After: 0` (retried), an HTML 500 page or truncated JSON (tool errors), or
//! slowly (200 ms); the run then checks that every request got exactly one answer, and compares
//! the server's RSS after warm-up (10 % of the calls) with its RSS at the end.
//!
//! `http_load verify OAUTH_CONFIG [count]` (with `HTTP_LOAD_BEARER`): the server's own check of
//! an access token (`OAuthGate::authenticate`, keys fetched once and cached) `count` times in a
//! row, printing the wall and CPU time of one.
//!
//! The environment adds, for every mode (scripts/bench_oauth.py):
//! - `HTTP_LOAD_BEARER=TOKEN`: `Authorization: Bearer TOKEN` on every request (an OAuth access
//!   token for a server run with `--oauth-config`; the Mist token header is still sent, and
//!   ignored by such a server, so that both runs send the same requests but that header);
//! - `HTTP_LOAD_SERVER_ARGS="--flag value ..."`: more arguments of the server (split at spaces);
//!   the server inherits the environment (the variable a rule reads its Mist token from, say);
//! - `HTTP_LOAD_MIST_TOKEN=TOKEN`: this Mist token in every session instead of one per session
//!   (`t0`, `t1`, ...), as an OAuth rule binds one to every session of a user;
//! - `HTTP_LOAD_CALLS_ONLY=1` (`levels`): the calls only, without the memory readings and the
//!   waits they need (about 27 s per row): the memory columns show `-`.

use axum::response::IntoResponse;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

const SELF: &str = r#"{"email":"bench@example.com","privileges":[{"scope":"org","org_id":"6748cfa6-4e12-11e6-9188-0242ac110007","role":"admin"}]}"#;

/// The server's cap on an answer from Mist in the soak (`MISTMCP_MAX_UPSTREAM_BYTES`).
const UPSTREAM_CAP: usize = 1 << 20;

/// The mock's answer to request number `n` with `faults` percent of faults and `oversized`
/// percent of answers twice the server's cap (chunked, so the server must read them as a stream).
async fn mist_answer(n: usize, faults: usize, oversized: usize) -> axum::response::Response {
    let json = [(http::header::CONTENT_TYPE, "application/json")];
    if (faults..faults + oversized).contains(&(n % 100)) {
        let chunk = axum::body::Bytes::from(vec![b' '; 64 << 10]);
        let chunks = (2 * UPSTREAM_CAP) / chunk.len();
        let body = futures_util::stream::iter(
            std::iter::once(axum::body::Bytes::from_static(b"["))
                .chain(std::iter::repeat_n(chunk, chunks))
                .map(Ok::<_, std::convert::Infallible>),
        );
        return (json, axum::body::Body::from_stream(body)).into_response();
    }
    if n % 100 >= faults {
        return (json, SELF).into_response();
    }
    match (n / 100) % 5 {
        0 => (http::StatusCode::SERVICE_UNAVAILABLE, "<html>503</html>").into_response(),
        1 => (
            http::StatusCode::TOO_MANY_REQUESTS,
            [(http::header::RETRY_AFTER, "0")],
            r#"{"detail":"slow down"}"#,
        )
            .into_response(),
        2 => (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            [(http::header::CONTENT_TYPE, "text/html")],
            "<html>500</html>",
        )
            .into_response(),
        3 => (json, r#"{"email":"bench@exa"#).into_response(),
        _ => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            (json, SELF).into_response()
        }
    }
}

/// `Authorization: Bearer <HTTP_LOAD_BEARER>`, when set.
static BEARER: LazyLock<Option<String>> = LazyLock::new(|| {
    std::env::var("HTTP_LOAD_BEARER")
        .ok()
        .filter(|t| !t.is_empty())
        .map(|t| format!("Bearer {t}"))
});

/// `HTTP_LOAD_SERVER_ARGS`, split at spaces.
static SERVER_ARGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    std::env::var("HTTP_LOAD_SERVER_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
});

/// The Mist token of session `n`: `HTTP_LOAD_MIST_TOKEN` for all, else one per session.
fn mist_token(n: impl std::fmt::Display) -> String {
    std::env::var("HTTP_LOAD_MIST_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("t{n}"))
}

/// The request with the bearer token when there is one.
fn authorized(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match BEARER.as_deref() {
        Some(value) => request.header("authorization", value),
        None => request,
    }
}

/// The latency below which a share `p` of the sorted `latencies` fall.
fn percentile(latencies: &[Duration], p: f64) -> Duration {
    latencies
        .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "levels") {
        let binary = args
            .get(2)
            .cloned()
            .unwrap_or_else(|| "target/release/mistmcp".into());
        return levels(&binary, &args[3.min(args.len())..]).await;
    }
    if args.get(1).is_some_and(|a| a == "verify") {
        let config = args
            .get(2)
            .ok_or_else(|| anyhow::anyhow!("usage: http_load verify OAUTH_CONFIG [count]"))?;
        let count = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20_000);
        return verify(std::path::Path::new(config), count).await;
    }
    let sessions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(50);
    let calls: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let binary = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "target/release/mistmcp".into());
    let faults: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0);
    // Sockets held open and silent for the whole run; the server then runs with 256 descriptors.
    let idle: usize = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(0);
    let oversized: usize = args.get(6).and_then(|a| a.parse().ok()).unwrap_or(0);

    // The Mist mock: /api/v1/self answers at once (or with a fault).
    let mock = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mock_addr = mock.local_addr()?;
    let upstream = Arc::new(AtomicUsize::new(0));
    let counter = upstream.clone();
    let app = axum::Router::new().fallback(move || {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        mist_answer(n, faults, oversized)
    });
    let mock = axum::serve::ListenerExt::tap_io(mock, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(mock, app).await });

    // With silent sockets held, the server runs with 256 descriptors.
    let wrapper: &[&str] = if idle > 0 {
        &["prlimit", "--nofile=256:256"]
    } else {
        &[]
    };
    let server = start_server(
        &binary,
        mock_addr,
        &["--max-sessions", "1000"],
        wrapper,
        &[("MISTMCP_MAX_UPSTREAM_BYTES", UPSTREAM_CAP.to_string())],
    )
    .await?;
    let port = server.port;
    let url = format!("http://127.0.0.1:{port}/mcp?cloud=api.mist.com");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(sessions * 2)
        .build()?;

    let mut held = Vec::with_capacity(idle);
    for _ in 0..idle {
        held.push(tokio::net::TcpStream::connect(("127.0.0.1", port)).await?);
    }
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let pid = server.child.id();
    // RSS after warm-up: when a tenth of the calls are answered.
    let warm = {
        let done = done.clone();
        let total = sessions * calls;
        tokio::spawn(async move {
            while done.load(Ordering::Relaxed) < total / 10 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            rss_kib(pid, "VmRSS:")
        })
    };
    let mut tasks = Vec::new();
    for s in 0..sessions {
        let client = client.clone();
        let url = url.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            session(&client, &url, s, calls, &done).await
        }));
    }
    let mut latencies = Vec::with_capacity(sessions * calls);
    let (mut errors, mut lost) = (0usize, 0usize);
    for t in tasks {
        match t.await? {
            Ok(r) => {
                latencies.extend(r.0);
                errors += r.1;
                lost += r.2;
            }
            Err(e) => {
                eprintln!("session failed: {e:#}");
                errors += calls;
            }
        }
    }
    let elapsed = started.elapsed();
    // The held sockets the server closed (at the cap, or idle for its keep-alive timeout).
    let mut closed = 0;
    for socket in &held {
        let mut byte = [0u8; 1];
        match socket.try_read(&mut byte) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() != std::io::ErrorKind::WouldBlock => closed += 1,
            _ => {}
        }
    }
    drop(held);
    let rss = rss_kib(pid, "VmHWM:");
    let rss_end = rss_kib(pid, "VmRSS:");
    let rss_warm = warm.await.unwrap_or(0);
    drop(server);
    latencies.sort();
    let pct = |p: f64| percentile(&latencies, p);
    println!(
        "http: {sessions} sessions x {calls} calls = {} calls in {:.2} s: {:.0} calls/s, p50 {:.1} ms, p99 {:.1} ms, errors {errors}, lost {lost}, server peak RSS {:.1} MB",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        rss as f64 / 1024.0
    );
    if faults == 0 {
        println!("targets: over 2000 calls/s, p99 under 50 ms, no error, no lost response");
        return Ok(());
    }
    let asked = sessions * calls;
    let growth = (rss_end as f64 - rss_warm as f64) / rss_warm.max(1) as f64 * 100.0;
    println!(
        "soak: {faults} % faults, {oversized} % answers over the {UPSTREAM_CAP}-byte cap, {idle} silent sockets held ({closed} closed by the server); {} upstream requests for {asked} calls; answers: {} of {asked} requests got exactly one ({lost} none or several); tool errors {errors}; RSS after warm-up {:.1} MB, at the end {:.1} MB ({growth:+.1} %, target within 10 %)",
        upstream.load(Ordering::Relaxed),
        asked - lost,
        rss_warm as f64 / 1024.0,
        rss_end as f64 / 1024.0,
    );
    if lost > 0 || growth > 10.0 {
        anyhow::bail!(
            "soak failed: {lost} requests without exactly one answer, RSS {growth:+.1} %"
        );
    }
    Ok(())
}

/// One session: initialize, then `calls` getSelf calls; returns latencies, errors, lost answers.
async fn session(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    calls: usize,
    done: &AtomicUsize,
) -> anyhow::Result<(Vec<Duration>, usize, usize)> {
    let accept = "application/json, text/event-stream";
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "load", "version": "0"}}});
    let token = mist_token(n);
    let r = authorized(client.post(url))
        .header("accept", accept)
        .header("x-mist-token", &token)
        .header("content-type", "application/json")
        .body(init.to_string())
        .send()
        .await?;
    let sid = r
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no session id: {}", r.status()))?;
    r.text().await?;
    authorized(client.post(url))
        .header("accept", accept)
        .header("mcp-session-id", &sid)
        .header("x-mist-token", &token)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
                .to_string(),
        )
        .send()
        .await?
        .text()
        .await?;
    let (mut latencies, mut errors, mut lost) = (Vec::with_capacity(calls), 0, 0);
    for i in 1..=calls {
        let call = serde_json::json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}});
        let t = Instant::now();
        let body = authorized(client.post(url))
            .header("accept", accept)
            .header("mcp-session-id", &sid)
            // A session serves only the credentials that opened it.
            .header("x-mist-token", &token)
            .header("content-type", "application/json")
            .body(call.to_string())
            .send()
            .await?
            .text()
            .await?;
        latencies.push(t.elapsed());
        done.fetch_add(1, Ordering::Relaxed);
        let answers: Vec<serde_json::Value> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .chain(std::iter::once(body.as_str()))
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d.trim()).ok())
            .filter(|v| v["id"] == i)
            .collect();
        // Exactly one answer per request.
        let answer = match answers.as_slice() {
            [one] => Some(one),
            _ => None,
        };
        match answer {
            None => lost += 1,
            Some(v) if v.get("error").is_some() || v["result"]["isError"] == true => {
                if errors == 0 && n == 0 {
                    eprintln!("first error: {v}");
                }
                errors += 1
            }
            Some(_) => {}
        }
    }
    Ok((latencies, errors, lost))
}

/// The server's CPU time so far (utime + stime of /proc/PID/stat), in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map(|t| t.iter().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // USER_HZ is 100 on Linux.
    ticks as f64 / 100.0
}

/// The figures of one run of [`level`].
struct Figures {
    calls: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_call: f64,
    rss_before: (u64, u64),
    rss_open: (u64, u64),
    rss_peak: u64,
    rss_asleep: (u64, u64),
    rss_closed: (u64, u64),
    errors: usize,
    lost: usize,
    refused_opens: usize,
}

/// A mistmcp HTTP server on a free port, killed when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `binary -t http` on a free port against the mock, with `extra` flags, run through `wrapper`
/// (a command and its arguments before the binary) and with `env`.
async fn start_server(
    binary: &str,
    mock: std::net::SocketAddr,
    extra: &[&str],
    wrapper: &[&str],
    env: &[(&str, String)],
) -> anyhow::Result<Server> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let child = command
        .args([
            "-t",
            "http",
            "-p",
            &port.to_string(),
            "--api-url",
            &format!("http://{mock}"),
        ])
        .args(extra)
        .args(SERVER_ARGS.iter())
        .env("MISTMCP_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let server = Server { child, port };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("{binary} did not listen on {port}")
}

/// Sends one JSON-RPC message of session `sid` (or an initialize without one); returns the
/// answer's session id header and body.
async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    sid: Option<&str>,
    message: &serde_json::Value,
) -> anyhow::Result<(Option<String>, reqwest::StatusCode, String)> {
    let mut request = authorized(client.post(url))
        .header("accept", "application/json, text/event-stream")
        .header("x-mist-token", token)
        .header("content-type", "application/json")
        .body(message.to_string());
    if let Some(sid) = sid {
        request = request
            .header("mcp-session-id", sid)
            .header("mcp-protocol-version", "2025-06-18");
    }
    let response = request.send().await?;
    let status = response.status();
    let id = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    Ok((id, status, response.text().await?))
}

/// Opens a session (initialize, then initialized); `None` when the server refused it.
async fn open(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<Option<String>> {
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "load", "version": "0"}}});
    let (sid, status, _) = post(client, url, token, None, &init).await?;
    let Some(sid) = sid else {
        return if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            Ok(None)
        } else {
            anyhow::bail!("no session id: {status}")
        };
    };
    let initialized = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(client, url, token, Some(&sid), &initialized).await?;
    Ok(Some(sid))
}

/// Closes a session (DELETE).
async fn close(client: &reqwest::Client, url: &str, token: &str, sid: &str) -> anyhow::Result<()> {
    authorized(client.delete(url))
        .header("x-mist-token", token)
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await?
        .text()
        .await?;
    Ok(())
}

/// `calls` getSelf calls in session `sid`: latencies, errors, requests without exactly one answer.
async fn call_many(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    sid: &str,
    calls: usize,
) -> anyhow::Result<(Vec<Duration>, usize, usize)> {
    let (mut latencies, mut errors, mut lost) = (Vec::with_capacity(calls), 0, 0);
    for i in 1..=calls {
        let call = serde_json::json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "getSelf", "arguments": {}}});
        let t = Instant::now();
        let (_, _, body) = post(client, url, token, Some(sid), &call).await?;
        latencies.push(t.elapsed());
        let answers: Vec<serde_json::Value> = body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(d.trim()).ok())
            .filter(|v| v["id"] == i)
            .collect();
        match answers.as_slice() {
            [one] if one.get("error").is_some() || one["result"]["isError"] == true => errors += 1,
            [_] => {}
            _ => lost += 1,
        }
    }
    Ok((latencies, errors, lost))
}

/// RSS and its anonymous part (the heap and stacks, without the binary's pages) once settled:
/// the last of a few readings over `wait` (the server gives memory back when a burst is over).
async fn settled_rss(pid: u32, wait: Duration) -> (u64, u64) {
    tokio::time::sleep(wait).await;
    (rss_kib(pid, "VmRSS:"), rss_kib(pid, "RssAnon:"))
}

/// One run: a fresh server in `mode`, `sessions` sessions opened at once and left idle, then
/// `calls` calls in each at once, then every session closed. `calls_only`: no waits for the
/// memory to settle (its readings are then meaningless).
async fn level(
    binary: &str,
    mock: std::net::SocketAddr,
    mode: &str,
    sessions: usize,
    calls: usize,
    calls_only: bool,
) -> anyhow::Result<Figures> {
    let wait = |d: Duration| if calls_only { Duration::ZERO } else { d };
    // Sessions idle 5 s hibernate: measured after the calls.
    let server = start_server(
        binary,
        mock,
        &["--max-sessions", "1000", "--session-hibernate-after", "5s"],
        &[],
        &[],
    )
    .await?;
    let pid = server.child.id();
    let url = format!(
        "http://127.0.0.1:{}/mcp?cloud=api.mist.com&mode={mode}",
        server.port
    );
    // Warm-up: one session's calls (lazy tables, the upstream pool), then closed.
    {
        let client = reqwest::Client::new();
        let sid = open(&client, &url, "warm")
            .await?
            .ok_or_else(|| anyhow::anyhow!("warm-up session refused"))?;
        call_many(&client, &url, "warm", &sid, 50).await?;
        close(&client, &url, "warm", &sid).await?;
    }
    let rss_before = settled_rss(pid, wait(Duration::from_millis(2500))).await;

    let connections = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(sessions)
            .build()
    };
    let client = connections()?;
    let opened = futures_util::future::join_all((0..sessions).map(|n| {
        let client = client.clone();
        let url = url.clone();
        async move { open(&client, &url, &mist_token(n)).await }
    }))
    .await;
    let mut ids = Vec::with_capacity(sessions);
    let mut refused_opens = 0;
    for (n, o) in opened.into_iter().enumerate() {
        match o? {
            Some(sid) => ids.push((n, sid)),
            None => refused_opens += 1,
        }
    }
    // The sessions alone, without the client's connections (a cost per connection, not per
    // session).
    drop(client);
    let rss_open = settled_rss(pid, wait(Duration::from_millis(2500))).await;

    let client = connections()?;
    let cpu_start = cpu_seconds(pid);
    let started = Instant::now();
    let runs = futures_util::future::join_all(ids.iter().map(|(n, sid)| {
        let client = client.clone();
        let url = url.clone();
        let sid = sid.clone();
        let token = mist_token(n);
        tokio::spawn(async move { call_many(&client, &url, &token, &sid, calls).await })
    }))
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_start;
    let (mut latencies, mut errors, mut lost) = (Vec::new(), 0, 0);
    for run in runs {
        let (l, e, x) = run??;
        latencies.extend(l);
        errors += e;
        lost += x;
    }
    let rss_peak = rss_kib(pid, "VmHWM:");
    // Every session idle, without connections: they hibernate after 5 s.
    drop(client);
    let rss_asleep = settled_rss(pid, wait(Duration::from_millis(8000))).await;
    let client = connections()?;
    futures_util::future::join_all(ids.iter().map(|(n, sid)| {
        let client = client.clone();
        let url = url.clone();
        async move { close(&client, &url, &mist_token(n), sid).await }
    }))
    .await
    .into_iter()
    .collect::<anyhow::Result<Vec<()>>>()?;
    // The client's keep-alive connections go too: nothing of the load is left open.
    drop(client);
    // The server's idle connections to Mist time out after 10 s.
    let rss_closed = settled_rss(pid, wait(Duration::from_secs(14))).await;
    latencies.sort();
    let pct = |p: f64| percentile(&latencies, p);
    Ok(Figures {
        calls: latencies.len(),
        seconds,
        p50: pct(0.50),
        p99: pct(0.99),
        cpu_per_call: cpu / latencies.len().max(1) as f64,
        rss_before,
        rss_open,
        rss_peak,
        rss_asleep,
        rss_closed,
        errors,
        lost,
        refused_opens,
    })
}

/// The benchmark of scripts/bench.sh: [`level`] for 1, 50, 200 and 400 sessions in `managed`,
/// and for 50 sessions in the other modes; or for the runs given as `mode:sessions`.
async fn levels(binary: &str, chosen: &[String]) -> anyhow::Result<()> {
    let mock = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mock_addr = mock.local_addr()?;
    let app = axum::Router::new()
        .fallback(|| async { ([(http::header::CONTENT_TYPE, "application/json")], SELF) });
    // Connections the server opened to Mist: reused ones cost no handshake.
    let connections = Arc::new(AtomicUsize::new(0));
    let opened = connections.clone();
    let mock = axum::serve::ListenerExt::tap_io(mock, move |tcp| {
        opened.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(mock, app).await });
    let mut runs: Vec<(&str, usize)> = vec![
        ("managed", 1),
        ("managed", 50),
        ("managed", 200),
        ("managed", 400),
        ("minimal", 50),
        ("all", 50),
        ("custom&categories=orgs", 50),
    ];
    if !chosen.is_empty() {
        runs = chosen
            .iter()
            .map(|run| {
                let (mode, sessions) = run
                    .rsplit_once(':')
                    .ok_or_else(|| anyhow::anyhow!("a run is mode:sessions, not {run}"))?;
                Ok((mode, sessions.parse()?))
            })
            .collect::<anyhow::Result<_>>()?;
    }
    let calls_only = std::env::var("HTTP_LOAD_CALLS_ONLY").is_ok_and(|v| !v.is_empty() && v != "0");
    println!(
        "http load: getSelf against a mock, each row a fresh server. RSS before: after a warm-up session closed. KB per idle session: awake (just opened) and hibernating (idle 5 s, after the calls). Closed: 14 s after the last session closed (idle connections to Mist are kept 10 s)."
    );
    if BEARER.is_some() || !SERVER_ARGS.is_empty() || calls_only {
        println!(
            "with{}{}{}",
            if BEARER.is_some() {
                " Authorization: Bearer (HTTP_LOAD_BEARER) on every request;"
            } else {
                ""
            },
            if SERVER_ARGS.is_empty() {
                String::new()
            } else {
                format!(" server arguments {};", SERVER_ARGS.join(" "))
            },
            if calls_only {
                " calls only (HTTP_LOAD_CALLS_ONLY): no memory readings"
            } else {
                ""
            },
        );
    }
    println!(
        "{:<8} {:>5} {:>6} {:>7} {:>6} {:>6} {:>7} {:>7} {:>13} {:>7} {:>12} {:>14} {:>4}",
        "mode",
        "sess.",
        "calls",
        "calls/s",
        "p50",
        "p99",
        "cpu/",
        "RSS",
        "KB/idle sess.",
        "peak",
        "RSS closed",
        "anonymous RSS",
        "err."
    );
    println!(
        "{:<8} {:>5} {:>6} {:>7} {:>6} {:>6} {:>7} {:>7} {:>13} {:>7} {:>12} {:>14}",
        "",
        "",
        "",
        "",
        "ms",
        "ms",
        "call ms",
        "before",
        "awake asleep",
        "MB",
        "(vs before)",
        "before>closed"
    );
    for (mode, sessions) in runs {
        // About 10,000 calls per row, at least 25 per session.
        let calls = (10_000 / sessions).clamp(25, 2_000);
        let connections_before = connections.load(Ordering::Relaxed);
        let f = level(binary, mock_addr, mode, sessions, calls, calls_only).await?;
        let upstream_connections = connections.load(Ordering::Relaxed) - connections_before;
        let per_session = |rss: u64| (rss as f64 - f.rss_before.0 as f64) / sessions as f64;
        let growth =
            |after: u64, before: u64| (after as f64 - before as f64) / before.max(1) as f64 * 100.0;
        let memory = if calls_only {
            format!(
                "{:>7} {:>6} {:>6} {:>7} {:>6} {:>5} {:>4} {:>9}",
                "-", "-", "-", "-", "-", "-", "-", "-"
            )
        } else {
            format!(
                "{:>6.1}M {:>6.1} {:>6.1} {:>6.1}M {:>5.1}M {:>+4.0}% {:>4.1}>{:.1}M {:+4.0}%",
                f.rss_before.0 as f64 / 1024.0,
                per_session(f.rss_open.0),
                per_session(f.rss_asleep.0),
                f.rss_peak as f64 / 1024.0,
                f.rss_closed.0 as f64 / 1024.0,
                growth(f.rss_closed.0, f.rss_before.0),
                f.rss_before.1 as f64 / 1024.0,
                f.rss_closed.1 as f64 / 1024.0,
                growth(f.rss_closed.1, f.rss_before.1),
            )
        };
        println!(
            "{:<8} {:>5} {:>6} {:>7.0} {:>6.2} {:>6.2} {:>7.3} {memory} {:>3}{}{}",
            mode.split('&').next().unwrap_or(mode),
            sessions,
            f.calls,
            f.calls as f64 / f.seconds,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0,
            f.cpu_per_call * 1000.0,
            f.errors + f.lost,
            if upstream_connections > 0 {
                format!(" {upstream_connections} upstream connections")
            } else {
                String::new()
            },
            if f.refused_opens > 0 {
                format!(" ({} sessions refused)", f.refused_opens)
            } else {
                String::new()
            },
        );
    }
    println!(
        "targets: >= 10,000 calls/s at 50 sessions with p99 <= 20 ms, cpu <= 0.12 ms/call in every mode, <= 50 KB per idle session, RSS after close within 20 % of before"
    );
    Ok(())
}

/// `http_load verify`: the server's own check of the access token in `HTTP_LOAD_BEARER`, with
/// the configuration it would run with (keys fetched once, then cached), `count` times in a
/// row; prints the wall time of one (the median of 20 rounds, and the fastest) and its CPU time.
async fn verify(config: &std::path::Path, count: usize) -> anyhow::Result<()> {
    let value = BEARER
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("verify needs the access token in HTTP_LOAD_BEARER"))?;
    let gate = mistmcp_cli::http::OAuthGate::load(config)?;
    gate.prefetch().await;
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, value.parse()?);
    // The first also proves the token good (and fetches the keys if the prefetch could not).
    if let Err(challenge) = gate.authenticate(&headers).await {
        anyhow::bail!("the token is refused: {challenge:?}");
    }
    let rounds = 20;
    let per_round = (count / rounds).max(1);
    let pid = std::process::id();
    // CPU over the whole run: /proc counts it in 10 ms ticks.
    let cpu_start = cpu_seconds(pid);
    let mut wall = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..per_round {
            std::hint::black_box(gate.authenticate(&headers).await)
                .map_err(|c| anyhow::anyhow!("the token is refused: {c:?}"))?;
        }
        wall.push(t.elapsed().as_secs_f64() / per_round as f64);
    }
    let cpu = (cpu_seconds(pid) - cpu_start) / (per_round * rounds) as f64;
    wall.sort_by(f64::total_cmp);
    println!(
        "OAuthGate::authenticate of one JWT, {} checks in {rounds} rounds, keys cached: wall median {:.1} µs (fastest round {:.1} µs), CPU {:.1} µs",
        per_round * rounds,
        wall[rounds / 2] * 1e6,
        wall[0] * 1e6,
        cpu * 1e6,
    );
    Ok(())
}
