//! mistcore's [`DeviceStreams`] on Workers-style hosts: outbound WebSockets opened with the
//! host's `fetch` and `Upgrade: websocket` (Workers and workerd answer it with a `webSocket`
//! to `accept()`; unlike `new WebSocket(url)` it can carry the `Authorization` header the Mist
//! stream needs). Which URL may be opened and which gets the token is mistcore's rule
//! ([`stream_target`]); what is read and for how long is mistcore's device logic. This module
//! only moves frames: the socket's events arrive as JS callbacks and wait in an [`Inbox`] whose
//! queued bytes are capped, until [`Stream::next`] takes them.

use crate::fetch::Timer;
use js_sys::{ArrayBuffer, Function, JsString, Object, Promise, Reflect, Uint8Array};
use mistcore::api::Credentials;
use mistcore::stream::{DeviceStreams, Stream, StreamError, StreamEvent, stream_target};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// How long opening a stream may take, as natively.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

/// What a queued message costs besides its bytes (so that a flood of empty messages is
/// bounded too).
const MESSAGE_OVERHEAD: usize = 64;

#[wasm_bindgen]
extern "C" {
    /// A WebSocket of the Workers runtime (`Response.webSocket`).
    type WorkerWebSocket;

    /// Starts handling the socket in this worker (Workers' own method).
    #[wasm_bindgen(method, catch)]
    fn accept(this: &WorkerWebSocket) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_text(this: &WorkerWebSocket, text: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send_bytes(this: &WorkerWebSocket, data: &Uint8Array) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn close(this: &WorkerWebSocket, code: u16, reason: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &WorkerWebSocket, kind: &str, listener: &Function);

    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &WorkerWebSocket, kind: &str, listener: &Function);
}

/// The device streams of the edge: the stream URL (`MIST_WS_URL`, else derived from the cloud
/// as natively), the shell deny-list, and the most bytes a stream may hold unread.
#[derive(Debug, Clone)]
pub struct EdgeStreams {
    /// `MIST_WS_URL`: replaces the cloud's stream URL (tests, private deployments).
    pub stream_url: Option<String>,
    /// The commands a remote shell refuses (`None`: every command is refused).
    pub denylist: Option<Vec<String>>,
    /// The most bytes of messages waiting to be read (`MISTMCP_MAX_UPSTREAM_BYTES`, the cap of
    /// one Mist answer on the edge): a stream that sends more, faster than they are read, fails.
    pub max_queued_bytes: usize,
}

/// Events of one socket, waiting to be read.
struct Inbox {
    events: VecDeque<StreamEvent>,
    /// Bytes of the queued messages, with [`MESSAGE_OVERHEAD`] each.
    queued: usize,
    cap: usize,
    /// A close or failure was queued: what comes later is dropped, and once the queue is
    /// read, every read answers this.
    end: Option<StreamEvent>,
    waker: Option<Waker>,
}

impl Inbox {
    fn push(&mut self, event: StreamEvent) {
        if self.end.is_some() {
            return;
        }
        match &event {
            StreamEvent::Message(text) => {
                let cost = text.len() + MESSAGE_OVERHEAD;
                if self.queued + cost > self.cap {
                    self.overflow();
                    return;
                }
                self.queued += cost;
            }
            StreamEvent::Closed | StreamEvent::Failed(_) => self.end = Some(event.clone()),
            StreamEvent::Idle => return,
        }
        self.events.push_back(event);
        self.wake();
    }

    /// Ends the stream: more bytes came than may wait (the messages already queued stay).
    fn overflow(&mut self) {
        let failed = StreamEvent::Failed(format!(
            "the device sent more than {} bytes faster than they were read (MISTMCP_MAX_UPSTREAM_BYTES)",
            self.cap
        ));
        self.end = Some(failed.clone());
        self.events.push_back(failed);
        self.wake();
    }

    /// Whether a message of at least `bytes` bytes could still be queued.
    fn room_for(&self, bytes: usize) -> bool {
        self.end.is_none() && self.queued + bytes + MESSAGE_OVERHEAD <= self.cap
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// The next event, or `None` after registering `waker` for the next push.
    fn take(&mut self, waker: &Waker) -> Option<StreamEvent> {
        match self.events.pop_front() {
            Some(event) => {
                if let StreamEvent::Message(text) = &event {
                    self.queued -= text.len() + MESSAGE_OVERHEAD;
                }
                Some(event)
            }
            None if self.end.is_some() => self.end.clone(),
            None => {
                self.waker = Some(waker.clone());
                None
            }
        }
    }
}

type Listener = Closure<dyn FnMut(JsValue)>;

/// One accepted socket: its listeners live as long as it does.
struct EdgeStream {
    socket: WorkerWebSocket,
    inbox: Rc<RefCell<Inbox>>,
    listeners: Vec<(&'static str, Listener)>,
}

impl Drop for EdgeStream {
    fn drop(&mut self) {
        for (kind, listener) in &self.listeners {
            self.socket
                .remove_event_listener(kind, listener.as_ref().unchecked_ref());
        }
        // Already closed by the other side, or never fully open: nothing more to do.
        let _ = self.socket.close(1000, "done");
    }
}

/// The text of a message event: a string as it is, binary decoded as UTF-8 without NUL bytes
/// (as natively); `None` when it is larger than `inbox` may still hold (then it is not copied
/// into the module's memory, which never shrinks).
fn message_text(event: &JsValue, inbox: &Inbox) -> Option<String> {
    let data = Reflect::get(event, &"data".into()).ok()?;
    if let Some(text) = data.dyn_ref::<JsString>() {
        // UTF-16 units: at most the UTF-8 bytes, so a message this long cannot fit.
        if !inbox.room_for(text.length() as usize) {
            return None;
        }
        return text.as_string();
    }
    let bytes = if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        Uint8Array::new(buffer)
    } else {
        data.dyn_into::<Uint8Array>().ok()?
    };
    if !inbox.room_for(bytes.length() as usize) {
        return None;
    }
    Some(String::from_utf8_lossy(&bytes.to_vec()).replace('\0', ""))
}

impl EdgeStream {
    fn accept(socket: WorkerWebSocket, cap: usize) -> Result<Self, StreamError> {
        socket
            .accept()
            .map_err(|e| StreamError::Connect(format!("cannot accept the WebSocket: {e:?}")))?;
        let inbox = Rc::new(RefCell::new(Inbox {
            events: VecDeque::new(),
            queued: 0,
            cap,
            end: None,
            waker: None,
        }));
        let on_message = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let mut inbox = inbox.borrow_mut();
                match message_text(&event, &inbox) {
                    Some(text) => inbox.push(StreamEvent::Message(text)),
                    None if inbox.end.is_none() => inbox.overflow(),
                    None => {}
                }
            })
        };
        let on_close = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                inbox.borrow_mut().push(StreamEvent::Closed);
            })
        };
        let on_error = {
            let inbox = inbox.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let why = Reflect::get(&event, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| "the WebSocket failed".into());
                inbox.borrow_mut().push(StreamEvent::Failed(why));
            })
        };
        let listeners = vec![
            ("message", on_message),
            ("close", on_close),
            ("error", on_error),
        ];
        for (kind, listener) in &listeners {
            socket.add_event_listener(kind, listener.as_ref().unchecked_ref());
        }
        Ok(EdgeStream {
            socket,
            inbox,
            listeners,
        })
    }
}

#[async_trait::async_trait(?Send)]
impl Stream for EdgeStream {
    async fn send_text(&mut self, text: &str) -> Result<(), StreamError> {
        self.socket
            .send_text(text)
            .map_err(|e| StreamError::Send(format!("{e:?}")))
    }

    async fn send_binary(&mut self, data: &[u8]) -> Result<(), StreamError> {
        // A copy: the runtime must not read the module's memory after this call.
        self.socket
            .send_bytes(&Uint8Array::from(data))
            .map_err(|e| StreamError::Send(format!("{e:?}")))
    }

    async fn next(&mut self, wait: Duration) -> StreamEvent {
        // One timer for the whole wait; it is cleared when a message comes first.
        let mut timer = Timer::after(wait);
        poll_fn(|cx| {
            if let Some(event) = self.inbox.borrow_mut().take(cx.waker()) {
                return Poll::Ready(event);
            }
            match Pin::new(&mut timer).poll(cx) {
                Poll::Ready(()) => Poll::Ready(StreamEvent::Idle),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

fn connect_error(host: &str, what: impl std::fmt::Display) -> StreamError {
    StreamError::Connect(format!("cannot open the Mist stream at {host}: {what}"))
}

fn js_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

#[async_trait::async_trait(?Send)]
impl DeviceStreams for EdgeStreams {
    async fn open(
        &self,
        url: &str,
        credentials: &Credentials,
    ) -> Result<Box<dyn Stream>, StreamError> {
        let target = stream_target(url, &self.stream_url(credentials))?;
        let host = target.host.as_str();
        // fetch takes the http(s) form of a ws(s) URL.
        let http_url = match target.url.as_str().split_once(':') {
            Some(("wss", rest)) => format!("https:{rest}"),
            Some((_, rest)) => format!("http:{rest}"),
            None => return Err(StreamError::Refused(format!("bad stream URL: {url}"))),
        };
        let headers = Object::new();
        let set = |key: &str, value: &str| {
            Reflect::set(&headers, &key.into(), &value.into())
                .map(|_| ())
                .map_err(|e| StreamError::Refused(format!("bad header: {}", js_text(&e))))
        };
        set("upgrade", "websocket")?;
        if target.send_token
            && let Some(token) = &credentials.token
        {
            set("authorization", &format!("Token {}", token.expose()))?;
        }
        let init = Object::new();
        Reflect::set(&init, &"headers".into(), &headers)
            .map_err(|e| StreamError::Refused(js_text(&e)))?;
        let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| connect_error(host, "this host has no fetch"))?;
        let promise: Promise = fetch
            .call2(&JsValue::UNDEFINED, &http_url.into(), &init)
            .and_then(|p| p.dyn_into())
            // The error names the host, never the headers: the token stays out of it.
            .map_err(|e| connect_error(host, js_text(&e)))?;
        let mut answer = JsFuture::from(promise);
        let mut timer = Timer::after(OPEN_TIMEOUT);
        let response = poll_fn(|cx| {
            if let Poll::Ready(r) = Pin::new(&mut answer).poll(cx) {
                return Poll::Ready(Some(r));
            }
            Pin::new(&mut timer).poll(cx).map(|()| None)
        })
        .await
        .ok_or_else(|| {
            StreamError::Connect(format!(
                "the Mist stream at {host} did not answer within {} s",
                OPEN_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| connect_error(host, js_text(&e)))?;
        let socket = Reflect::get(&response, &"webSocket".into())
            .ok()
            .filter(|s| !s.is_null() && !s.is_undefined());
        let Some(socket) = socket else {
            let status = Reflect::get(&response, &"status".into())
                .ok()
                .and_then(|s| s.as_f64())
                .unwrap_or(0.0);
            return Err(connect_error(
                host,
                format!("it answered HTTP {status} instead of a WebSocket"),
            ));
        };
        Ok(Box::new(EdgeStream::accept(
            socket.unchecked_into(),
            self.max_queued_bytes,
        )?))
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
