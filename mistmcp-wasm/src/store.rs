//! mistcore's [`SessionStore`] on the host's storage: the JS entry passes an object with
//! `get(id)`, `put(id, json)` and `delete(id)` returning promises (a Durable Object per session in
//! `worker/worker.mjs`, which also forgets idle sessions). [`Owned`] keeps each session for the
//! caller that opened it.

use mistcore::session_store::{SessionStore, StoreError, StoredSession};
use serde_json::Value;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The host's session storage (see the module documentation).
    pub type JsSessionStore;

    #[wasm_bindgen(method, catch)]
    async fn get(this: &JsSessionStore, id: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    async fn put(this: &JsSessionStore, id: &str, session: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    async fn delete(this: &JsSessionStore, id: &str) -> Result<JsValue, JsValue>;

    /// `crypto.randomUUID()`: a new session id.
    #[wasm_bindgen(js_namespace = crypto, js_name = randomUUID)]
    pub fn random_uuid() -> String;
}

fn failed(e: JsValue) -> StoreError {
    StoreError(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

fn unreadable(e: serde_json::Error) -> StoreError {
    StoreError(format!("stored session unreadable: {e}"))
}

/// The key of the owner's identity in a stored session's JSON.
const OWNER: &str = "owner";

/// The host's store as one caller sees it: a session is kept with the identity of the caller
/// that opened it (`mistcore::session_request::caller_identity`: a SHA-256 of the server token or
/// OAuth subject, the Mist token and the base URL), and is unknown to any other caller, as on
/// the native server. One user's session (its categories, its secret handles) is never another's.
pub struct Owned<'a> {
    /// The host's store.
    pub store: &'a JsSessionStore,
    /// The identity of this request's caller.
    pub owner: &'a str,
}

impl Owned<'_> {
    /// Forgets the session `id` when this caller owns it; `false` when it is unknown to them.
    pub async fn close(&self, id: &str) -> Result<bool, StoreError> {
        if self.load(id).await?.is_none() {
            return Ok(false);
        }
        self.remove(id).await?;
        Ok(true)
    }
}

#[async_trait::async_trait(?Send)]
impl SessionStore for Owned<'_> {
    async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        let found = self.store.get(id).await.map_err(failed)?;
        let Some(text) = found.as_string() else {
            return Ok(None);
        };
        let value: Value = serde_json::from_str(&text).map_err(unreadable)?;
        // A session of another caller, or one stored before sessions had owners: unknown here.
        if value.get(OWNER).and_then(Value::as_str) != Some(self.owner) {
            return Ok(None);
        }
        serde_json::from_value(value).map(Some).map_err(unreadable)
    }

    async fn save(&self, id: &str, session: &StoredSession) -> Result<(), StoreError> {
        let mut value = serde_json::to_value(session).map_err(|e| StoreError(e.to_string()))?;
        if let Value::Object(fields) = &mut value {
            fields.insert(OWNER.into(), Value::String(self.owner.to_string()));
        }
        self.store
            .put(id, &value.to_string())
            .await
            .map(|_| ())
            .map_err(failed)
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(id).await.map(|_| ()).map_err(failed)
    }
}
