//! The `requestState` of sessionless write confirmations, which only this server can issue.
//!
//! A state is `<nonce>.<expiry>.<mac>`: an HMAC-SHA256, with the server's secret, of the nonce,
//! the expiry (Unix seconds, [`LIFETIME`] after it was issued), the caller's identity and the
//! digest of the call (tool and arguments). [`StateKey::redeem`] accepts a state once, before it
//! expires, for the same call by the same caller; a client cannot compute one, replay one, or
//! use one issued to another token. Natively the secret is new in each process; on the edge it
//! is a secret binding, so that every isolate accepts the states of the others (each isolate
//! remembers the states redeemed through it).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long an issued state can be redeemed.
pub const LIFETIME: Duration = Duration::from_secs(300);

/// The most states remembered as redeemed and not yet expired; beyond it, redemptions are
/// refused until some expire (memory stays bounded).
pub const MAX_REDEEMED: usize = 100_000;

/// The longest state accepted for parsing (a real one is 32 + 1 + 20 + 1 + 64 characters).
const MAX_STATE_LEN: usize = 160;

/// Why a state was not accepted (the call is then asked about again, and nothing runs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not of the server's shape.
    #[error("the requestState is not one this server issues")]
    Malformed,
    /// The MAC does not match: never issued, or issued for another call or caller.
    #[error("the requestState was not issued by this server for this call and caller")]
    Forged,
    /// Issued more than [`LIFETIME`] ago.
    #[error("the requestState has expired: confirm again")]
    Expired,
    /// Already redeemed once.
    #[error("the requestState was already used: each confirmation runs one call")]
    Replayed,
    /// [`MAX_REDEEMED`] states are waiting to expire.
    #[error("too many confirmations at once: retry in a few minutes")]
    Busy,
}

/// The server's key for `requestState`, and the states already redeemed.
pub struct StateKey {
    mac: Hmac<Sha256>,
    /// A random value of this key's instance (process or isolate), the first half of nonces.
    instance: u64,
    counter: AtomicU64,
    /// Nonces redeemed, with their expiry.
    redeemed: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateKey").finish_non_exhaustive()
    }
}

impl StateKey {
    /// A key with `secret` (any length; 32 random bytes natively). `instance` is a random value
    /// of the process or isolate, so that nonces of two instances sharing a secret differ.
    pub fn new(secret: &[u8], instance: u64) -> Self {
        StateKey {
            mac: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length"),
            instance,
            counter: AtomicU64::new(0),
            redeemed: Mutex::new(HashMap::new()),
        }
    }

    /// A new state for the call of digest `call` by `caller`, at `now` (Unix seconds).
    pub fn issue(&self, call: &str, caller: &str, now: u64) -> String {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let nonce = format!("{:016x}{count:016x}", self.instance);
        let expiry = now.saturating_add(LIFETIME.as_secs());
        let mac = hex(&self.tag(&nonce, expiry, caller, call));
        format!("{nonce}.{expiry}.{mac}")
    }

    /// Accepts `state` for the call of digest `call` by `caller` at `now`, once.
    pub fn redeem(
        &self,
        state: &str,
        call: &str,
        caller: &str,
        now: u64,
    ) -> Result<(), StateError> {
        let (nonce, expiry, mac) = parse(state)?;
        let expected = unhex(mac).ok_or(StateError::Malformed)?;
        // Constant time: the comparison says nothing of how much of a guess was right.
        self.keyed(nonce, expiry, caller, call)
            .verify_slice(&expected)
            .map_err(|_| StateError::Forged)?;
        if now > expiry {
            return Err(StateError::Expired);
        }
        let mut redeemed = self.redeemed.lock().unwrap_or_else(|p| p.into_inner());
        if redeemed.contains_key(nonce) {
            return Err(StateError::Replayed);
        }
        if redeemed.len() >= MAX_REDEEMED {
            redeemed.retain(|_, until| *until >= now);
            if redeemed.len() >= MAX_REDEEMED {
                return Err(StateError::Busy);
            }
        }
        redeemed.insert(nonce.to_string(), expiry);
        Ok(())
    }

    /// The MAC over the fields, each ended by a NUL (none of them can hold one).
    fn keyed(&self, nonce: &str, expiry: u64, caller: &str, call: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        for part in [
            "mistmcp requestState v1",
            nonce,
            &expiry.to_string(),
            caller,
            call,
        ] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        mac
    }

    fn tag(&self, nonce: &str, expiry: u64, caller: &str, call: &str) -> Vec<u8> {
        self.keyed(nonce, expiry, caller, call)
            .finalize()
            .into_bytes()
            .to_vec()
    }
}

/// `<32 hex>.<digits>.<64 hex>`, or [`StateError::Malformed`].
fn parse(state: &str) -> Result<(&str, u64, &str), StateError> {
    if state.len() > MAX_STATE_LEN {
        return Err(StateError::Malformed);
    }
    let mut parts = state.split('.');
    let (Some(nonce), Some(expiry), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StateError::Malformed);
    };
    // Only the form this server writes (lowercase hex, no leading zero): one text per state.
    let is_hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    if !is_hex(nonce, 32) || !is_hex(mac, 64) {
        return Err(StateError::Malformed);
    }
    let parsed: u64 = expiry.parse().map_err(|_| StateError::Malformed)?;
    if parsed.to_string() != expiry {
        return Err(StateError::Malformed);
    }
    Ok((nonce, parsed, mac))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn a_state_is_redeemed_once_by_its_caller_for_its_call() {
        let key = StateKey::new(b"secret", 7);
        let state = key.issue("call", "alice", NOW);
        assert_eq!(
            key.redeem(&state, "other call", "alice", NOW),
            Err(StateError::Forged)
        );
        assert_eq!(
            key.redeem(&state, "call", "bob", NOW),
            Err(StateError::Forged)
        );
        assert_eq!(key.redeem(&state, "call", "alice", NOW + 1), Ok(()));
        assert_eq!(
            key.redeem(&state, "call", "alice", NOW + 2),
            Err(StateError::Replayed)
        );
        let late = key.issue("call", "alice", NOW);
        let after = NOW + LIFETIME.as_secs() + 1;
        assert_eq!(
            key.redeem(&late, "call", "alice", after),
            Err(StateError::Expired)
        );
    }

    #[test]
    fn states_of_another_key_or_edited_ones_are_refused() {
        let key = StateKey::new(b"secret", 1);
        let other = StateKey::new(b"another secret", 1);
        let state = other.issue("call", "alice", NOW);
        assert_eq!(
            key.redeem(&state, "call", "alice", NOW),
            Err(StateError::Forged)
        );
        // A later expiry written in by the client breaks the MAC.
        let state = key.issue("call", "alice", NOW);
        let (nonce, rest) = state.split_once('.').expect("dots");
        let (_, mac) = rest.split_once('.').expect("dots");
        let stretched = format!("{nonce}.{}.{mac}", NOW + 86_400);
        assert_eq!(
            key.redeem(&stretched, "call", "alice", NOW),
            Err(StateError::Forged)
        );
        for bad in [
            "",
            "x",
            "a.b.c",
            &"f".repeat(4000),
            &format!("{nonce}.1.{mac}.x"),
        ] {
            assert_eq!(
                key.redeem(bad, "call", "alice", NOW),
                Err(StateError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn nonces_of_instances_sharing_a_secret_differ() {
        let a = StateKey::new(b"shared", 1).issue("call", "alice", NOW);
        let b = StateKey::new(b"shared", 2).issue("call", "alice", NOW);
        assert_ne!(a[..32], b[..32]);
        // Both are good for one key of the secret (edge isolates), each once.
        let key = StateKey::new(b"shared", 3);
        assert_eq!(key.redeem(&a, "call", "alice", NOW), Ok(()));
        assert_eq!(key.redeem(&b, "call", "alice", NOW), Ok(()));
    }
}
