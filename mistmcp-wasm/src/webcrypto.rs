//! JWS signatures of OAuth access tokens checked with the host's WebCrypto
//! (`crypto.subtle.importKey("jwk", …)` and `crypto.subtle.verify`): mistcore's
//! [`SignatureCheck`] on the edge, so that the module links no RSA or elliptic-curve code and
//! the arithmetic runs in the host's native code. RS256/384/512 (RSASSA-PKCS1-v1_5),
//! PS256/384/512 (RSA-PSS, salt the hash's length), ES256/ES384 (ECDSA: the JWS signature is the
//! raw `r || s` WebCrypto expects), EdDSA (Ed25519; workerd also knows it as `NODE-ED25519`).
//! Imported keys are kept for the isolate's life, by algorithm and public key.

use js_sys::{Array, Promise, Reflect};
use mistcore::oauth::{Algorithm, Jwk, SignatureCheck, SignatureError};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `crypto.subtle.importKey(format, keyData, algorithm, extractable, keyUsages)`.
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = importKey)]
    fn import_key(
        format: &str,
        key: &JsValue,
        algorithm: &JsValue,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    /// `crypto.subtle.verify(algorithm, key, signature, data)`: the arrays are copied before
    /// it returns (WebCrypto's rule), so views of the module's memory are safe to pass.
    #[wasm_bindgen(catch, js_namespace = ["crypto", "subtle"], js_name = verify)]
    fn subtle_verify(
        algorithm: &JsValue,
        key: &JsValue,
        signature: &[u8],
        data: &[u8],
    ) -> Result<Promise, JsValue>;
}

/// The most imported keys kept (an issuer publishes a handful; when full, all are dropped).
const MAX_KEYS: usize = 64;

thread_local! {
    /// Imported keys, by algorithm and public JWK: one import per key and isolate.
    static KEYS: RefCell<HashMap<String, JsValue>> = RefCell::new(HashMap::new());
}

/// The verifier of the edge: the host's WebCrypto (state: the isolate's key cache).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebCrypto;

/// The hash of an algorithm, as WebCrypto names it, and its length in bytes.
fn hash(alg: Algorithm) -> (&'static str, u32) {
    match alg {
        Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => ("SHA-384", 48),
        Algorithm::RS512 | Algorithm::PS512 => ("SHA-512", 64),
        _ => ("SHA-256", 32),
    }
}

/// The WebCrypto parameters of `alg`: (for importKey, for verify), as JSON; `legacy_ed25519`
/// names Ed25519 the way older workerd did.
fn parameters(alg: Algorithm, legacy_ed25519: bool) -> Option<(Value, Value)> {
    let (hash, length) = hash(alg);
    Some(match alg {
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => (
            json!({"name": "RSASSA-PKCS1-v1_5", "hash": hash}),
            json!({"name": "RSASSA-PKCS1-v1_5"}),
        ),
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 => (
            json!({"name": "RSA-PSS", "hash": hash}),
            json!({"name": "RSA-PSS", "saltLength": length}),
        ),
        Algorithm::ES256 => (
            json!({"name": "ECDSA", "namedCurve": "P-256"}),
            json!({"name": "ECDSA", "hash": hash}),
        ),
        Algorithm::ES384 => (
            json!({"name": "ECDSA", "namedCurve": "P-384"}),
            json!({"name": "ECDSA", "hash": hash}),
        ),
        Algorithm::EdDSA if legacy_ed25519 => (
            json!({"name": "NODE-ED25519", "namedCurve": "NODE-ED25519"}),
            json!({"name": "NODE-ED25519"}),
        ),
        Algorithm::EdDSA => (json!({"name": "Ed25519"}), json!({"name": "Ed25519"})),
        _ => return None,
    })
}

/// The public part of a JWK, only the members WebCrypto reads (no `alg`, `use` or `key_ops`,
/// which mistcore checked already and which WebCrypto would match against its own names).
fn public_jwk(key: &Jwk) -> Result<Value, SignatureError> {
    use mistcore::oauth::jwk::AlgorithmParameters as P;
    Ok(match &key.algorithm {
        P::RSA(rsa) => json!({"kty": "RSA", "n": rsa.n, "e": rsa.e}),
        P::EllipticCurve(ec) => json!({
            "kty": "EC",
            "crv": serde_json::to_value(&ec.curve).map_err(|e| SignatureError::Key(e.to_string()))?,
            "x": ec.x,
            "y": ec.y,
        }),
        P::OctetKeyPair(okp) => json!({
            "kty": "OKP",
            "crv": serde_json::to_value(&okp.curve).map_err(|e| SignatureError::Key(e.to_string()))?,
            "x": okp.x,
        }),
        _ => return Err(SignatureError::Key("not a public signing key".into())),
    })
}

/// A JSON value as a JS object (JSON.parse of its text).
fn js(value: &Value) -> Result<JsValue, SignatureError> {
    js_sys::JSON::parse(&value.to_string())
        .map_err(|e| SignatureError::Key(format!("WebCrypto parameters: {}", message(&e))))
}

/// What a JS error says (its `name: message`), for the log.
fn message(e: &JsValue) -> String {
    let text = |k: &str| {
        Reflect::get(e, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_string())
    };
    match (text("name"), text("message")) {
        (Some(n), Some(m)) => format!("{n}: {m}"),
        _ => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// Whether a rejection says the host does not know the algorithm.
fn not_supported(e: &JsValue) -> bool {
    Reflect::get(e, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|n| n == "NotSupportedError")
}

/// Imports `jwk` for `alg` (the import parameters given): the CryptoKey, or the rejection.
async fn import(jwk: &JsValue, params: &JsValue) -> Result<JsValue, JsValue> {
    let usages = Array::of1(&JsValue::from_str("verify"));
    JsFuture::from(import_key("jwk", jwk, params, false, &usages)?).await
}

/// The CryptoKey of `key` for `alg`, and the verify parameters that go with it: from the
/// isolate's cache, else imported (Ed25519 under its standard name, else its older one).
async fn crypto_key(key: &Jwk, alg: Algorithm) -> Result<(JsValue, JsValue), SignatureError> {
    let public = public_jwk(key)?;
    let id = format!("{alg:?} {public}");
    let legacy = |k: &JsValue| {
        Reflect::get(k, &JsValue::from_str("algorithm"))
            .ok()
            .and_then(|a| Reflect::get(&a, &JsValue::from_str("name")).ok())
            .and_then(|n| n.as_string())
            .is_some_and(|n| n == "NODE-ED25519")
    };
    if let Some(known) = KEYS.with(|k| k.borrow().get(&id).cloned()) {
        let (_, verify) =
            parameters(alg, legacy(&known)).ok_or(SignatureError::Unsupported(alg))?;
        return Ok((known, js(&verify)?));
    }
    let jwk = js(&public)?;
    let (import_params, verify) = parameters(alg, false).ok_or(SignatureError::Unsupported(alg))?;
    let imported = match import(&jwk, &js(&import_params)?).await {
        Ok(k) => Ok((k, verify)),
        Err(e) if alg == Algorithm::EdDSA && not_supported(&e) => {
            let (import_params, verify) =
                parameters(alg, true).ok_or(SignatureError::Unsupported(alg))?;
            match import(&jwk, &js(&import_params)?).await {
                Ok(k) => Ok((k, verify)),
                Err(e) if not_supported(&e) => return Err(SignatureError::Unsupported(alg)),
                Err(e) => Err(e),
            }
        }
        Err(e) if not_supported(&e) => return Err(SignatureError::Unsupported(alg)),
        Err(e) => Err(e),
    };
    let (crypto_key, verify) = imported.map_err(|e| SignatureError::Key(message(&e)))?;
    KEYS.with(|k| {
        let mut keys = k.borrow_mut();
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(id, crypto_key.clone());
    });
    Ok((crypto_key, js(&verify)?))
}

#[async_trait::async_trait(?Send)]
impl SignatureCheck for WebCrypto {
    async fn verify(
        &self,
        key: &Jwk,
        algorithm: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, SignatureError> {
        let (crypto_key, params) = crypto_key(key, algorithm).await?;
        let verified = subtle_verify(&params, &crypto_key, signature, signing_input)
            .map_err(|e| SignatureError::Key(message(&e)))?;
        // A signature WebCrypto cannot even read is a wrong one.
        Ok(JsFuture::from(verified)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false))
    }
}
