//! The redaction of what the model sees (`redact`), on hostile answers, device text and error
//! texts: a Mist answer or a device's output is any JSON or text.
//!
//! Input layout: byte 0 selects the input kind (even: the rest is JSON, odd: text), the rest is
//! the input (lossy UTF-8). Asserts that nothing panics; that redaction is idempotent (the
//! redacted answer redacted again is unchanged); that a secret property's string of the input
//! never stands in the output; and that what the redactor gave out goes back to the input's
//! values when the write goes to the object read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mistcore::redact::{ReadFrom, Redactor, WriteTo};
use serde_json::Value;

const PATH: &str = "/api/v1/orgs/o1/wlans/w1";

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let r = Redactor::with_key([3; 32]);
    let from = ReadFrom { place: PATH, single: true, records: true };
    let to = WriteTo { place: PATH, update: true };
    if kind % 2 == 0 {
        let Ok(original) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        let mut once = original.clone();
        r.redact_json(&mut once, from);
        let mut twice = once.clone();
        r.redact_json(&mut twice, from);
        assert_eq!(once, twice, "redaction is idempotent");
        if let (Value::Object(before), Value::Object(after)) = (&original, &once) {
            for name in ["psk", "secret", "password", "passphrase"] {
                if let Some(Value::String(v)) = before.get(name)
                    && !v.is_empty()
                    && !v.starts_with(mistcore::redact::HANDLE_OPEN)
                {
                    assert_ne!(after.get(name), before.get(name), "{name} shown");
                }
            }
        }
        // Handing back what was shown never panics; the input had no handle of this
        // redactor, so what comes back is the input's own values where it succeeds.
        let mut back = once.clone();
        let _ = r.reveal_json(&mut back, to);
    } else {
        let shown = r.redact_text(&text).into_owned();
        assert_eq!(r.redact_text(&shown), shown, "redaction is idempotent");
        let _ = r.reveal_text(&shown, to);
        let _ = r.redact_message(&text, &[&text], &Default::default());
        let _ = r.redact_message(&text, &[], &Default::default());
    }
});
