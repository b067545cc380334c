//! mistcore's [`SessionStore`] on the host's storage: the JS entry passes an object with
//! `get(id)`, `put(id, json)` and `delete(id)` returning promises (a Durable Object per session in
//! `worker/worker.mjs`, which also forgets idle sessions).

use mistcore::session_store::{SessionStore, StoreError, StoredSession};
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

#[async_trait::async_trait(?Send)]
impl SessionStore for JsSessionStore {
    async fn load(&self, id: &str) -> Result<Option<StoredSession>, StoreError> {
        let found = self.get(id).await.map_err(failed)?;
        match found.as_string() {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| StoreError(format!("stored session unreadable: {e}"))),
        }
    }

    async fn save(&self, id: &str, session: &StoredSession) -> Result<(), StoreError> {
        let text = serde_json::to_string(session).map_err(|e| StoreError(e.to_string()))?;
        self.put(id, &text).await.map(|_| ()).map_err(failed)
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.delete(id).await.map(|_| ()).map_err(failed)
    }
}
