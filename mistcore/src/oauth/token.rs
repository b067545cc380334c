//! An access token checked: a JWT against its issuer's keys (signature, algorithm, issuer,
//! audience, expiry), or an opaque token by the issuer's introspection (RFC 7662). Nothing of
//! the token itself is kept or logged, only who it names.

use super::config::OAuthConfig;
use super::discovery::{Issuer, Unreachable, fetch_json};
use super::signature::{Algorithm, Jwk, SignatureCheck, SignatureError};
use crate::api::{HttpRequest, HttpTransport};
use crate::catalog::Method;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

/// The longest access token read (a JWT with many groups stays far below it).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The signature algorithms accepted: asymmetric ones only (no `none`, no HMAC, whose key
/// would be the public key an attacker knows).
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Who a valid token names, and what it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer.
    pub issuer: String,
    /// The subject (`sub`).
    pub subject: String,
    /// The groups of the issuer's groups claim.
    pub groups: Vec<String>,
    /// The scopes granted (`scope`, or `scp`).
    pub scopes: Vec<String>,
    /// When it expires (seconds since the epoch).
    pub expires: u64,
}

/// Why a token is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not valid here; the text says why (without the token).
    #[error("{0}")]
    Invalid(String),
    /// The issuer could not be asked.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
}

fn invalid(reason: impl Into<String>) -> TokenError {
    TokenError::Invalid(reason.into())
}

/// A JWT has three base64url parts, the first a JSON header.
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or("");
    parts.count() == 2
        && base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .is_ok_and(|h| serde_json::from_slice::<Map<String, Value>>(&h).is_ok())
}

/// The unverified claims of a JWT, only to find its issuer.
fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

/// The audiences a token may name: the resource, and the issuer's extra ones.
fn audiences(config: &OAuthConfig, issuer: &Issuer) -> Vec<String> {
    let mut all = vec![config.resource.clone()];
    // `https://host/mcp/` and `https://host/mcp` are the same resource to a person.
    let trimmed = config.resource.trim_end_matches('/').to_string();
    if trimmed != config.resource {
        all.push(trimmed);
    } else {
        all.push(format!("{trimmed}/"));
    }
    all.extend(issuer.config.audiences.iter().cloned());
    all
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn identity(issuer: &Issuer, claims: &Map<String, Value>) -> Result<Identity, TokenError> {
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("the token names no subject (`sub`)"))?;
    let mut scopes = strings(claims.get("scope"));
    scopes.extend(strings(claims.get("scp")));
    let groups = match claims.get(&issuer.config.groups_claim) {
        // One group as a string is one group, even with spaces in its name.
        Some(Value::String(g)) => vec![g.clone()],
        other => strings(other),
    };
    Ok(Identity {
        issuer: issuer.config.issuer.clone(),
        subject: subject.to_string(),
        groups,
        scopes,
        expires: claims.get("exp").and_then(Value::as_u64).unwrap_or(0),
    })
}

/// Whether `key` may verify `alg`: its kind and curve are the algorithm's, its `alg` (when it
/// names one) is the algorithm, and its `use` (when set) is signing.
fn key_fits(key: &Jwk, alg: Algorithm) -> Result<(), TokenError> {
    use jsonwebtoken::jwk::{AlgorithmParameters as P, EllipticCurve as C, PublicKeyUse};
    if key
        .common
        .key_algorithm
        .is_some_and(|a| a.to_string() != format!("{alg:?}"))
    {
        return Err(invalid("the token's algorithm is not its key's"));
    }
    if matches!(
        key.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return Err(invalid("the token's key is not a signing key"));
    }
    let fits = match (&key.algorithm, alg) {
        (
            P::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        (P::EllipticCurve(ec), Algorithm::ES256) => ec.curve == C::P256,
        (P::EllipticCurve(ec), Algorithm::ES384) => ec.curve == C::P384,
        (P::OctetKeyPair(okp), Algorithm::EdDSA) => okp.curve == C::Ed25519,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(invalid("the token's algorithm is not its key's"))
    }
}

/// A NumericDate claim (RFC 7519: seconds, possibly with a fraction), whole seconds.
fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// The header checks jsonwebtoken's `decode` makes beyond the algorithm: `b64` false (an
/// unencoded payload) and critical parameters other than `b64` are refused.
fn header_supported(header: &jsonwebtoken::Header) -> bool {
    // `b64` must be a boolean, and not false.
    let Ok(b64) = header.extras.get::<bool>("b64") else {
        return false;
    };
    if b64 == Some(false) {
        return false;
    }
    match &header.crit {
        None => true,
        Some(crit) => crit.len() == 1 && crit[0] == "b64" && b64.is_some(),
    }
}

/// The claims of a JWT whose signature was verified, checked against `now` (seconds since the
/// epoch, the caller's clock) with the configured leeway: `exp`, `iss`, `sub` and `aud`
/// present, not expired, not before `nbf`, of the issuer, for this server.
fn check_claims(
    config: &OAuthConfig,
    issuer: &Issuer,
    claims: &Map<String, Value>,
    now: u64,
) -> Result<(), TokenError> {
    let exp = claims.get("exp").and_then(numeric_date);
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => Some(vec![a.as_str()]),
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    let (Some(exp), Some(iss), Some(_), Some(aud)) = (exp, iss, sub, aud) else {
        return Err(invalid(
            "the token lacks a required claim (exp, iss, sub, aud)",
        ));
    };
    let leeway = config.leeway_seconds;
    if exp.saturating_add(leeway) < now {
        return Err(invalid("the token has expired"));
    }
    match claims.get("nbf") {
        None => {}
        Some(nbf) => match numeric_date(nbf) {
            Some(nbf) if nbf > now.saturating_add(leeway) => {
                return Err(invalid("the token is not valid yet"));
            }
            Some(_) => {}
            None => return Err(invalid("the token's nbf is not a time")),
        },
    }
    if iss != issuer.config.issuer {
        return Err(invalid("the token's issuer is not trusted by this server"));
    }
    let accepted = audiences(config, issuer);
    if !aud.iter().any(|a| accepted.iter().any(|x| x == a)) {
        return Err(invalid(
            "the token is not for this server (its audience is another resource)",
        ));
    }
    Ok(())
}

/// Checks a JWT: the issuer it names must be trusted, its key must be one of that issuer's,
/// its algorithm asymmetric and the key's, its signature valid (by `verifier`), its audience
/// this server, its time valid at `now`.
pub(crate) async fn verify_jwt(
    config: &OAuthConfig,
    issuers: &[Issuer],
    transport: &dyn HttpTransport,
    verifier: &dyn SignatureCheck,
    token: &str,
    now: u64,
) -> Result<Identity, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| {
        invalid("the token's header cannot be read (or its algorithm is not accepted)")
    })?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(invalid(format!(
            "tokens signed with {:?} are not accepted: only asymmetric signatures (RS, PS, ES, EdDSA)",
            header.alg
        )));
    }
    if !header_supported(&header) {
        return Err(invalid(
            "the token's header has critical parameters this server does not support",
        ));
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| invalid("the token cannot be verified"))?;
    let named = unverified_issuer(token).ok_or_else(|| invalid("the token names no issuer"))?;
    let issuer = issuers
        .iter()
        .find(|i| i.config.issuer == named)
        .ok_or_else(|| invalid("the token's issuer is not trusted by this server"))?;
    let jwk = issuer
        .key(transport, header.kid.as_deref(), now)
        .await?
        .ok_or_else(|| invalid("the token's key id is not among its issuer's keys"))?;
    key_fits(&jwk, header.alg)?;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("the token's signature is not valid"))?;
    let valid = verifier
        .verify(&jwk, header.alg, signing_input.as_bytes(), &signature)
        .await
        .map_err(|e| match e {
            SignatureError::Unsupported(alg) => invalid(format!(
                "tokens signed with {alg:?} cannot be verified by this server (its host lacks the algorithm)"
            )),
            SignatureError::Key(_) => invalid("the issuer's key cannot be used"),
        })?;
    if !valid {
        return Err(invalid("the token's signature is not valid"));
    }
    let claims = signing_input
        .split_once('.')
        .and_then(|(_, payload)| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .ok_or_else(|| invalid("the token's claims cannot be read"))?;
    check_claims(config, issuer, &claims, now)?;
    identity(issuer, &claims)
}

/// Identities of tokens already checked, by SHA-256 of the token (never the token itself),
/// each until a time; at most [`MAX_KNOWN`] (when full, the expired ones go, then all).
#[derive(Default)]
pub(crate) struct KnownTokens {
    known: Mutex<HashMap<[u8; 32], (Identity, u64)>>,
}

/// The most identities a [`KnownTokens`] keeps.
pub(crate) const MAX_KNOWN: usize = 4096;

impl KnownTokens {
    /// The identity of `token`, while its time is not over and the token has not expired.
    pub(crate) fn get(&self, token: &str, now: u64) -> Option<Identity> {
        let known = self.known.lock().ok()?;
        known
            .get(&token_key(token))
            .filter(|(id, until)| now < *until && now < id.expires.max(1))
            .map(|(id, _)| id.clone())
    }

    /// Keeps `identity` for `token` until `until` (nothing when that is already past).
    pub(crate) fn put(&self, token: &str, identity: &Identity, until: u64, now: u64) {
        if until <= now {
            return;
        }
        if let Ok(mut known) = self.known.lock() {
            if known.len() >= MAX_KNOWN {
                known.retain(|_, (_, u)| *u > now);
                if known.len() >= MAX_KNOWN {
                    known.clear();
                }
            }
            known.insert(token_key(token), (identity.clone(), until));
        }
    }
}

/// Introspection answers kept, by SHA-256 of the token: the identities of active tokens, and
/// for a while the tokens refused (a stranger repeating a made-up token costs one request to
/// the issuer); and the introspections in flight, capped.
#[derive(Default)]
pub(crate) struct Introspected {
    answers: KnownTokens,
    refused: Mutex<HashMap<[u8; 32], u64>>,
    in_flight: std::sync::atomic::AtomicUsize,
}

/// The most introspection refusals kept (answers: [`MAX_KNOWN`]).
const MAX_INTROSPECTED: usize = MAX_KNOWN;
/// Seconds a token the issuer refused is refused without asking again (at least).
const REFUSALS_KEPT: u64 = 60;
/// The most introspection requests at once: made-up tokens cannot make the server flood the
/// issuer with its client's credentials (beyond it, a 503).
const MAX_INTROSPECTIONS_IN_FLIGHT: usize = 8;

/// Holds one of the introspections in flight.
struct InFlight<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn token_key(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

impl Introspected {
    fn get(&self, token: &str, now: u64) -> Option<Identity> {
        self.answers.get(token, now)
    }

    fn was_refused(&self, token: &str, now: u64) -> bool {
        self.refused
            .lock()
            .is_ok_and(|r| r.get(&token_key(token)).is_some_and(|until| now < *until))
    }

    fn refuse(&self, token: &str, until: u64, now: u64) {
        if let Ok(mut refused) = self.refused.lock() {
            if refused.len() >= MAX_INTROSPECTED {
                refused.retain(|_, u| *u > now);
                if refused.len() >= MAX_INTROSPECTED {
                    refused.clear();
                }
            }
            refused.insert(token_key(token), until);
        }
    }

    fn start(&self) -> Option<InFlight<'_>> {
        use std::sync::atomic::Ordering;
        let before = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(&self.in_flight);
        (before < MAX_INTROSPECTIONS_IN_FLIGHT).then_some(guard)
    }

    fn put(&self, token: &str, identity: &Identity, until: u64, now: u64) {
        self.answers.put(token, identity, until, now);
    }
}

/// Checks an opaque token with the introspection endpoint of the issuers that have one;
/// `secret` reads the client secret from its variable (or binding).
pub(crate) async fn introspect(
    config: &OAuthConfig,
    issuers: &[Issuer],
    cache: &Introspected,
    transport: &dyn HttpTransport,
    secret: &(dyn Fn(&str) -> Option<String> + Sync),
    token: &str,
    now: u64,
) -> Result<Identity, TokenError> {
    if let Some(known) = cache.get(token, now) {
        return Ok(known);
    }
    const INACTIVE: &str =
        "the token is not active (revoked, expired or unknown to the identity provider)";
    if cache.was_refused(token, now) {
        return Err(invalid(INACTIVE));
    }
    // An inactive token never turns active: its refusal is kept longer than an answer.
    let refused_until = now + config.introspection_cache_seconds.max(REFUSALS_KEPT);
    let mut tried = false;
    for issuer in issuers {
        let Some(client) = &issuer.config.introspection else {
            continue;
        };
        tried = true;
        let Some(_slot) = cache.start() else {
            return Err(TokenError::Unreachable(Unreachable {
                issuer: issuer.config.issuer.clone(),
                reason: format!("over {MAX_INTROSPECTIONS_IN_FLIGHT} introspections in flight"),
            }));
        };
        let endpoint = issuer
            .endpoints(transport, now)
            .await?
            .introspection
            .ok_or_else(|| invalid("no introspection endpoint"))?;
        let client_secret = secret(&client.client_secret_env).ok_or_else(|| Unreachable {
            issuer: issuer.config.issuer.clone(),
            reason: format!(
                "the introspection client's secret variable {} is not set",
                client.client_secret_env
            ),
        })?;
        let form = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            form(&client.client_id),
            form(&client_secret)
        ));
        let request = HttpRequest {
            method: Method::Post,
            url: endpoint,
            headers: vec![
                ("authorization".into(), format!("Basic {basic}")),
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: Some(format!("token={}&token_type_hint=access_token", form(token)).into_bytes()),
        };
        let answer = fetch_json(transport, &issuer.config.issuer, request).await?;
        let Some(claims) = answer.as_object() else {
            return Err(invalid("the introspection answer is not an object"));
        };
        if claims.get("active").and_then(Value::as_bool) != Some(true) {
            // Another issuer may know it.
            continue;
        }
        // A refresh token is active too, but it is no access token.
        if let Some(kind) = claims.get("token_type").and_then(Value::as_str)
            && !["bearer", "access_token"].contains(&kind.to_ascii_lowercase().as_str())
        {
            cache.refuse(token, refused_until, now);
            return Err(invalid("the token is not an access token"));
        }
        if let Some(iss) = claims.get("iss").and_then(Value::as_str)
            && iss.trim_end_matches('/') != issuer.config.issuer.trim_end_matches('/')
        {
            return Err(invalid("the token's issuer is not trusted by this server"));
        }
        let accepted = audiences(config, issuer);
        if !strings(claims.get("aud"))
            .iter()
            .any(|a| accepted.contains(a))
        {
            cache.refuse(token, refused_until, now);
            return Err(invalid(
                "the token is not for this server (its audience is another resource)",
            ));
        }
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        if exp == 0 || exp + config.leeway_seconds <= now {
            return Err(invalid("the token has expired"));
        }
        let identity = identity(issuer, claims)?;
        let until = (now + config.introspection_cache_seconds).min(exp);
        cache.put(token, &identity, until, now);
        return Ok(identity);
    }
    if tried {
        cache.refuse(token, refused_until, now);
    }
    Err(invalid(if tried {
        INACTIVE
    } else {
        "the token is not a JWT, and no issuer is configured for introspection of opaque tokens"
    }))
}
