//! The port through which a JWS signature is checked. mistcore does everything else of a JWT
//! itself (header, algorithm, key choice, claims, times); only the arithmetic of the signature is
//! the frontend's: RustCrypto natively ([`RustCrypto`], feature `rust-crypto`), the host's
//! WebCrypto on the edge (no RSA or elliptic-curve code in the wasm module, and the host's
//! native code verifies faster than wasm would).

pub use jsonwebtoken::Algorithm;
/// JSON Web Keys as the issuers publish them (jsonwebtoken's types: parsing needs no crypto).
pub use jsonwebtoken::jwk;
pub use jsonwebtoken::jwk::Jwk;

/// Why a signature could not be checked at all (a wrong signature is `Ok(false)`, not this).
/// The texts name algorithms and keys, never a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// This verifier cannot check the algorithm (the host lacks it).
    #[error("the algorithm {0:?} cannot be verified here")]
    Unsupported(Algorithm),
    /// The key cannot be used for the algorithm (malformed, or of another kind).
    #[error("the key cannot be used: {0}")]
    Key(String),
}

/// Checks the signature of a JWS with a public key of the issuer. mistcore calls it only after
/// it checked that `algorithm` is an accepted asymmetric one and that `key` fits it (kind,
/// curve, `alg` and `use`): an implementation needs only to do the arithmetic.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SignatureCheck: Send + Sync {
    /// Whether `signature` (the decoded third part of the JWS: for ECDSA the raw `r || s`) is
    /// `key`'s signature with `algorithm` of `signing_input` (the first two parts and their dot).
    async fn verify(
        &self,
        key: &Jwk,
        algorithm: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, SignatureError>;
}

/// Signatures checked in Rust with RustCrypto (through jsonwebtoken's `rust_crypto` backend):
/// RS256/384/512, PS256/384/512, ES256, ES384, EdDSA (Ed25519).
#[cfg(feature = "rust-crypto")]
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCrypto;

#[cfg(feature = "rust-crypto")]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SignatureCheck for RustCrypto {
    async fn verify(
        &self,
        key: &Jwk,
        algorithm: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<bool, SignatureError> {
        use base64::Engine as _;
        let decoding = jsonwebtoken::DecodingKey::from_jwk(key)
            .map_err(|e| SignatureError::Key(e.to_string()))?;
        // jsonwebtoken takes the signature as the token carries it.
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
        jsonwebtoken::crypto::verify(&encoded, signing_input, &decoding, algorithm)
            .map_err(|e| SignatureError::Key(e.to_string()))
    }
}
