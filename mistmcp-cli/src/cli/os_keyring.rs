//! The OS keyring that holds the tokens of `mistcli auth login`: the Secret Service on Linux
//! (GNOME Keyring, KWallet, KeePassXC ... over D-Bus), the Keychain on macOS, the Credential
//! Manager on Windows; elsewhere there is none and tokens stay in the config file.
//!
//! One entry per profile: service `mistcli`, account the profile's name. Every call runs on a
//! thread of its own with a deadline: the Secret Service client blocks on a runtime of its own
//! (which may not start inside mistcli's), and a locked keyring may wait for a prompt nobody
//! answers. The errors never hold the token.

use std::time::Duration;

/// The service name of mistcli's entries.
pub const SERVICE: &str = "mistcli";

/// How long one keyring call may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// Why the keyring could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// This platform has no keyring mistcli knows.
    #[cfg_attr(
        any(target_os = "linux", target_os = "macos", target_os = "windows"),
        allow(dead_code)
    )]
    #[error("this platform has no OS keyring that mistcli can use")]
    Unsupported,
    /// The keyring did not answer in time (locked, waiting for a prompt, a stuck bus).
    #[error("the OS keyring did not answer within {} s (locked?)", DEADLINE.as_secs())]
    Timeout,
    /// The keyring answered with an error.
    #[error("the OS keyring failed: {0}")]
    Failed(String),
}

/// The keyring's name, for messages: `the OS keyring (Secret Service)`.
pub fn name() -> &'static str {
    if cfg!(target_os = "macos") {
        "the OS keyring (macOS Keychain)"
    } else if cfg!(target_os = "windows") {
        "the OS keyring (Windows Credential Manager)"
    } else {
        "the OS keyring (Secret Service)"
    }
}

/// Stores `token` as the token of `profile`, replacing any.
pub fn store(profile: &str, token: &str) -> Result<(), KeyringError> {
    let token = token.to_string();
    with_entry(profile, move |entry| platform::set(entry, &token))
}

/// The token of `profile`, or `None` when the keyring has none.
pub fn read(profile: &str) -> Result<Option<String>, KeyringError> {
    with_entry(profile, platform::get)
}

/// Removes the token of `profile`; `false` when there was none.
pub fn delete(profile: &str) -> Result<bool, KeyringError> {
    with_entry(profile, platform::delete)
}

/// Runs `f` on the entry of `profile` on a thread of its own, within [`DEADLINE`].
fn with_entry<T: Send + 'static>(
    profile: &str,
    f: impl FnOnce(&platform::Entry) -> Result<T, KeyringError> + Send + 'static,
) -> Result<T, KeyringError> {
    let account = profile.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("mistcli-keyring".into())
        .spawn(move || {
            let result = platform::entry(&account).and_then(|e| f(&e));
            let _ = tx.send(result);
        })
        .map_err(|e| KeyringError::Failed(format!("cannot start a thread: {e}")))?;
    // A thread still waiting after the deadline is left behind: the process ends soon after.
    rx.recv_timeout(DEADLINE)
        .unwrap_or(Err(KeyringError::Timeout))
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
mod platform {
    use super::{KeyringError, SERVICE};

    pub type Entry = keyring::Entry;

    /// The keyring's error in words; never its secret (`BadEncoding` holds the bytes read).
    fn failed(e: keyring::Error) -> KeyringError {
        KeyringError::Failed(match e {
            keyring::Error::BadEncoding(_) => "the stored token is not UTF-8 text".into(),
            keyring::Error::Ambiguous(found) => {
                format!("{} entries match service {SERVICE}", found.len())
            }
            other => other.to_string(),
        })
    }

    pub fn entry(account: &str) -> Result<Entry, KeyringError> {
        keyring::Entry::new(SERVICE, account).map_err(failed)
    }

    pub fn set(entry: &Entry, token: &str) -> Result<(), KeyringError> {
        entry.set_password(token).map_err(failed)
    }

    pub fn get(entry: &Entry) -> Result<Option<String>, KeyringError> {
        match entry.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    pub fn delete(entry: &Entry) -> Result<bool, KeyringError> {
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }
}

/// Without a keyring crate backend: nothing is ever stored (the keyring crate's in-memory mock
/// would lose the token at exit).
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    use super::KeyringError;

    pub struct Entry;

    pub fn entry(_: &str) -> Result<Entry, KeyringError> {
        Err(KeyringError::Unsupported)
    }

    pub fn set(_: &Entry, _: &str) -> Result<(), KeyringError> {
        Err(KeyringError::Unsupported)
    }

    pub fn get(_: &Entry) -> Result<Option<String>, KeyringError> {
        Err(KeyringError::Unsupported)
    }

    pub fn delete(_: &Entry) -> Result<bool, KeyringError> {
        Err(KeyringError::Unsupported)
    }
}
