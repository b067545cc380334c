//! MCP over stdin/stdout with line framing we control.
//!
//! rmcp silently drops lines that are not JSON. A person debugging a client deserves an
//! answer, so a filter in front of rmcp answers such a line with a JSON-RPC parse error
//! (`-32700`, id `null`) and logs it on stderr. One writer task owns stdout, so rmcp's
//! messages and these errors never interleave within a line.

use rmcp::model::ClientJsonRpcMessage;
use rmcp::{ServerHandler, ServiceExt};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Room for one JSON-RPC message between the filter and rmcp.
const PIPE_BYTES: usize = 1 << 20;

/// Serves `handler` over the process's stdin and stdout until stdin closes.
pub async fn serve<S: ServerHandler>(handler: S) -> anyhow::Result<()> {
    serve_on(handler, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves `handler` over any line-oriented pair of streams until the input closes.
pub async fn serve_on<S, R, W>(handler: S, input: R, output: W) -> anyhow::Result<()>
where
    S: ServerHandler,
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (mut to_rmcp, rmcp_in) = tokio::io::duplex(PIPE_BYTES);
    let (rmcp_out, from_rmcp) = tokio::io::duplex(PIPE_BYTES);
    let (errors_tx, errors_rx) = mpsc::unbounded_channel::<String>();

    let filter = tokio::spawn(async move {
        let mut lines = BufReader::new(input);
        let mut line = Vec::new();
        loop {
            line.clear();
            match lines.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match check_line(text) {
                None => {
                    if to_rmcp.write_all(text).await.is_err()
                        || to_rmcp.write_all(b"\n").await.is_err()
                    {
                        break;
                    }
                }
                Some(answer) => {
                    if errors_tx.send(answer.to_string()).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `to_rmcp` closes rmcp's input: the service ends cleanly on EOF.
    });

    let writer = tokio::spawn(write_lines(from_rmcp, errors_rx, output));

    let service = handler.serve((rmcp_in, rmcp_out)).await?;
    let reason = service.waiting().await?;
    tracing::debug!(?reason, "MCP session ended");
    filter.abort();
    writer.await??;
    Ok(())
}

/// The error answer to a line that is not a JSON-RPC message, or `None` to pass it on.
///
/// Not JSON at all: a parse error (`-32700`, id `null`). A request (it has an `id`) that rmcp
/// cannot read: an invalid request (`-32600`) with that id and the reason, where rmcp itself
/// would answer without an id. Unreadable notifications go on to rmcp, which ignores them.
fn check_line(text: &[u8]) -> Option<serde_json::Value> {
    let value: serde_json::Value = match serde_json::from_slice(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("ignoring a line that is not JSON: {e}");
            return Some(json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {
                    "code": -32700,
                    "message": format!("Parse error: the line is not valid JSON ({e}); send one JSON-RPC 2.0 message per line"),
                }
            }));
        }
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())?
        .clone();
    // Without a method it is a response from the client (e.g. to an elicitation).
    value.get("method")?;
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("refusing an invalid request: {e}");
            Some(json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {
                    "code": -32600,
                    "message": format!("Invalid request: {e}; check `method` and that `params` is an object of that method's shape"),
                }
            }))
        }
    }
}

/// Copies rmcp's output lines and the parse-error lines to `output`, one whole line at a time.
async fn write_lines<R, W>(
    rmcp_output: R,
    mut errors: mpsc::UnboundedReceiver<String>,
    mut output: W,
) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut rmcp_lines = BufReader::new(rmcp_output);
    let mut line = Vec::new();
    let mut errors_open = true;
    loop {
        tokio::select! {
            read = rmcp_lines.read_until(b'\n', &mut line) => {
                if read? == 0 {
                    break;
                }
                output.write_all(&line).await?;
                output.flush().await?;
                line.clear();
            }
            error = errors.recv(), if errors_open => match error {
                Some(text) => {
                    output.write_all(text.as_bytes()).await?;
                    output.write_all(b"\n").await?;
                    output.flush().await?;
                }
                None => errors_open = false,
            },
        }
    }
    Ok(())
}
