//! MCP over stdin/stdout with line framing we control.
//!
//! rmcp silently drops lines that are not JSON, reads any object with a `method` as a request
//! and knows no batches. A filter in front of rmcp checks every line with
//! [`mistcore::envelope`]: what is not a valid message gets its JSON-RPC error (with the
//! request's id when it can be read) and a warning on stderr. A session that negotiated
//! protocol 2025-03-26 may send batches: their messages go to rmcp one by one, and their
//! answers come back together as one array. One writer task owns stdout, so rmcp's messages
//! and these answers never interleave within a line.

use mistcore::envelope::{self, Incoming};
use mistcore::framing::{self, Line, LineFramer};
use rmcp::service::ServerInitializeError;
use rmcp::{ServerHandler, ServiceExt};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Room for one JSON-RPC message between the filter and rmcp.
const PIPE_BYTES: usize = 1 << 20;

/// A batch whose answers are being gathered.
struct OpenBatch {
    /// The ids of its requests still unanswered.
    pending: Vec<Value>,
    /// The answers so far.
    answers: Vec<Value>,
}

/// What the filter and the writer share: the negotiated version and the open batches.
#[derive(Default)]
struct Framing {
    /// The protocol version asked for in `initialize` (and so agreed: this server knows
    /// every version that has batches).
    version: Option<String>,
    batches: Vec<OpenBatch>,
    /// Batches completed by a cancellation, to be written.
    finished: Vec<Value>,
}

type Shared = Arc<Mutex<Framing>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Framing> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// Serves `handler` over the process's stdin and stdout until stdin closes.
pub async fn serve<S: ServerHandler>(handler: S) -> anyhow::Result<()> {
    serve_on(handler, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves `handler` over any line-oriented pair of streams until the input closes. An input
/// that closes before `initialize` ends it quietly too.
pub async fn serve_on<S, R, W>(handler: S, input: R, output: W) -> anyhow::Result<()>
where
    S: ServerHandler,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (to_rmcp, rmcp_in) = tokio::io::duplex(PIPE_BYTES);
    let (rmcp_out, from_rmcp) = tokio::io::duplex(PIPE_BYTES);
    let (answers_tx, answers_rx) = mpsc::unbounded_channel::<String>();
    let shared = Shared::default();

    let filter = tokio::spawn(filter_lines(input, to_rmcp, answers_tx, shared.clone()));
    let writer = tokio::spawn(write_lines(from_rmcp, answers_rx, output, shared));

    let service = match handler.serve((rmcp_in, rmcp_out)).await {
        Ok(service) => service,
        Err(ServerInitializeError::ConnectionClosed(_)) => {
            tracing::debug!("input closed before initialize");
            filter.abort();
            let _ = writer.await;
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let reason = service.waiting().await?;
    tracing::debug!(?reason, "MCP session ended");
    filter.abort();
    writer.await??;
    Ok(())
}

/// Reads the input line by line: valid messages go on to rmcp, the others are answered.
async fn filter_lines<R, W>(
    input: R,
    mut to_rmcp: W,
    answers: mpsc::UnboundedSender<String>,
    shared: Shared,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut lines = BufReader::new(input);
    let cap = max_line_bytes();
    let mut framer = LineFramer::new(cap);
    loop {
        let (line, over) = match read_line_capped(&mut lines, &mut framer).await {
            Ok(Some(read)) => read,
            Ok(None) | Err(_) => break,
        };
        if over {
            tracing::warn!(cap, "refusing a message over the line limit");
            let answer = envelope::error(
                framing::id_in_prefix(line),
                envelope::INVALID_REQUEST,
                format!(
                    "Invalid Request: the message is over {cap} bytes (MISTMCP_MAX_LINE_BYTES): send a smaller one"
                ),
            );
            if answers.send(answer.to_string()).is_err() {
                break;
            }
            continue;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (forward, answer) = route(text, &shared);
        let finished = std::mem::take(&mut lock(&shared).finished);
        if answer
            .into_iter()
            .chain(finished)
            .any(|a| answers.send(a.to_string()).is_err())
        {
            break;
        }
        let written = match forward {
            // A single message goes on as the client wrote it: no second serialization.
            Forward::Line => {
                let mut bytes = text.to_vec();
                bytes.push(b'\n');
                to_rmcp.write_all(&bytes).await
            }
            Forward::Messages(messages) => {
                let mut bytes = Vec::new();
                for message in messages {
                    bytes.extend(message.to_string().into_bytes());
                    bytes.push(b'\n');
                }
                to_rmcp.write_all(&bytes).await
            }
        };
        if written.is_err() {
            return;
        }
    }
    // Dropping `to_rmcp` closes rmcp's input: the service ends cleanly on EOF.
}

/// The longest line read: `MISTMCP_MAX_LINE_BYTES`, default 8 MiB (rmcp itself drops lines
/// over 16 MiB without an answer).
fn max_line_bytes() -> usize {
    std::env::var("MISTMCP_MAX_LINE_BYTES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(8 << 20, |n| n.clamp(1024, 15 << 20))
}

/// Reads one line through `framer`: `None` at the end of the input, else the line and whether
/// it was over the cap (then only its start is kept).
async fn read_line_capped<'f, R: AsyncBufRead + Unpin>(
    reader: &mut R,
    framer: &'f mut LineFramer,
) -> std::io::Result<Option<(&'f [u8], bool)>> {
    framer.clear();
    loop {
        let buffer = reader.fill_buf().await?;
        let complete = if buffer.is_empty() {
            true
        } else {
            let (used, complete) = framer.feed(buffer);
            reader.consume(used);
            complete
        };
        if complete {
            return Ok(framer.line().map(|line| match line {
                Line::Whole(l) => (l, false),
                Line::TooLong(prefix) => (prefix, true),
            }));
        }
    }
}

/// What goes on to rmcp from one line.
enum Forward {
    /// The line itself (one valid message).
    Line,
    /// These messages (of a batch), possibly none.
    Messages(Vec<Value>),
}

/// What to do with one line: what to pass on to rmcp, and an answer to write now.
fn route(text: &[u8], shared: &Shared) -> (Forward, Option<Value>) {
    match envelope::parse(text) {
        Err(answer) => {
            tracing::warn!("refusing a line that is not a JSON-RPC message");
            (Forward::Messages(Vec::new()), Some(answer))
        }
        Ok(Incoming::Message(message)) => match envelope::check(&message, false) {
            Ok(()) if in_flight(shared, &message) => (
                Forward::Messages(Vec::new()),
                Some(envelope::error(
                    message.get("id").cloned().unwrap_or(Value::Null),
                    envelope::INVALID_REQUEST,
                    "Invalid Request: this id is already used by a request of a batch in flight",
                )),
            ),
            Ok(()) => {
                if message.get("method").and_then(Value::as_str) == Some("notifications/cancelled")
                {
                    cancelled(shared, &message);
                }
                if message.get("method").and_then(Value::as_str) == Some("initialize") {
                    lock(shared).version = message
                        .pointer("/params/protocolVersion")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                (Forward::Line, None)
            }
            Err(rejection) => {
                tracing::warn!("refusing a message: {}", rejection.reason);
                (Forward::Messages(Vec::new()), rejection.answer)
            }
        },
        Ok(Incoming::Batch(items)) => {
            let mut framing = lock(shared);
            if !envelope::allows_batches(framing.version.as_deref()) {
                tracing::warn!(
                    "refusing a batch outside protocol {}",
                    envelope::BATCH_VERSION
                );
                return (
                    Forward::Messages(Vec::new()),
                    Some(envelope::batch_refused(framing.version.as_deref())),
                );
            }
            let mut forward = Vec::new();
            let mut answers = Vec::new();
            for item in items {
                let id = item.get("method").and_then(|_| item.get("id"));
                let taken = id.is_some_and(|id| {
                    framing.batches.iter().any(|b| b.pending.contains(id))
                        || envelope::request_ids(&forward).contains(id)
                });
                if taken {
                    answers.push(envelope::error(
                        id.cloned().unwrap_or(Value::Null),
                        envelope::INVALID_REQUEST,
                        "Invalid Request: this id is already used by another request in flight",
                    ));
                    continue;
                }
                match envelope::check_batch_member(&item) {
                    Ok(()) => forward.push(item),
                    Err(rejection) => answers.extend(rejection.answer),
                }
            }
            let pending = envelope::request_ids(&forward);
            if pending.is_empty() {
                let answer = (!answers.is_empty()).then_some(Value::Array(answers));
                return (Forward::Messages(forward), answer);
            }
            framing.batches.push(OpenBatch { pending, answers });
            (Forward::Messages(forward), None)
        }
    }
}

/// Whether a request's id is awaited by an open batch (its answer would be taken for the batch's).
fn in_flight(shared: &Shared, message: &Value) -> bool {
    let Some(id) = message.get("method").and_then(|_| message.get("id")) else {
        return false;
    };
    lock(shared).batches.iter().any(|b| b.pending.contains(id))
}

/// A cancelled request of a batch gets no answer from rmcp: the batch stops waiting for it, and
/// a batch left with nothing to wait for is written with the answers it has.
fn cancelled(shared: &Shared, message: &Value) {
    let Some(id) = message.pointer("/params/requestId") else {
        return;
    };
    let mut framing = lock(shared);
    for batch in &mut framing.batches {
        batch.pending.retain(|p| p != id);
    }
    let (done, open): (Vec<OpenBatch>, Vec<OpenBatch>) = std::mem::take(&mut framing.batches)
        .into_iter()
        .partition(|b| b.pending.is_empty());
    framing.batches = open;
    framing.finished.extend(
        done.into_iter()
            .filter(|b| !b.answers.is_empty())
            .map(|b| Value::Array(b.answers)),
    );
}

/// An answer of rmcp that completes a batch: the batch's array to write instead of the line,
/// `Some(None)` when the line belongs to a batch still open, `None` when it is no batch's.
fn gather(line: &[u8], shared: &Shared) -> Option<Option<Value>> {
    let mut framing = lock(shared);
    if framing.batches.is_empty() {
        return None;
    }
    let message: Value = serde_json::from_slice(line).ok()?;
    if message.get("method").is_some() {
        return None;
    }
    let id = message.get("id")?;
    let index = framing
        .batches
        .iter()
        .position(|b| b.pending.contains(id))?;
    let batch = &mut framing.batches[index];
    batch.pending.retain(|p| p != id);
    batch.answers.push(message);
    if !batch.pending.is_empty() {
        return Some(None);
    }
    let done = framing.batches.remove(index);
    Some(Some(Value::Array(done.answers)))
}

/// Copies rmcp's output lines and the filter's answers to `output`, one whole line at a time;
/// the answers to a batch's requests are held until the batch is complete.
async fn write_lines<R, W>(
    rmcp_output: R,
    mut answers: mpsc::UnboundedReceiver<String>,
    mut output: W,
    shared: Shared,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut rmcp_lines = BufReader::new(rmcp_output);
    let mut line = Vec::new();
    let mut answers_open = true;
    loop {
        tokio::select! {
            read = rmcp_lines.read_until(b'\n', &mut line) => {
                if read? == 0 {
                    break;
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                match gather(text, &shared) {
                    None => output.write_all(&line).await?,
                    Some(None) => {}
                    Some(Some(batch)) => {
                        output.write_all(batch.to_string().as_bytes()).await?;
                        output.write_all(b"\n").await?;
                    }
                }
                output.flush().await?;
                line.clear();
            }
            answer = answers.recv(), if answers_open => match answer {
                Some(text) => {
                    output.write_all(text.as_bytes()).await?;
                    output.write_all(b"\n").await?;
                    output.flush().await?;
                }
                None => answers_open = false,
            },
        }
    }
    Ok(())
}
