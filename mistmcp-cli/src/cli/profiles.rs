//! Named profiles in `~/.config/mistcli/config.toml`.
//!
//! ```toml
//! default = "prod"          # used when no token is chosen or in the environment
//! [profiles.prod]
//! token = "..."
//! host = "api.eu.mist.com"  # or api_url = "http://127.0.0.1:4010"
//! org_id = "..."
//! ```

use anyhow::Context;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The API token.
    pub token: Option<String>,
    /// The Mist cloud host.
    pub host: Option<String>,
    /// An explicit base URL.
    pub api_url: Option<String>,
    /// The event stream's URL (device commands).
    pub ws_url: Option<String>,
    /// The default org.
    pub org_id: Option<String>,
}

/// The config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profile used by default.
    pub default: Option<String>,
    /// The profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// `$MISTCLI_CONFIG`, else `$XDG_CONFIG_HOME/mistcli/config.toml`, else `~/.config/mistcli/config.toml`.
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MISTCLI_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mistcli").join("config.toml"))
}

/// Reads the config file; a missing file is an empty config.
pub fn load() -> anyhow::Result<Config> {
    let Some(path) = path() else {
        return Ok(Config::default());
    };
    if !path.is_file() {
        return Ok(Config::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

/// The profile named `name`, which must exist.
pub fn named(config: &Config, name: &str) -> anyhow::Result<Profile> {
    config.profiles.get(name).cloned().with_context(|| {
        let known: Vec<&str> = config.profiles.keys().map(String::as_str).collect();
        format!(
            "no profile `{name}` in {}; profiles: {}",
            path().map(|p| p.display().to_string()).unwrap_or_default(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )
    })
}

/// The config file's default profile, with its name, if it names one that exists.
pub fn default_profile(config: &Config) -> Option<(&str, &Profile)> {
    let name = config.default.as_deref()?;
    config.profiles.get(name).map(|p| (name, p))
}

impl Profile {
    /// The profile's token and destinations.
    pub fn mist_vars(&self) -> crate::config::MistVars {
        crate::config::MistVars::new(
            self.token.clone(),
            self.host.clone(),
            self.api_url.clone(),
            self.ws_url.clone(),
        )
    }
}
