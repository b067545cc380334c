//! The device inventory: the `devices.json` of Juniper's junos-mcp-server (name → `ip`, `port`,
//! `username`, `auth` with `type` `password` | `ssh_key`), plus two keys of ours per device for
//! the host key: `host_key` (a pinned `SHA256:` fingerprint) or `known_hosts` (a file).
//!
//! Passwords are kept only to log in: [`Auth`]'s `Debug` hides them, and [`Inventory::listing`]
//! (what a model sees) names the kind of login only.

use crate::JunosError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How mistmcp logs in to a device.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// A password (`"auth": {"type": "password", "password": "..."}`).
    Password(String),
    /// A private key file (`"auth": {"type": "ssh_key", "private_key_path": "..."}`), relative
    /// paths resolved against the inventory file's folder.
    Key(PathBuf),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Password(_) => f.write_str("Password(<hidden>)"),
            Auth::Key(path) => f.debug_tuple("Key").field(path).finish(),
        }
    }
}

impl Auth {
    /// `password` or `ssh_key`, as devices.json names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::Password(_) => "password",
            Auth::Key(_) => "ssh_key",
        }
    }
}

/// How the device's SSH host key is checked. There is no "accept any key".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKey {
    /// Exactly this SHA-256 fingerprint (`SHA256:...`, as `ssh-keygen -lf` prints it).
    Pinned(String),
    /// An OpenSSH `known_hosts` file.
    KnownHosts(PathBuf),
    /// Nothing pinned: every key is refused, and the refusal names the key presented.
    Unpinned,
}

/// One device of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its name in the inventory (what tools take as `router_name`).
    pub name: String,
    /// Address or host name.
    pub ip: String,
    /// SSH port (830 for NETCONF over SSH, 22 when the subsystem runs there).
    pub port: u16,
    /// Login name.
    pub username: String,
    /// How to log in.
    pub auth: Auth,
    /// How its host key is checked.
    pub host_key: HostKey,
}

impl Device {
    /// `ip:port`, with brackets around an IPv6 address.
    pub fn address(&self) -> String {
        if self.ip.contains(':') && !self.ip.starts_with('[') {
            format!("[{}]:{}", self.ip, self.port)
        } else {
            format!("{}:{}", self.ip, self.port)
        }
    }

    /// What a model may see of the device: no password, no key path.
    pub fn listing(&self) -> Value {
        json!({
            "name": self.name,
            "ip": self.ip,
            "port": self.port,
            "username": self.username,
            "auth_type": self.auth.kind(),
            "host_key": match &self.host_key {
                HostKey::Pinned(_) => "pinned",
                HostKey::KnownHosts(_) => "known_hosts",
                HostKey::Unpinned => "not pinned (connections are refused until it is)",
            },
        })
    }
}

#[derive(Deserialize)]
struct RawAuth {
    #[serde(rename = "type")]
    kind: Option<String>,
    password: Option<String>,
    private_key_path: Option<String>,
}

#[derive(Deserialize)]
struct RawDevice {
    ip: Option<String>,
    port: Option<Value>,
    username: Option<String>,
    auth: Option<RawAuth>,
    host_key: Option<String>,
    known_hosts: Option<String>,
}

/// The devices, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// The devices, sorted by name.
    pub devices: BTreeMap<String, Device>,
}

/// The most devices an inventory holds (a batch names at most this many too).
pub const MAX_DEVICES: usize = 10_000;

/// Whether `name` is a usable device name: 1-64 printable characters, no spaces.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_graphic())
}

/// Normalizes a fingerprint to `SHA256:<base64 without padding>`, or says why it is not one.
pub fn fingerprint(text: &str) -> Result<String, String> {
    let body = text.trim().strip_prefix("SHA256:").unwrap_or(text.trim());
    let body = body.trim_end_matches('=');
    let base64 = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    if body.len() != 43 || !body.chars().all(base64) {
        return Err(format!(
            "`{text}` is not a SHA-256 host key fingerprint: give it as `ssh-keygen -lf <host key>.pub` prints it (SHA256: and 43 characters)"
        ));
    }
    Ok(format!("SHA256:{body}"))
}

impl Inventory {
    /// Parses a devices.json text; relative key and known_hosts paths are taken from `base`
    /// (the file's folder). `default_known_hosts` checks devices that pin nothing themselves.
    pub fn parse(
        text: &str,
        base: &Path,
        default_known_hosts: Option<&Path>,
    ) -> Result<Inventory, JunosError> {
        let raw: BTreeMap<String, RawDevice> = serde_json::from_str(text).map_err(|e| {
            // serde's own message quotes the offending value, which may be a password: only
            // the kind of problem and where it is.
            let what = match e.classify() {
                serde_json::error::Category::Data => {
                    "a value has the wrong type (ports are numbers; names, addresses and passwords are strings)"
                }
                serde_json::error::Category::Eof => "the file ends early",
                _ => "it is not valid JSON",
            };
            JunosError::Inventory(format!(
                "the device inventory does not have the devices.json shape ({{\"name\": {{\"ip\", \"port\", \"username\", \"auth\"}}}}): {what}, at line {} column {}",
                e.line(),
                e.column()
            ))
        })?;
        if raw.len() > MAX_DEVICES {
            return Err(JunosError::Inventory(format!(
                "the device inventory names {} devices: at most {MAX_DEVICES}",
                raw.len()
            )));
        }
        let mut devices = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, entry) in raw {
            match Self::device(&name, entry, base, default_known_hosts) {
                Ok(d) => {
                    devices.insert(name, d);
                }
                Err(e) => problems.push(e),
            }
        }
        if !problems.is_empty() {
            return Err(JunosError::Inventory(format!(
                "the device inventory has errors: {}",
                problems.join("; ")
            )));
        }
        Ok(Inventory { devices })
    }

    fn device(
        name: &str,
        raw: RawDevice,
        base: &Path,
        default_known_hosts: Option<&Path>,
    ) -> Result<Device, String> {
        if !valid_name(name) {
            return Err(format!(
                "device name {:?} must be 1-64 printable characters without spaces",
                name.chars().take(70).collect::<String>()
            ));
        }
        let ip = raw
            .ip
            .filter(|ip| {
                !ip.trim().is_empty() && ip.len() <= 255 && !ip.contains(char::is_whitespace)
            })
            .ok_or_else(|| format!("`{name}` needs an `ip` (an address or host name)"))?;
        let port = match raw.port {
            None => 22,
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{name}`: `port` must be 1-65535"))?,
            Some(_) => {
                return Err(format!(
                    "`{name}`: `port` must be an integer (typically 22 or 830)"
                ));
            }
        };
        let username = raw
            .username
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("`{name}` needs a `username`"))?;
        let auth = raw
            .auth
            .ok_or_else(|| format!("`{name}` needs `auth` ({{\"type\": \"password\", \"password\": ...}} or {{\"type\": \"ssh_key\", \"private_key_path\": ...}})"))?;
        let auth = match auth.kind.as_deref() {
            Some("password") => Auth::Password(
                auth.password
                    .ok_or_else(|| format!("`{name}`: auth type `password` needs a `password`"))?,
            ),
            Some("ssh_key") => Auth::Key(base.join(auth.private_key_path.ok_or_else(|| {
                format!("`{name}`: auth type `ssh_key` needs a `private_key_path`")
            })?)),
            other => {
                return Err(format!(
                    "`{name}`: auth type {} is not known: use `password` or `ssh_key`",
                    other.map_or("(missing)".to_string(), |o| format!("`{o}`"))
                ));
            }
        };
        let host_key = match (raw.host_key, raw.known_hosts) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "`{name}` gives both `host_key` and `known_hosts`: give one"
                ));
            }
            (Some(fp), None) => {
                HostKey::Pinned(fingerprint(&fp).map_err(|e| format!("`{name}`: {e}"))?)
            }
            (None, Some(file)) => HostKey::KnownHosts(base.join(file)),
            (None, None) => default_known_hosts
                .map_or(HostKey::Unpinned, |p| HostKey::KnownHosts(p.to_path_buf())),
        };
        Ok(Device {
            name: name.to_string(),
            ip,
            port,
            username,
            auth,
            host_key,
        })
    }

    /// The device named `name`; the error names the closest names.
    pub fn get(&self, name: &str) -> Result<&Device, JunosError> {
        self.devices.get(name).ok_or_else(|| {
            let lower = name.to_lowercase();
            let mut near: Vec<(f64, &str)> = self
                .devices
                .keys()
                .map(|k| {
                    let k_lower = k.to_lowercase();
                    let score = strsim::jaro_winkler(&lower, &k_lower)
                        .max(strsim::normalized_levenshtein(&lower, &k_lower));
                    (score, k.as_str())
                })
                .filter(|(score, _)| *score >= 0.5)
                .collect();
            near.sort_by(|a, b| b.0.total_cmp(&a.0));
            let near: Vec<&str> = near.into_iter().take(3).map(|(_, k)| k).collect();
            JunosError::UnknownDevice {
                name: name.chars().take(80).collect(),
                hint: if near.is_empty() {
                    String::new()
                } else {
                    format!(" (closest: {})", near.join(", "))
                },
            }
        })
    }

    /// What a model may see of every device.
    pub fn listing(&self) -> Value {
        Value::Array(self.devices.values().map(Device::listing).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP: &str = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

    #[test]
    fn the_junos_mcp_server_format_parses_and_hides_passwords() {
        let text = format!(
            r#"{{"r1": {{"ip": "10.0.0.1", "port": 22, "username": "u", "auth": {{"type": "password", "password": "hunter2"}}, "host_key": "{FP}"}},
               "r2": {{"ip": "10.0.0.2", "port": 830, "username": "u", "auth": {{"type": "ssh_key", "private_key_path": "keys/r2.pem"}}}}}}"#
        );
        let inv = Inventory::parse(&text, Path::new("/etc/jmcp"), None).expect("valid");
        let r1 = inv.get("r1").expect("r1");
        assert_eq!(r1.host_key, HostKey::Pinned(FP.into()));
        assert!(!format!("{r1:?}").contains("hunter2"));
        assert!(!inv.listing().to_string().contains("hunter2"));
        let r2 = inv.get("r2").expect("r2");
        assert_eq!(r2.auth, Auth::Key(PathBuf::from("/etc/jmcp/keys/r2.pem")));
        assert_eq!(r2.host_key, HostKey::Unpinned);
        let e = inv.get("r3").expect_err("unknown").to_string();
        assert!(e.contains("closest: r1"), "{e}");
    }

    #[test]
    fn bad_entries_are_named() {
        let text = r#"{"a": {"ip": "x", "port": "22", "username": "u", "auth": {"type": "password", "password": "p"}},
                       "b": {"ip": "x", "username": "u", "auth": {"type": "telnet"}},
                       "c": {"ip": "x", "username": "u", "auth": {"type": "password", "password": "p"}, "host_key": "abc"}}"#;
        let e = Inventory::parse(text, Path::new("."), None)
            .expect_err("invalid")
            .to_string();
        assert!(e.contains("`a`: `port` must be an integer"), "{e}");
        assert!(e.contains("`b`: auth type `telnet`"), "{e}");
        assert!(e.contains("`c`: `abc` is not a SHA-256"), "{e}");
        assert!(!e.contains("\"p\""), "{e}");
        let numeric = r#"{"a": {"ip": "x", "username": "u", "auth": {"type": "password", "password": 48151623}}}"#;
        let e = Inventory::parse(numeric, Path::new("."), None)
            .expect_err("invalid")
            .to_string();
        assert!(e.contains("wrong type") && !e.contains("48151623"), "{e}");
        let e = Inventory::parse(r#"{"a": {"auth": "hunter2"}}"#, Path::new("."), None)
            .expect_err("invalid")
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
