//! What the server learns from an issuer: its metadata (RFC 8414 / OpenID Connect discovery),
//! its keys (the JWKS, cached, fetched again on an unknown key id at most once per
//! [`UNKNOWN_KID_COOLDOWN`]), and its introspection endpoint.

use super::config::{IssuerConfig, checked_url};
use crate::api::{HttpRequest, HttpTransport};
use crate::catalog::Method;
use futures_util::lock::Mutex;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde_json::Value;
use url::Url;

/// The largest metadata or JWKS document read.
pub(crate) const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Keys are fetched again after this many seconds even when every key id is known.
const KEYS_TTL: u64 = 3600;
/// After a refetch that did not find an unknown key id, further unknown ids are refused without
/// asking the issuer again for this many seconds (forged key ids cannot make the server flood the IdP).
pub const UNKNOWN_KID_COOLDOWN: u64 = 30;

/// Why the issuer could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the identity provider {issuer} cannot be reached: {reason}")]
pub struct Unreachable {
    /// The issuer.
    pub issuer: String,
    /// What went wrong.
    pub reason: String,
}

/// GETs a JSON document (or POSTs a form), bounded in size.
pub(crate) async fn fetch_json(
    transport: &dyn HttpTransport,
    issuer: &str,
    request: HttpRequest,
) -> Result<Value, Unreachable> {
    let fail = |reason: String| Unreachable {
        issuer: issuer.to_string(),
        reason,
    };
    let url = request.url.to_string();
    let response = transport
        .send(request)
        .await
        .map_err(|e| fail(format!("{url}: {e}")))?;
    if response.status != 200 {
        return Err(fail(format!("{url} answered {}", response.status)));
    }
    if response.body.len() > MAX_DOCUMENT_BYTES {
        return Err(fail(format!(
            "{url} answered over {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    serde_json::from_slice(&response.body).map_err(|e| fail(format!("{url}: not JSON: {e}")))
}

fn get(url: Url) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url,
        headers: vec![("accept".into(), "application/json".into())],
        body: None,
    }
}

/// The endpoints of an issuer the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoints {
    pub jwks_uri: Option<Url>,
    pub introspection: Option<Url>,
}

/// The metadata URLs of an issuer, in the order MCP clients try them: OpenID Connect discovery
/// appended to the issuer, then RFC 8414's (the well-known path inserted before the issuer's).
fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let base = issuer.as_str().trim_end_matches('/');
    let path = issuer.path().trim_end_matches('/');
    let origin = issuer.origin().ascii_serialization();
    [
        format!("{base}/.well-known/openid-configuration"),
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
    ]
    .iter()
    .filter_map(|u| Url::parse(u).ok())
    .collect()
}

/// One trusted issuer, with what was learnt of it.
pub(crate) struct Issuer {
    pub config: IssuerConfig,
    endpoints: Mutex<Option<Endpoints>>,
    keys: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    set: Option<JwkSet>,
    fetched_at: u64,
    unknown_refetch_at: Option<u64>,
}

impl Issuer {
    pub fn new(config: IssuerConfig) -> Self {
        Issuer {
            config,
            endpoints: Mutex::new(None),
            keys: Mutex::new(KeyCache::default()),
        }
    }

    /// The issuer's endpoints: configured ones, else from its metadata (read once; a failure is
    /// not remembered, so the next request tries again).
    pub async fn endpoints(&self, transport: &dyn HttpTransport) -> Result<Endpoints, Unreachable> {
        let mut known = self.endpoints.lock().await;
        if let Some(e) = known.as_ref() {
            return Ok(e.clone());
        }
        let configured_jwks = self.config.jwks_uri.as_deref();
        let configured_introspection = self
            .config
            .introspection
            .as_ref()
            .and_then(|i| i.endpoint.as_deref());
        let parse = |what: &str, u: &str| checked_url(what, u).map_err(|e| self.unreachable(e.0));
        let needs_metadata = configured_jwks.is_none()
            || (self.config.introspection.is_some() && configured_introspection.is_none());
        let metadata = if needs_metadata {
            Some(self.metadata(transport).await?)
        } else {
            None
        };
        let from_metadata = |key: &str| {
            metadata
                .as_ref()
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
        };
        let jwks_uri = configured_jwks
            .or_else(|| from_metadata("jwks_uri"))
            .map(|u| parse("jwks_uri", u))
            .transpose()?;
        let introspection = match &self.config.introspection {
            None => None,
            Some(_) => Some(
                configured_introspection
                    .or_else(|| from_metadata("introspection_endpoint"))
                    .map(|u| parse("introspection_endpoint", u))
                    .transpose()?
                    .ok_or_else(|| {
                        self.unreachable(
                            "its metadata names no introspection_endpoint: set [issuers.introspection] endpoint"
                                .into(),
                        )
                    })?,
            ),
        };
        let endpoints = Endpoints {
            jwks_uri,
            introspection,
        };
        *known = Some(endpoints.clone());
        Ok(endpoints)
    }

    fn unreachable(&self, reason: String) -> Unreachable {
        Unreachable {
            issuer: self.config.issuer.clone(),
            reason,
        }
    }

    /// The issuer's metadata, whose `issuer` must be the configured one (RFC 8414 §3.3).
    async fn metadata(&self, transport: &dyn HttpTransport) -> Result<Value, Unreachable> {
        let issuer = Url::parse(&self.config.issuer)
            .map_err(|e| self.unreachable(format!("not a URL: {e}")))?;
        let mut last = None;
        for url in metadata_urls(&issuer) {
            match fetch_json(transport, &self.config.issuer, get(url)).await {
                Ok(doc) => {
                    let said = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
                    if said.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
                        return Err(self.unreachable(format!(
                            "its metadata names the issuer {said:?}, not the configured one"
                        )));
                    }
                    return Ok(doc);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| self.unreachable("no metadata URL".into())))
    }

    /// The key `kid` (or the only key, for a token that names none). An unknown id makes the
    /// server fetch the keys again (a rotation), unless a refetch found no key within
    /// [`UNKNOWN_KID_COOLDOWN`] seconds.
    pub async fn key(
        &self,
        transport: &dyn HttpTransport,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Option<Jwk>, Unreachable> {
        let mut cache = self.keys.lock().await;
        let stale = cache.set.is_none() || now.saturating_sub(cache.fetched_at) >= KEYS_TTL;
        if stale {
            self.refresh(transport, &mut cache, now).await?;
        }
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        if let Some(key) = cache.set.as_ref().and_then(find) {
            return Ok(Some(key));
        }
        let cooling = cache
            .unknown_refetch_at
            .is_some_and(|at| now.saturating_sub(at) < UNKNOWN_KID_COOLDOWN);
        if stale || cooling {
            return Ok(None);
        }
        self.refresh(transport, &mut cache, now).await?;
        let found = cache.set.as_ref().and_then(find);
        // Only a refetch that did not find the key starts the cooldown: a rotation found is
        // not held against the next one.
        cache.unknown_refetch_at = found.is_none().then_some(now);
        Ok(found)
    }

    async fn refresh(
        &self,
        transport: &dyn HttpTransport,
        cache: &mut KeyCache,
        now: u64,
    ) -> Result<(), Unreachable> {
        let uri = self
            .endpoints(transport)
            .await?
            .jwks_uri
            .ok_or_else(|| self.unreachable("its metadata names no jwks_uri".into()))?;
        let doc = fetch_json(transport, &self.config.issuer, get(uri)).await?;
        // Keys of kinds this crate does not know are left out, not a failure of the whole set.
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| self.unreachable("its JWKS has no `keys`".into()))?
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter(|k| k.is_supported())
            // An encryption key never verifies a signature; an HMAC secret has no place in a
            // public set (and would let a token be signed with what everyone can read).
            .filter(|k| {
                !matches!(
                    k.common.public_key_use,
                    Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                ) && !matches!(
                    k.algorithm,
                    jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)
                )
            })
            .collect();
        cache.set = Some(JwkSet { keys });
        cache.fetched_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_follow_both_rules() {
        let with_path = Url::parse("https://idp.example.com/realms/noc").expect("url");
        let urls: Vec<String> = metadata_urls(&with_path)
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            urls,
            [
                "https://idp.example.com/realms/noc/.well-known/openid-configuration",
                "https://idp.example.com/.well-known/oauth-authorization-server/realms/noc"
            ]
        );
    }
}
