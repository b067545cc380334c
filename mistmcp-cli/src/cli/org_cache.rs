//! The org a token sees, remembered for a few minutes, so that a script of many commands
//! without `--org` does not spend a `/api/v1/self` request on each.
//!
//! Kept in `$XDG_CACHE_HOME/mistcli/orgs.json` (else `~/.cache/...`), created with mode 0600,
//! keyed by a SHA-256 of the token and the base URL (the token itself is never written). The
//! file is read as hostile input: anything malformed, stale or not a UUID is ignored.
//! `MISTCLI_ORG_CACHE=0` turns it off.

use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a resolved org is trusted.
pub const TTL_SECONDS: u64 = 300;
/// Entries kept at most (the oldest go first).
const MAX_ENTRIES: usize = 64;

fn path() -> Option<PathBuf> {
    if std::env::var("MISTCLI_ORG_CACHE").is_ok_and(|v| v == "0" || v == "false") {
        return None;
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("mistcli").join("orgs.json"))
}

fn key(token: &str, base: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{token}\0{base}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read() -> Map<String, Value> {
    path()
        .and_then(|p| std::fs::read(p).ok())
        .filter(|bytes| bytes.len() < 64 * 1024)
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .unwrap_or_default()
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The org remembered for this token and base URL, if still fresh.
pub fn lookup(token: &str, base: &str) -> Option<String> {
    let entries = read();
    let entry = entries.get(&key(token, base))?;
    let at = entry.get("at")?.as_u64()?;
    let org = entry.get("org_id")?.as_str()?;
    (now().saturating_sub(at) < TTL_SECONDS && is_uuid(org)).then(|| org.to_string())
}

/// Remembers the org of this token and base URL. Failing to write is not an error: the next
/// command asks Mist again.
pub fn remember(token: &str, base: &str, org: &str) {
    let Some(path) = path() else {
        return;
    };
    let mut entries = read();
    let fresh = now();
    entries.retain(|_, e| {
        e.get("at")
            .and_then(Value::as_u64)
            .is_some_and(|at| fresh.saturating_sub(at) < TTL_SECONDS)
    });
    while entries.len() >= MAX_ENTRIES {
        let oldest = entries
            .iter()
            .min_by_key(|(_, e)| e.get("at").and_then(Value::as_u64).unwrap_or(0))
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => entries.remove(&k),
            None => break,
        };
    }
    entries.insert(key(token, base), json!({ "org_id": org, "at": fresh }));
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Written beside, then renamed: a reader never sees half a file.
    let temporary = dir.join(format!(".orgs.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut f| {
        use std::io::Write;
        f.write_all(Value::Object(entries).to_string().as_bytes())
    });
    if written.is_err() || std::fs::rename(&temporary, &path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

/// The orgs a `/api/v1/self` answer reaches, each once, as (id, name), in the order of its
/// privileges.
pub fn orgs_of(me: &serde_json::Value) -> Vec<(String, String)> {
    let mut orgs: Vec<(String, String)> = Vec::new();
    for p in me["privileges"].as_array().into_iter().flatten() {
        if let Some(id) = p["org_id"].as_str()
            && !orgs.iter().any(|(o, _)| o == id)
        {
            let name = p["org_name"].as_str().or(p["name"].as_str()).unwrap_or("");
            orgs.push((id.to_string(), name.to_string()));
        }
    }
    orgs
}
