//! The HTTP server's own access tokens: random values given once, stored as SHA-256 hashes,
//! compared in constant time, re-read when the file changes (revocations need no restart).

use anyhow::{Context, bail};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// Prefix of every server token, so that a leaked one is recognisable.
pub const PREFIX: &str = "mmcp_";

/// One token of the store (never its value).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenEntry {
    /// The name given at creation.
    pub id: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Creation, epoch seconds.
    pub created: u64,
    /// Last successful use, epoch seconds.
    #[serde(default)]
    pub last_used: Option<u64>,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// A `.env` file with the Mist token and host bound to this server token.
    #[serde(default)]
    pub mist_env_file: Option<PathBuf>,
    /// A devices.json inventory of Junos devices bound to this server token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junos_devices: Option<PathBuf>,
    /// This token's clients see secrets as they are (`tokens create --show-secrets`), not
    /// handles: only the operator chooses it, never a client.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub show_secrets: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct File {
    tokens: Vec<TokenEntry>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An RFC 3339 date of epoch seconds.
pub fn date(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn read(path: &Path) -> anyhow::Result<File> {
    if !path.exists() {
        return Ok(File::default());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token store {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("the token store {} is not valid", path.display()))
}

fn write(path: &Path, file: &File) -> anyhow::Result<()> {
    write_private(path, serde_json::to_string_pretty(file)?.as_bytes())
}

/// Replaces `path` atomically by a new file of mode 0600, through a temporary file of a random
/// name created exclusively (never one that someone else prepared).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let tmp = path.with_extension(format!(
        "tmp-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| -> anyhow::Result<()> {
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Where the server records when each token was last used: beside the store, so that the
/// server never rewrites the hashes (a revocation can never be undone by a late write).
fn usage_path(path: &Path) -> PathBuf {
    path.with_extension("used.json")
}

fn read_usage(path: &Path) -> std::collections::BTreeMap<String, u64> {
    std::fs::read_to_string(usage_path(path))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Creates a token; returns its value (shown once, never stored).
pub fn create(
    path: &Path,
    id: &str,
    description: &str,
    mist_env_file: Option<&Path>,
    junos_devices: Option<&Path>,
    show_secrets: bool,
) -> anyhow::Result<String> {
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        bail!("a token id is letters, digits and - _ . @ (got `{id}`)");
    }
    let mut file = read(path)?;
    if file.tokens.iter().any(|t| t.id == id) {
        bail!("a token `{id}` exists already: revoke it first or choose another id");
    }
    if let Some(env) = mist_env_file
        && !env.is_file()
    {
        bail!("the Mist env file {} does not exist", env.display());
    }
    if let Some(devices) = junos_devices
        && !devices.is_file()
    {
        bail!(
            "the Junos device inventory {} does not exist",
            devices.display()
        );
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    file.tokens.push(TokenEntry {
        id: id.to_string(),
        description: description.to_string(),
        created: now(),
        last_used: None,
        sha256: hash(&token),
        mist_env_file: mist_env_file
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
        junos_devices: junos_devices
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())),
        show_secrets,
    });
    write(path, &file)?;
    Ok(token)
}

/// The tokens of the store.
pub fn list(path: &Path) -> anyhow::Result<Vec<TokenEntry>> {
    let used = read_usage(path);
    let mut tokens = read(path)?.tokens;
    for t in &mut tokens {
        t.last_used = used.get(&t.id).copied().or(t.last_used);
    }
    Ok(tokens)
}

/// Removes a token.
pub fn revoke(path: &Path, id: &str) -> anyhow::Result<()> {
    let mut file = read(path)?;
    let before = file.tokens.len();
    file.tokens.retain(|t| t.id != id);
    if file.tokens.len() == before {
        let ids: Vec<&str> = file.tokens.iter().map(|t| t.id.as_str()).collect();
        bail!(
            "no token `{id}`; tokens: {}",
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        );
    }
    write(path, &file)
}

/// What identifies a version of the store file: a rewrite (always a rename) changes the inode.
fn file_version(path: &Path) -> Option<(Option<SystemTime>, u64, u64)> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((m.modified().ok(), m.len(), inode))
}

/// The store as the server sees it: re-read when the file changes; it only ever reads it.
pub struct TokenStore {
    path: PathBuf,
    state: Mutex<Loaded>,
}

struct Loaded {
    version: Option<(Option<SystemTime>, u64, u64)>,
    file: File,
    used: std::collections::BTreeMap<String, u64>,
}

impl TokenStore {
    /// Opens a store; the file must exist.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.is_file() {
            bail!(
                "no token store at {}: create a token with `mistmcp tokens create --id <name>`",
                path.display()
            );
        }
        let loaded = Loaded {
            version: file_version(path),
            file: read(path)?,
            used: read_usage(path),
        };
        Ok(TokenStore {
            path: path.to_path_buf(),
            state: Mutex::new(loaded),
        })
    }

    /// The entry of a presented token, if it is valid now.
    pub fn verify(&self, presented: &str) -> Option<TokenEntry> {
        let digest = hash(presented.trim());
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let version = file_version(&self.path);
        if version != state.version {
            state.version = version;
            match read(&self.path) {
                Ok(file) => state.file = file,
                Err(e) => {
                    // A broken or missing store: fail closed.
                    tracing::error!("token store unreadable, refusing every token: {e:#}");
                    state.file = File::default();
                }
            }
        }
        let found = state
            .file
            .tokens
            .iter()
            .find(|t| bool::from(t.sha256.as_bytes().ct_eq(digest.as_bytes())))
            .cloned()?;
        let t = now();
        // Recorded at most once a minute per token, in the server's own file.
        if state
            .used
            .get(&found.id)
            .is_none_or(|l| t.saturating_sub(*l) > 60)
        {
            state.used.insert(found.id.clone(), t);
            if let Ok(text) = serde_json::to_vec(&state.used)
                && let Err(e) = write_private(&usage_path(&self.path), &text)
            {
                tracing::warn!("cannot record token use: {e:#}");
            }
        }
        Some(found)
    }
}
