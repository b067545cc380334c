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
    let text = serde_json::to_string_pretty(file)?;
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Creates a token; returns its value (shown once, never stored).
pub fn create(
    path: &Path,
    id: &str,
    description: &str,
    mist_env_file: Option<&Path>,
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
    });
    write(path, &file)?;
    Ok(token)
}

/// The tokens of the store.
pub fn list(path: &Path) -> anyhow::Result<Vec<TokenEntry>> {
    Ok(read(path)?.tokens)
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

/// The store as the server sees it: re-read when the file changes.
pub struct TokenStore {
    path: PathBuf,
    state: Mutex<(Option<SystemTime>, File)>,
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
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(TokenStore {
            path: path.to_path_buf(),
            state: Mutex::new((modified, read(path)?)),
        })
    }

    /// The entry of a presented token, if it is valid now.
    pub fn verify(&self, presented: &str) -> Option<TokenEntry> {
        let digest = hash(presented.trim());
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified != state.0 {
            match read(&self.path) {
                Ok(file) => *state = (modified, file),
                Err(e) => {
                    // A store being rewritten or broken: fail closed.
                    tracing::error!("token store unreadable, refusing every token: {e:#}");
                    state.1 = File::default();
                    state.0 = modified;
                }
            }
        }
        let found = state
            .1
            .tokens
            .iter()
            .find(|t| bool::from(t.sha256.as_bytes().ct_eq(digest.as_bytes())))
            .cloned();
        if let Some(entry) = &found {
            let t = now();
            // Recorded at most once a minute per token, to keep the file mostly quiet.
            if entry.last_used.is_none_or(|l| t.saturating_sub(l) > 60)
                && let Ok(mut file) = read(&self.path)
            {
                for e in file.tokens.iter_mut().filter(|e| e.id == entry.id) {
                    e.last_used = Some(t);
                }
                if write(&self.path, &file).is_ok() {
                    state.0 = std::fs::metadata(&self.path)
                        .and_then(|m| m.modified())
                        .ok();
                    state.1 = file;
                }
            }
        }
        found
    }
}
