//! [`HttpTransport`] over the host's global `fetch` (workerd, Cloudflare Workers).

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use mistcore::api::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use mistcore::resilience::Clock;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Sends requests with the global `fetch`; reads answers as streams of at most `max_body` bytes.
#[derive(Debug, Clone, Copy)]
pub struct FetchTransport {
    /// The largest answer read (`MISTMCP_MAX_UPSTREAM_BYTES`); a larger or endless one is
    /// cancelled and is [`TransportError::TooLarge`], so one call cannot exhaust the isolate.
    pub max_body: usize,
}

/// The default of `max_body`: below the 128 MB of a Workers isolate, with room to parse.
pub const DEFAULT_MAX_UPSTREAM_BYTES: usize = 16 << 20;

/// The response headers mistcore reads.
const HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "x-page-total",
    "x-page-limit",
    "x-page-page",
    "retry-after",
];

fn js_error(what: &str, e: JsValue) -> TransportError {
    TransportError::Other(format!(
        "{what}: {}",
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    ))
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, TransportError> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(|e| js_error(key, e))
}

#[async_trait::async_trait(?Send)]
impl HttpTransport for FetchTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let global = js_sys::global();
        let fetch: Function = get(&global, "fetch")?
            .dyn_into()
            .map_err(|e| js_error("fetch", e))?;
        let init = Object::new();
        let headers = Object::new();
        for (k, v) in &request.headers {
            Reflect::set(&headers, &k.into(), &v.into()).map_err(|e| js_error("headers", e))?;
        }
        Reflect::set(&init, &"method".into(), &request.method.as_str().into())
            .map_err(|e| js_error("method", e))?;
        Reflect::set(&init, &"headers".into(), &headers).map_err(|e| js_error("headers", e))?;
        // Like the native transport: a redirect is an answer, never followed with the token.
        Reflect::set(&init, &"redirect".into(), &"manual".into())
            .map_err(|e| js_error("redirect", e))?;
        if let Some(body) = &request.body {
            let text = String::from_utf8_lossy(body).into_owned();
            Reflect::set(&init, &"body".into(), &text.into()).map_err(|e| js_error("body", e))?;
        }
        let promise: Promise = fetch
            .call2(&global, &request.url.as_str().into(), &init)
            .map_err(|e| TransportError::Connect(format!("{e:?}")))?
            .dyn_into()
            .map_err(|e| js_error("fetch result", e))?;
        let response = JsFuture::from(promise).await.map_err(|e| {
            TransportError::Connect(e.as_string().unwrap_or_else(|| format!("{e:?}")))
        })?;
        let status = get(&response, "status")?.as_f64().unwrap_or(0.0) as u16;
        let js_headers = get(&response, "headers")?;
        let header_get: Function = get(&js_headers, "get")?
            .dyn_into()
            .map_err(|e| js_error("headers.get", e))?;
        let mut headers = Vec::new();
        for name in HEADERS {
            if let Some(v) = header_get
                .call1(&js_headers, &(*name).into())
                .ok()
                .and_then(|v| v.as_string())
            {
                headers.push((name.to_string(), v));
            }
        }
        let limit = self.max_body;
        if let Some(length) = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .filter(|l| *l > limit as u64)
        {
            cancel(&get(&response, "body")?);
            return Err(TransportError::TooLarge {
                limit,
                seen: usize::try_from(length).unwrap_or(usize::MAX),
            });
        }
        let body = read_body(&get(&response, "body")?, limit).await?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// Reads a `ReadableStream` (a response's `body`, `null` for none) chunk by chunk, cancelling
/// it once more than `limit` bytes came.
async fn read_body(stream: &JsValue, limit: usize) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    if stream.is_null() || stream.is_undefined() {
        return Ok(body);
    }
    let reader = get(stream, "getReader")?
        .dyn_into::<Function>()
        .map_err(|e| js_error("body.getReader", e))?
        .call0(stream)
        .map_err(|e| js_error("body.getReader", e))?;
    let read: Function = get(&reader, "read")?
        .dyn_into()
        .map_err(|e| js_error("reader.read", e))?;
    loop {
        let next: Promise = read
            .call0(&reader)
            .map_err(|e| js_error("body", e))?
            .dyn_into()
            .map_err(|e| js_error("body", e))?;
        let chunk = JsFuture::from(next)
            .await
            .map_err(|e| js_error("body", e))?;
        if get(&chunk, "done")?.as_bool().unwrap_or(true) {
            return Ok(body);
        }
        let bytes: Uint8Array = get(&chunk, "value")?
            .dyn_into()
            .map_err(|e| js_error("body chunk", e))?;
        let length = bytes.length() as usize;
        if body.len() + length > limit {
            cancel(&reader);
            return Err(TransportError::TooLarge {
                limit,
                seen: body.len() + length,
            });
        }
        let start = body.len();
        body.resize(start + length, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

/// Cancels a response body, or the reader of one (nothing more is downloaded).
fn cancel(stream: &JsValue) {
    if let Ok(cancel) = get(stream, "cancel").and_then(|c| {
        c.dyn_into::<Function>()
            .map_err(|e| js_error("body.cancel", e))
    }) {
        // The promise settles on its own; a failure to cancel changes nothing here.
        let _ = cancel.call0(stream);
    }
}

/// The [`Clock`] of JS hosts: `Date.now()` and `setTimeout`. (Workers advance time only
/// across I/O, which is when deadlines are checked.)
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A `setTimeout` as a future: ready once `duration` has passed; dropped before, it clears the
/// timer (a stream read that got a message first leaves no timer behind).
#[derive(Debug)]
pub struct Timer {
    handle: JsValue,
    done: JsFuture,
}

impl Timer {
    /// A timer of `duration`.
    pub fn after(duration: Duration) -> Self {
        let mut handle = JsValue::UNDEFINED;
        let promise = Promise::new(&mut |resolve, _reject| {
            handle = set_timeout(&resolve, duration.as_millis() as f64);
        });
        Timer {
            handle,
            done: JsFuture::from(promise),
        }
    }
}

impl std::future::Future for Timer {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        // A timer cannot fail; whatever it answers, the wait is over.
        std::pin::Pin::new(&mut self.done).poll(cx).map(|_| ())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}

#[async_trait::async_trait(?Send)]
impl Clock for JsClock {
    fn now(&self) -> Duration {
        Duration::from_millis(js_sys::Date::now() as u64)
    }

    fn unix_seconds(&self) -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }

    async fn sleep(&self, duration: Duration) {
        Timer::after(duration).await;
    }
}
