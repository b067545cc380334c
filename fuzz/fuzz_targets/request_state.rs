//! `request_state::StateKey::redeem` on arbitrary states, calls, callers and times, and on
//! states the key issued then edited.
//!
//! Input layout: byte 0 bit 0 redeem an issued state with bytes flipped at the positions and
//! values of the rest (pairs), else redeem the rest as a state (lossy UTF-8); byte 1 the seconds
//! after issue (times 4) at which it is redeemed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::request_state::{LIFETIME, StateError, StateKey};

const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let key = StateKey::new(b"fuzzing secret", 9);
    let later = NOW + u64::from(data[1]) * 4;
    let rest = &data[2..];
    if data[0] & 1 == 0 {
        let state = String::from_utf8_lossy(rest);
        // Nothing the key did not issue is accepted.
        assert!(
            key.redeem(&state, "call", "caller", later).is_err(),
            "accepted a state never issued: {state:?}"
        );
        return;
    }
    let issued = key.issue("call", "caller", NOW);
    let mut edited = issued.clone().into_bytes();
    for pair in rest.chunks_exact(2) {
        let at = usize::from(pair[0]) % edited.len();
        edited[at] ^= pair[1];
    }
    let Ok(edited) = String::from_utf8(edited) else {
        return;
    };
    let outcome = key.redeem(&edited, "call", "caller", later);
    if edited == issued {
        let fresh = later <= NOW + LIFETIME.as_secs();
        assert_eq!(outcome.is_ok(), fresh, "{outcome:?} at +{}", later - NOW);
        // Once only.
        assert_eq!(
            key.redeem(&edited, "call", "caller", later).err(),
            Some(if fresh { StateError::Replayed } else { StateError::Expired })
        );
    } else {
        assert!(outcome.is_err(), "accepted an edited state: {edited:?}");
    }
});
