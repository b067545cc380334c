//! JSON-RPC batches over streamable HTTP, for sessions that negotiated protocol 2025-03-26
//! (the only revision with batches, which it requires servers to accept).
//!
//! rmcp's service takes one message per POST, so each message of a batch is handed to it as a
//! POST of its own with the batch's headers, and the answers come back on one SSE stream: the
//! events of every message's stream, merged as they arrive. A tool call that asks the human
//! (elicitation) works as in a single request: its question travels on that stream too.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use http::StatusCode;
use http::request::Parts;
use mistcore::envelope;
use serde_json::Value;
use std::convert::Infallible;
use tower::ServiceExt;

/// One SSE event carrying a JSON-RPC message.
fn event(message: &str) -> Result<axum::body::Bytes, Infallible> {
    Ok(format!("event: message\ndata: {message}\n\n").into())
}

/// The JSON-RPC messages of an answer of rmcp: an SSE stream's `data` (priming events and
/// event ids dropped: the merged stream has no single place to resume from), or a JSON body.
fn messages(response: Response) -> impl Stream<Item = String> + Send {
    let is_sse = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let chunks = response.into_body().into_data_stream();
    stream::unfold(
        (chunks, Vec::<u8>::new(), false),
        move |(mut chunks, mut buffer, mut ended)| async move {
            loop {
                if is_sse {
                    let end = buffer.windows(2).position(|w| w == b"\n\n");
                    if let Some(end) = end {
                        let frame: Vec<u8> = buffer.drain(..end + 2).collect();
                        let text = String::from_utf8_lossy(&frame).replace("\r\n", "\n");
                        let data: Vec<&str> = text
                            .lines()
                            .filter_map(|l| l.strip_prefix("data:"))
                            .map(|d| d.strip_prefix(' ').unwrap_or(d))
                            .collect();
                        let data = data.join("\n");
                        if !data.trim().is_empty() {
                            return Some((data, (chunks, buffer, ended)));
                        }
                        continue;
                    }
                }
                if ended {
                    if !is_sse && !buffer.is_empty() {
                        let body = String::from_utf8_lossy(&buffer).into_owned();
                        buffer.clear();
                        return Some((body, (chunks, buffer, ended)));
                    }
                    return None;
                }
                match chunks.next().await {
                    Some(Ok(bytes)) => buffer.extend_from_slice(&bytes),
                    Some(Err(_)) | None => ended = true,
                }
            }
        },
    )
}

/// Serves a batch: each message checked and handed to `service` on its own, the answers on
/// one SSE stream; `202 Accepted` when the batch holds no request.
pub async fn serve<S, B>(service: S, parts: &Parts, items: Vec<Value>) -> Response
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let mut early = Vec::new();
    let mut streams = Vec::new();
    for item in items {
        let id = item.get("id").cloned().unwrap_or(Value::Null);
        if let Err(rejection) = envelope::check_batch_member(&item) {
            tracing::warn!("refusing a message of a batch: {}", rejection.reason);
            early.extend(rejection.answer);
            continue;
        }
        let request = http::Request::from_parts(parts.clone(), Body::from(item.to_string()));
        let Ok(response) = service
            .clone()
            .oneshot(request)
            .await
            .map(|r| r.map(Body::new));
        let status = response.status();
        if status == StatusCode::ACCEPTED {
            continue;
        }
        if !status.is_success() {
            let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            if item.get("method").is_some() && !id.is_null() {
                early.push(envelope::error(
                    id,
                    -32603,
                    format!(
                        "this message of the batch was refused ({status}): {}",
                        String::from_utf8_lossy(&body)
                    ),
                ));
            }
            continue;
        }
        streams.push(messages(response).boxed());
    }
    if early.is_empty() && streams.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let early = stream::iter(early.into_iter().map(|m| m.to_string()));
    let merged = early.chain(stream::select_all(streams)).map(|m| event(&m));
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/event-stream")
        .header(http::header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(merged))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
