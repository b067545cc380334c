//! The token checks against an issuer served by a transport of our own (the integration tests
//! use a real identity provider).

use super::*;
use crate::api::{HttpRequest, HttpResponse, TransportError};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use std::sync::atomic::{AtomicUsize, Ordering};

const ISSUER: &str = "https://idp.example.com";
const RESOURCE: &str = "https://mcp.example.com/mcp";

struct Idp {
    jwks: Value,
    jwks_requests: AtomicUsize,
    /// The JWKS answers 500.
    failing: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl HttpTransport for Idp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let body = match request.url.path() {
            "/.well-known/openid-configuration" => {
                json!({"issuer": ISSUER, "jwks_uri": format!("{ISSUER}/jwks")})
            }
            "/jwks" => {
                self.jwks_requests.fetch_add(1, Ordering::SeqCst);
                if self.failing.load(Ordering::SeqCst) {
                    return Ok(HttpResponse {
                        status: 500,
                        ..Default::default()
                    });
                }
                self.jwks.clone()
            }
            _ => {
                return Ok(HttpResponse {
                    status: 404,
                    ..Default::default()
                });
            }
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: serde_json::to_vec(&body).expect("json"),
        })
    }
}

fn signing_key(seed: u8) -> (EncodingKey, Value) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    // PKCS#8 of an Ed25519 seed: a fixed prefix (RFC 8410) and the seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[seed; 32]);
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes());
    (
        EncodingKey::from_ed_der(&der),
        json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": format!("k{seed}"), "alg": "EdDSA", "use": "sig"}),
    )
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(sub: &str, scope: &str) -> Value {
    json!({"iss": ISSUER, "sub": sub, "aud": RESOURCE, "exp": now() + 300, "scope": scope, "groups": ["NOC"]})
}

fn sign(seed: u8, claims: &Value) -> String {
    let (key, _) = signing_key(seed);
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(format!("k{seed}"));
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

fn authority() -> (Authority, Idp) {
    let config = OAuthConfig::parse(&format!(
        "resource = \"{RESOURCE}\"\nleeway_seconds = 5\n[[issuers]]\nissuer = \"{ISSUER}\"\n[[rules]]\ngroup = \"NOC\"\nmist_token_env = \"NOC\"\n"
    ))
    .expect("config");
    let idp = Idp {
        jwks: json!({"keys": [signing_key(1).1]}),
        jwks_requests: AtomicUsize::new(0),
        failing: Default::default(),
    };
    (Authority::new(config), idp)
}

async fn check(authority: &Authority, idp: &Idp, token: &str) -> Result<Grant, Denied> {
    authority
        .authenticate(
            idp,
            &RustCrypto,
            Some(&format!("Bearer {token}")),
            &|_| None,
            now(),
        )
        .await
}

#[tokio::test]
async fn a_valid_token_is_granted_and_scopes_decide_writes() {
    let (authority, idp) = authority();
    let grant = check(&authority, &idp, &sign(1, &claims("alice", "mist:read")))
        .await
        .expect("granted");
    assert_eq!(grant.identity.subject, "alice");
    assert!(!grant.write_scope);
    let denied = grant
        .may_call(true, &authority.config().scopes)
        .expect_err("no write scope");
    let challenge = authority.challenge(&denied);
    assert_eq!(challenge.status, 403);
    let header = challenge.www_authenticate.expect("a challenge");
    assert!(header.contains("error=\"insufficient_scope\""), "{header}");
    assert!(
        header.contains("scope=\"mist:read mist:write\""),
        "{header}"
    );
    assert!(grant.may_call(false, &authority.config().scopes).is_ok());
    let none = check(&authority, &idp, &sign(1, &claims("alice", "openid"))).await;
    assert!(matches!(none, Err(Denied::InsufficientScope { .. })));
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    let (authority, idp) = authority();
    let mut other_audience = claims("alice", "mist:read");
    other_audience["aud"] = json!("https://other.example.com/mcp");
    let mut other_issuer = claims("alice", "mist:read");
    other_issuer["iss"] = json!("https://evil.example.com");
    let mut expired = claims("alice", "mist:read");
    expired["exp"] = json!(now() - 60);
    let good = sign(1, &claims("alice", "mist:read"));
    let (head, rest) = good.split_once('.').expect("parts");
    let (payload, _) = rest.split_once('.').expect("parts");
    let bad_signature = format!("{head}.{payload}.{}", "A".repeat(86));
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": "k1"})),
        b64(&claims("alice", "mist:read"))
    );
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("alice", "mist:read"),
        &EncodingKey::from_secret(b"the public key").expect("key"),
    )
    .expect("signed");
    for (token, why) in [
        (sign(1, &other_audience), "audience"),
        (sign(1, &other_issuer), "issuer is not trusted"),
        (sign(1, &expired), "expired"),
        (bad_signature, "signature"),
        (none, "header cannot be read"),
        (hs256, "not accepted"),
        (
            "zq-9f3k-unguessable".to_string(),
            "no issuer is configured for introspection",
        ),
    ] {
        match check(&authority, &idp, &token).await {
            Err(denied @ Denied::InvalidToken(_)) => {
                assert!(denied.to_string().contains(why), "{denied} lacks {why}");
                let c = authority.challenge(&denied);
                assert_eq!(c.status, 401);
                let header = c.www_authenticate.expect("a challenge");
                assert!(header.contains("error=\"invalid_token\""));
                assert!(header.contains(
                    "resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""
                ));
                assert!(!header.contains(&token), "the token is never echoed");
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    let unmapped = check(&authority, &idp, &sign(1, &json!({"iss": ISSUER, "sub": "mallory", "aud": RESOURCE, "exp": now() + 60, "scope": "mist:read"}))).await;
    assert!(matches!(unmapped, Err(Denied::NotMapped { .. })));
    assert_eq!(
        authority.challenge(&unmapped.expect_err("refused")).status,
        403
    );
    assert!(matches!(
        authority
            .authenticate(&idp, &RustCrypto, None, &|_| None, now())
            .await,
        Err(Denied::NoToken)
    ));
}

#[tokio::test]
async fn an_unknown_key_id_refetches_once_then_cools_down() {
    let (authority, mut idp) = authority();
    check(&authority, &idp, &sign(1, &claims("a", "mist:read")))
        .await
        .expect("granted");
    assert_eq!(idp.jwks_requests.load(Ordering::SeqCst), 1);
    // A rotation: the new key is found by one refetch.
    idp.jwks = json!({"keys": [signing_key(1).1, signing_key(2).1]});
    check(&authority, &idp, &sign(2, &claims("a", "mist:read")))
        .await
        .expect("rotated key");
    assert_eq!(idp.jwks_requests.load(Ordering::SeqCst), 2);
    // A key the issuer does not have: one refetch, refused; another unknown key within the
    // cooldown is refused without asking again.
    let forged = check(&authority, &idp, &sign(3, &claims("a", "mist:read"))).await;
    assert!(matches!(forged, Err(Denied::InvalidToken(ref w)) if w.contains("key id")));
    assert_eq!(idp.jwks_requests.load(Ordering::SeqCst), 3);
    let again = check(&authority, &idp, &sign(4, &claims("a", "mist:read"))).await;
    assert!(matches!(again, Err(Denied::InvalidToken(_))));
    assert_eq!(idp.jwks_requests.load(Ordering::SeqCst), 3);
}

#[test]
fn scopes_match_as_asked_or_by_their_last_segment() {
    let granted = vec!["mist.read".to_string(), "openid".to_string()];
    assert!(has_scope(&granted, "mist.read"));
    assert!(has_scope(&granted, "api://0b6c-app/mist.read"));
    assert!(!has_scope(&granted, "api://0b6c-app/mist.write"));
    assert!(!has_scope(&granted, "mist:read"));
    assert!(!has_scope(&["x".to_string()], "api://app/"));
}

#[tokio::test]
async fn an_issuer_that_fails_is_not_asked_again_and_old_keys_still_verify() {
    let (authority, idp) = authority();
    // Valid for three hours: still valid at the later time below.
    let mut long = claims("a", "mist:read");
    long["exp"] = json!(now() + 3 * 3600);
    let token = sign(1, &long);
    check(&authority, &idp, &token).await.expect("granted");
    idp.failing.store(true, Ordering::SeqCst);
    // Forged key ids while the issuer fails: one fetch, then the cooldown.
    for n in 0..20 {
        let forged = check(
            &authority,
            &idp,
            &sign(3 + (n % 2), &claims("a", "mist:read")),
        )
        .await;
        assert!(matches!(forged, Err(Denied::InvalidToken(_))), "{forged:?}");
    }
    assert_eq!(idp.jwks_requests.load(Ordering::SeqCst), 2);
    // An hour later the keys are stale and the refresh fails: the known key still verifies.
    let later = now() + 2 * 3600;
    let grant = authority
        .authenticate(
            &idp,
            &RustCrypto,
            Some(&format!("Bearer {token}")),
            &|_| None,
            later,
        )
        .await;
    assert!(grant.is_ok(), "{grant:?}");
    // Where the server looked for the IdP is not the client's business.
    let unavailable = authority.challenge(&Denied::Unavailable(
        "the identity provider https://idp.example.com cannot be reached: http://10.0.0.7/keys"
            .into(),
    ));
    assert_eq!(unavailable.status, 503);
    assert!(
        !unavailable.message.contains("10.0.0.7"),
        "{}",
        unavailable.message
    );
}

/// RustCrypto, counting the signatures it is asked to check.
#[derive(Default)]
struct Counting {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl SignatureCheck for Counting {
    async fn verify(
        &self,
        key: &Jwk,
        algorithm: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, SignatureError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        RustCrypto
            .verify(key, algorithm, signing_input, signature)
            .await
    }
}

async fn check_at(
    authority: &Authority,
    idp: &Idp,
    verifier: &dyn SignatureCheck,
    token: &str,
    at: u64,
) -> Result<Grant, Denied> {
    authority
        .authenticate(
            idp,
            verifier,
            Some(&format!("Bearer {token}")),
            &|_| None,
            at,
        )
        .await
}

#[tokio::test]
async fn a_verified_token_is_kept_until_its_expiry_or_five_minutes() {
    let (authority, idp) = authority();
    let counting = Counting::default();
    let t0 = now();
    let mut hour = claims("alice", "mist:read");
    hour["exp"] = json!(t0 + 3600);
    let token = sign(1, &hour);
    let calls = || counting.calls.load(Ordering::SeqCst);
    check_at(&authority, &idp, &counting, &token, t0)
        .await
        .expect("granted");
    assert_eq!(calls(), 1);
    // The same token again: answered from the cache, the verifier is not asked.
    let again = check_at(&authority, &idp, &counting, &token, t0 + 10)
        .await
        .expect("granted again");
    assert_eq!(again.identity.subject, "alice");
    assert_eq!(calls(), 1);
    // Another token verifies on its own.
    check_at(
        &authority,
        &idp,
        &counting,
        &sign(1, &claims("bob", "mist:read")),
        t0,
    )
    .await
    .expect("granted");
    assert_eq!(calls(), 2);
    // Past VERIFIED_KEPT the token is verified again (and kept again).
    let later = t0 + VERIFIED_KEPT + 1;
    check_at(&authority, &idp, &counting, &token, later)
        .await
        .expect("granted");
    check_at(&authority, &idp, &counting, &token, later + 1)
        .await
        .expect("granted");
    assert_eq!(calls(), 3);
    // Past its exp (and the leeway of 5 s) it is refused, whatever the cache held.
    let expired = check_at(&authority, &idp, &counting, &token, t0 + 3600 + 6).await;
    assert!(
        matches!(expired, Err(Denied::InvalidToken(ref w)) if w.contains("expired")),
        "{expired:?}"
    );
    // A refused token is not kept: each try is checked.
    let good = sign(1, &claims("carol", "mist:read"));
    let bad = format!("{}{}", &good[..good.len() - 4], "AAAA");
    for _ in 0..2 {
        let refused = check_at(&authority, &idp, &counting, &bad, t0).await;
        assert!(
            matches!(refused, Err(Denied::InvalidToken(_))),
            "{refused:?}"
        );
    }
    assert_eq!(calls(), 6);
    // A token whose scope is too narrow is kept as verified, and still refused each time.
    let narrow = sign(1, &claims("dave", "openid"));
    for _ in 0..2 {
        let refused = check_at(&authority, &idp, &counting, &narrow, t0).await;
        assert!(matches!(refused, Err(Denied::InsufficientScope { .. })));
    }
    assert_eq!(calls(), 7);
}

#[tokio::test]
async fn times_are_the_callers_and_keys_must_fit_the_algorithm() {
    let (authority, idp) = authority();
    let t0 = now();
    let token = sign(1, &claims("alice", "mist:read"));
    // The caller's clock decides, with the leeway (5 s).
    let at = |t| check_at(&authority, &idp, &RustCrypto, &token, t);
    assert!(at(t0 + 300 + 5).await.is_ok());
    let late = at(t0 + 300 + 6).await;
    assert!(matches!(late, Err(Denied::InvalidToken(ref w)) if w.contains("expired")));
    let mut early = claims("alice", "mist:read");
    early["nbf"] = json!(t0 + 100);
    let early = sign(1, &early);
    let refused = check_at(&authority, &idp, &RustCrypto, &early, t0).await;
    assert!(
        matches!(refused, Err(Denied::InvalidToken(ref w)) if w.contains("not valid yet")),
        "{refused:?}"
    );
    assert!(
        check_at(&authority, &idp, &RustCrypto, &early, t0 + 96)
            .await
            .is_ok()
    );
    // A required claim missing.
    let mut no_sub = claims("x", "mist:read");
    no_sub.as_object_mut().expect("object").remove("sub");
    let refused = check(&authority, &idp, &sign(1, &no_sub)).await;
    assert!(
        matches!(refused, Err(Denied::InvalidToken(ref w)) if w.contains("required claim")),
        "{refused:?}"
    );
    // An ES256 or RS256 header naming the Ed25519 key: refused before any verification.
    let counting = Counting::default();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    for alg in ["ES256", "RS256", "PS256"] {
        let forged = format!(
            "{}.{}.{}",
            b64(&json!({"alg": alg, "kid": "k1"})),
            b64(&claims("alice", "mist:read")),
            "A".repeat(86)
        );
        let refused = check_at(&authority, &idp, &counting, &forged, t0).await;
        assert!(
            matches!(refused, Err(Denied::InvalidToken(ref w)) if w.contains("not its key's")),
            "{alg}: {refused:?}"
        );
    }
    assert_eq!(counting.calls.load(Ordering::SeqCst), 0);
    // Critical header parameters this server does not know.
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".into());
    header.crit = Some(vec!["exp".into()]);
    let crit = jsonwebtoken::encode(&header, &claims("alice", "mist:read"), &signing_key(1).0)
        .expect("signed");
    let refused = check(&authority, &idp, &crit).await;
    assert!(
        matches!(refused, Err(Denied::InvalidToken(ref w)) if w.contains("critical")),
        "{refused:?}"
    );
}

/// A verifier whose host lacks every algorithm: the token is refused, saying so.
struct Lacking;

#[async_trait::async_trait]
impl SignatureCheck for Lacking {
    async fn verify(
        &self,
        _: &Jwk,
        algorithm: Algorithm,
        _: &[u8],
        _: &[u8],
    ) -> Result<bool, SignatureError> {
        Err(SignatureError::Unsupported(algorithm))
    }
}

#[tokio::test]
async fn an_algorithm_the_verifier_lacks_is_refused() {
    let (authority, idp) = authority();
    let token = sign(1, &claims("alice", "mist:read"));
    let refused = check_at(&authority, &idp, &Lacking, &token, now()).await;
    assert!(
        matches!(refused, Err(Denied::InvalidToken(ref w)) if w.contains("EdDSA cannot be verified")),
        "{refused:?}"
    );
}
