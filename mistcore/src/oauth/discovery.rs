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

/// One trusted issuer, with what was learnt of it. Known keys are answered from the cache
/// without waiting for anything; fetches go one at a time, outside the cache's lock, and a
/// fetch that failed or found nothing is not repeated within a cooldown: a stranger's forged
/// key ids, or an identity provider that hangs, hold up only the one request that fetches.
pub(crate) struct Issuer {
    pub config: IssuerConfig,
    endpoints: std::sync::Mutex<EndpointState>,
    keys: std::sync::Mutex<KeyCache>,
    /// Taken by the one request that fetches (metadata or keys).
    fetching: Mutex<()>,
}

#[derive(Default)]
struct EndpointState {
    known: Option<Endpoints>,
    /// When the metadata was last asked for in vain (then not again for a while).
    failed: Option<(u64, Unreachable)>,
}

#[derive(Default)]
struct KeyCache {
    set: Option<JwkSet>,
    fetched_at: u64,
    /// Unknown key ids make no fetch before this time.
    quiet_until: u64,
    /// Counts fetches, so that a request that waited for another's fetch does not fetch again.
    generation: u64,
    /// Why the last fetch failed, for the requests of its cooldown when no key is known.
    failure: Option<Unreachable>,
}

impl KeyCache {
    /// The answer from what is cached: the key, else nothing or the last failure.
    fn answer(&self, find: impl Fn(&JwkSet) -> Option<Jwk>) -> Result<Option<Jwk>, Unreachable> {
        match (&self.set, &self.failure) {
            (Some(set), _) => Ok(find(set)),
            (None, Some(failure)) => Err(failure.clone()),
            (None, None) => Ok(None),
        }
    }
}

/// Seconds an issuer that could not be read is not asked again while nothing of it is known
/// (its metadata, or its first keys): short, so that users are served soon after it is back,
/// and the requests in between fail at once instead of each waiting for it.
const METADATA_RETRY: u64 = 2;

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The data under these locks is replaced whole: a panic cannot leave it half-written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Issuer {
    pub fn new(config: IssuerConfig) -> Self {
        Issuer {
            config,
            endpoints: std::sync::Mutex::default(),
            keys: std::sync::Mutex::default(),
            fetching: Mutex::new(()),
        }
    }

    /// The issuer's endpoints: configured ones, else from its metadata (read once; after a
    /// failure, not asked again for [`METADATA_RETRY`] seconds).
    pub async fn endpoints(
        &self,
        transport: &dyn HttpTransport,
        now: u64,
    ) -> Result<Endpoints, Unreachable> {
        if let Some(known) = self.cached_endpoints(now) {
            return known;
        }
        let _turn = self.fetching.lock().await;
        self.endpoints_in_turn(transport, now).await
    }

    /// What is known of the endpoints, or the failure of a moment ago.
    fn cached_endpoints(&self, now: u64) -> Option<Result<Endpoints, Unreachable>> {
        let state = lock(&self.endpoints);
        if let Some(e) = &state.known {
            return Some(Ok(e.clone()));
        }
        state
            .failed
            .as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) < METADATA_RETRY)
            .map(|(_, e)| Err(e.clone()))
    }

    /// [`Self::endpoints`] for a request that holds the turn to fetch.
    async fn endpoints_in_turn(
        &self,
        transport: &dyn HttpTransport,
        now: u64,
    ) -> Result<Endpoints, Unreachable> {
        if let Some(known) = self.cached_endpoints(now) {
            return known;
        }
        let read = self.read_endpoints(transport).await;
        let mut state = lock(&self.endpoints);
        match &read {
            Ok(e) => state.known = Some(e.clone()),
            Err(e) => state.failed = Some((now, e.clone())),
        }
        read
    }

    async fn read_endpoints(
        &self,
        transport: &dyn HttpTransport,
    ) -> Result<Endpoints, Unreachable> {
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
        Ok(Endpoints {
            jwks_uri,
            introspection,
        })
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

    /// The key `kid` (or the only key, for a token that names none). Keys are fetched when none
    /// are known or they are older than an hour (a failed refresh keeps the old ones), and for
    /// an unknown id (a rotation), unless a fetch failed or found nothing within
    /// [`UNKNOWN_KID_COOLDOWN`] seconds.
    pub async fn key(
        &self,
        transport: &dyn HttpTransport,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Option<Jwk>, Unreachable> {
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        // What the cache says without waiting: the key, or whether a fetch may help.
        let generation = {
            let cache = lock(&self.keys);
            let fresh = cache.set.is_some() && now.saturating_sub(cache.fetched_at) < KEYS_TTL;
            if fresh && let Some(key) = cache.set.as_ref().and_then(find) {
                return Ok(Some(key));
            }
            if now < cache.quiet_until {
                return cache.answer(find);
            }
            cache.generation
        };
        let _turn = self.fetching.lock().await;
        {
            // Another request fetched while this one waited: its answer stands.
            let cache = lock(&self.keys);
            if cache.generation != generation {
                return cache.answer(find);
            }
        }
        let fetched = self.fetch_keys(transport, now).await;
        let mut cache = lock(&self.keys);
        cache.generation += 1;
        match fetched {
            Ok(set) => {
                let found = find(&set);
                cache.set = Some(set);
                cache.fetched_at = now;
                cache.failure = None;
                // A rotation found is not held against the next one.
                cache.quiet_until = if found.is_some() {
                    0
                } else {
                    now + UNKNOWN_KID_COOLDOWN
                };
                Ok(found)
            }
            Err(e) => {
                cache.quiet_until = now
                    + if cache.set.is_some() {
                        UNKNOWN_KID_COOLDOWN
                    } else {
                        METADATA_RETRY
                    };
                cache.failure = Some(e.clone());
                match &cache.set {
                    // Keys past their hour still verify while the issuer cannot be reached.
                    Some(old) => Ok(find(old)),
                    None => Err(e),
                }
            }
        }
    }

    /// Reads the keys now (at start), without a cooldown after.
    pub async fn prefetch(
        &self,
        transport: &dyn HttpTransport,
        now: u64,
    ) -> Result<(), Unreachable> {
        let _turn = self.fetching.lock().await;
        let set = self.fetch_keys(transport, now).await?;
        let mut cache = lock(&self.keys);
        cache.generation += 1;
        cache.set = Some(set);
        cache.fetched_at = now;
        cache.failure = None;
        Ok(())
    }

    async fn fetch_keys(
        &self,
        transport: &dyn HttpTransport,
        now: u64,
    ) -> Result<JwkSet, Unreachable> {
        let uri = self
            .endpoints_in_turn(transport, now)
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
            // A key without `alg` stays (Entra ID publishes none): its kind decides which
            // algorithms it verifies (oauth::token::key_fits); one naming an unknown `alg` goes.
            .filter(|k| {
                k.common
                    .key_algorithm
                    .is_none_or(|a| a.to_string().parse::<jsonwebtoken::Algorithm>().is_ok())
            })
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
        Ok(JwkSet { keys })
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
