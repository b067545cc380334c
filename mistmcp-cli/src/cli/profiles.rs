//! Named profiles in `~/.config/mistcli/config.toml`: the file's format, reading it, and the
//! edits of `mistcli auth` and `mistcli config`.
//!
//! ```toml
//! default = "prod"          # used when no token is chosen or in the environment
//! [profiles.prod]
//! token_keyring = true      # the token is in the OS keyring (`mistcli auth login`)
//! host = "api.eu.mist.com"  # or api_url = "http://127.0.0.1:4010"
//! org_id = "..."
//! output = "table"          # the default output format on a terminal
//! [profiles.lab]
//! token = "..."             # the token in the file itself (then mode 0600)
//! api_url = "http://127.0.0.1:4010"
//! ```
//!
//! Edits keep the file's other content (comments, order, other profiles) and write it anew with
//! mode 0600, atomically (a temporary file renamed over it). A file that holds a token and that
//! others may read is used, with a warning that says how to fix it.

use super::os_keyring;
use super::output::Format;
use anyhow::{Context, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The API token, when it is kept in the file.
    pub token: Option<String>,
    /// The token is in the OS keyring (`mistcli auth login`), under the profile's name.
    #[serde(default)]
    pub token_keyring: bool,
    /// The Mist cloud host.
    pub host: Option<String>,
    /// An explicit base URL.
    pub api_url: Option<String>,
    /// The event stream's URL (device commands).
    pub ws_url: Option<String>,
    /// The default org.
    pub org_id: Option<String>,
    /// The default output format on a terminal (`json`, `yaml`, `table`, `ndjson`); see
    /// [`Profile::output_format`].
    pub output: Option<String>,
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

/// The config file's path for messages (`the config file` when none can be known).
pub fn shown_path() -> String {
    path()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the config file".into())
}

/// Reads the config file; a missing file is an empty config.
pub fn load() -> anyhow::Result<Config> {
    let Some(path) = path() else {
        return Ok(Config::default());
    };
    if !path.is_file() {
        return Ok(Config::default());
    }
    refuse_if_others_may_write(&path)?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config: Config =
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
    if config.profiles.values().any(|p| p.token.is_some()) {
        warn_if_readable_by_others(&path);
    }
    Ok(config)
}

/// A file holding a token that others may read: said once per run, with the fix. (Not refused:
/// hand-written files of earlier versions are often 0644, and refusing would stop their scripts.)
fn warn_if_readable_by_others(path: &Path) {
    if let Some(mode) = others_may_read(path) {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "warning: {} holds a token and others may read it (mode {mode:03o}): chmod 600 {}",
                path.display(),
                path.display()
            );
        });
    }
}

/// A config file that others may change, or whose directory they may change (without the
/// sticky bit), is refused as ssh refuses such files: whoever can write it can point a profile's
/// `api_url` at their own server, and the profile's token (from the keyring too) would go there.
#[cfg(unix)]
fn refuse_if_others_may_write(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let file_mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode();
    if file_mode & 0o022 != 0 {
        anyhow::bail!(
            "{} may be changed by others (mode {:03o}), so its profiles cannot be trusted: chmod go-w {}",
            path.display(),
            file_mode & 0o777,
            path.display()
        );
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(meta) = std::fs::metadata(dir) {
        let mode = meta.permissions().mode();
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            anyhow::bail!(
                "{} is in {}, which others may change (mode {:03o}), so its profiles cannot be trusted: chmod go-w {}",
                path.display(),
                dir.display(),
                mode & 0o777,
                dir.display()
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_may_write(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// The file's permission bits when its group or others may read or write it.
#[cfg(unix)]
fn others_may_read(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn others_may_read(_: &Path) -> Option<u32> {
    None
}

/// A profile name that mistcli writes (`auth login`, `config set`) is a TOML key and the
/// keyring's account: letters, digits, `-`, `_`, `.`, 64 at most.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` cannot name a profile: use letters, digits, `-`, `_` or `.` (64 at most)"
        ))
    }
}

/// The profile named `name`, which must exist.
pub fn named(config: &Config, name: &str) -> anyhow::Result<Profile> {
    config.profiles.get(name).cloned().with_context(|| {
        format!(
            "no profile `{name}` in {}; profiles: {}",
            shown_path(),
            names_or_none(config)
        )
    })
}

/// The profiles' names, comma-separated, or `none`.
pub fn names_or_none(config: &Config) -> String {
    if config.profiles.is_empty() {
        "none".to_string()
    } else {
        config
            .profiles
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The config file's default profile, with its name, if it names one that exists.
pub fn default_profile(config: &Config) -> Option<(&str, &Profile)> {
    let name = config.default.as_deref()?;
    config.profiles.get(name).map(|p| (name, p))
}

/// The profile a command uses: the one named by `--profile` / `MISTCLI_PROFILE` if given
/// (whether or not it exists), else the config's default profile.
pub fn active<'c>(
    config: &'c Config,
    chosen: Option<&'c str>,
) -> Option<(&'c str, Option<&'c Profile>)> {
    match chosen {
        Some(name) => Some((name, config.profiles.get(name))),
        None => default_profile(config).map(|(n, p)| (n, Some(p))),
    }
}

/// The token of a profile cannot be had from the OS keyring.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the token of profile `{profile}` is in {}, but {reason}: `mistcli auth login --profile {profile}` stores it again (with --no-keyring, in the config file)",
    os_keyring::name()
)]
pub struct TokenUnavailable {
    /// The profile.
    pub profile: String,
    /// Why (the keyring's error, or that it has no entry).
    pub reason: String,
}

impl From<TokenUnavailable> for super::Failure {
    fn from(e: TokenUnavailable) -> Self {
        super::Failure {
            code: super::exit::AUTH,
            message: e.to_string(),
        }
    }
}

impl Profile {
    /// The profile's token and destinations; `name` is the profile's name, under which the OS
    /// keyring keeps its token. A token in the file wins over `token_keyring`; the keyring is
    /// asked only when the profile says it holds the token.
    pub fn mist_vars(&self, name: &str) -> Result<crate::config::MistVars, TokenUnavailable> {
        let token = match (&self.token, self.token_keyring) {
            (Some(token), _) => Some(token.clone()),
            (None, true) => {
                let unavailable = |reason: String| TokenUnavailable {
                    profile: name.to_string(),
                    reason,
                };
                match os_keyring::read(name) {
                    Ok(Some(token)) => Some(token),
                    Ok(None) => return Err(unavailable("the keyring has no token for it".into())),
                    Err(e) => return Err(unavailable(e.to_string())),
                }
            }
            (None, false) => None,
        };
        Ok(crate::config::MistVars::new(
            token,
            self.host.clone(),
            self.api_url.clone(),
            self.ws_url.clone(),
        ))
    }

    /// The profile's default output format (`output`), when it names one.
    pub fn output_format(&self) -> Option<Format> {
        let name = self.output.as_deref()?;
        <Format as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// Where the profile's token is: `Some(true)` the keyring, `Some(false)` the file.
    pub fn token_in_keyring(&self) -> Option<bool> {
        match (&self.token, self.token_keyring) {
            (Some(_), _) => Some(false),
            (None, true) => Some(true),
            (None, false) => None,
        }
    }
}

/// A per-profile setting of `mistcli config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The name given to `mistcli config`.
    pub name: &'static str,
    /// The key in the profile's table.
    pub file_key: &'static str,
    /// What it sets, for `config --help` and errors.
    pub about: &'static str,
}

/// The settings `mistcli config` knows.
pub const KEYS: &[Key] = &[
    Key {
        name: "org",
        file_key: "org_id",
        about: "the default org id (a UUID)",
    },
    Key {
        name: "host",
        file_key: "host",
        about: "the Mist cloud (api.mist.com, api.eu.mist.com, ...); replaces api_url",
    },
    Key {
        name: "api_url",
        file_key: "api_url",
        about: "any other API base URL (a test server, a private deployment); replaces host",
    },
    Key {
        name: "ws_url",
        file_key: "ws_url",
        about: "the event stream's URL (device commands), wss://...",
    },
    Key {
        name: "output",
        file_key: "output",
        about: "the default output format on a terminal: json, yaml, table or ndjson",
    },
];

/// The setting `name` (`org_id` is accepted for `org`), or an error listing the known ones.
pub fn key(name: &str) -> anyhow::Result<&'static Key> {
    let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
    if let Some(k) = KEYS
        .iter()
        .find(|k| k.name == wanted || k.file_key == wanted)
    {
        return Ok(k);
    }
    if wanted == "token" || wanted == "token_keyring" {
        bail!(
            "the token is not a setting: `mistcli auth login` stores it, `mistcli auth logout` removes it"
        );
    }
    bail!(
        "unknown key `{name}`; known keys: {}",
        KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
    )
}

impl Key {
    /// `value` checked and normalised for this key.
    pub fn check(&self, value: &str) -> anyhow::Result<String> {
        let value = value.trim();
        if value.is_empty() {
            bail!(
                "give a value for `{}` (`mistcli config unset {}` removes it)",
                self.name,
                self.name
            );
        }
        match self.name {
            "org" => {
                if !is_uuid(value) {
                    bail!(
                        "`{value}` is not an org id: a UUID such as 6748cfa6-4e12-11e6-9188-0242ac110007"
                    );
                }
                Ok(value.to_ascii_lowercase())
            }
            "host" => {
                // One of the Mist clouds (the dashboard host is taken for its API host).
                let base = mistcore::api::cloud_base(value)?;
                Ok(base.host_str().unwrap_or(value).to_string())
            }
            "api_url" => {
                mistcore::api::custom_base(value)?;
                Ok(value.to_string())
            }
            "ws_url" => {
                let url =
                    url::Url::parse(value).with_context(|| format!("`{value}` is not a URL"))?;
                if !matches!(url.scheme(), "ws" | "wss") || url.host_str().is_none() {
                    bail!("`{value}` is not a ws:// or wss:// URL");
                }
                Ok(value.to_string())
            }
            "output" => {
                let format = <Format as clap::ValueEnum>::from_str(value, true).map_err(|_| {
                    anyhow::anyhow!(
                        "`{value}` is not an output format: json, yaml, table or ndjson"
                    )
                })?;
                Ok(<Format as clap::ValueEnum>::to_possible_value(&format)
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_else(|| value.to_ascii_lowercase()))
            }
            _ => Ok(value.to_string()),
        }
    }
}

/// Whether `s` is a UUID (8-4-4-4-12 hex digits).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The config file open for edits that keep its other content.
pub struct Editor {
    path: PathBuf,
    doc: toml_edit::DocumentMut,
}

impl Editor {
    /// Opens the config file (an empty document when it does not exist yet).
    pub fn open() -> anyhow::Result<Editor> {
        let path = path()
            .context("no place for the config file: set HOME, XDG_CONFIG_HOME or MISTCLI_CONFIG")?;
        Editor::open_at(path)
    }

    /// Opens the config file at `path`.
    pub fn open_at(path: PathBuf) -> anyhow::Result<Editor> {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let doc = text
            .parse::<toml_edit::DocumentMut>()
            .with_context(|| format!("invalid config file {}", path.display()))?;
        Ok(Editor { path, doc })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file as it would be written.
    pub fn config(&self) -> anyhow::Result<Config> {
        toml::from_str(&self.doc.to_string())
            .with_context(|| format!("invalid config file {}", self.path.display()))
    }

    /// The table of profile `name`, made when missing.
    fn profile_mut(&mut self, name: &str) -> anyhow::Result<&mut toml_edit::Table> {
        let profiles = self
            .doc
            .entry("profiles")
            .or_insert_with(|| {
                let mut t = toml_edit::Table::new();
                // `[profiles.x]` headers only, no empty `[profiles]`.
                t.set_implicit(true);
                toml_edit::Item::Table(t)
            })
            .as_table_mut()
            .context("`profiles` in the config file is not a table")?;
        profiles
            .entry(name)
            .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .with_context(|| format!("profile `{name}` in the config file is not a table"))
    }

    /// Sets `key` of profile `name` (made when missing) to a string.
    pub fn set(&mut self, name: &str, key: &str, value: &str) -> anyhow::Result<()> {
        self.profile_mut(name)?[key] = toml_edit::value(value);
        Ok(())
    }

    /// Sets `key` of profile `name` (made when missing) to a boolean.
    pub fn set_bool(&mut self, name: &str, key: &str, value: bool) -> anyhow::Result<()> {
        self.profile_mut(name)?[key] = toml_edit::value(value);
        Ok(())
    }

    /// Removes `key` of profile `name`; `true` when it was there.
    pub fn remove(&mut self, name: &str, key: &str) -> bool {
        // TableLike::get_mut, not Item::get_mut: the latter makes a missing key.
        self.doc
            .as_table_mut()
            .get_mut("profiles")
            .and_then(toml_edit::Item::as_table_like_mut)
            .and_then(|p| p.get_mut(name))
            .and_then(toml_edit::Item::as_table_like_mut)
            .and_then(|t| t.remove(key))
            .is_some()
    }

    /// Removes profile `name`; `true` when it was there.
    pub fn remove_profile(&mut self, name: &str) -> bool {
        self.doc
            .as_table_mut()
            .get_mut("profiles")
            .and_then(toml_edit::Item::as_table_like_mut)
            .and_then(|t| t.remove(name))
            .is_some()
    }

    /// Sets the default profile, or removes the setting with `None`.
    pub fn set_default(&mut self, name: Option<&str>) {
        match name {
            Some(n) => {
                self.doc["default"] = toml_edit::value(n);
            }
            None => {
                self.doc.remove("default");
            }
        }
    }

    /// Writes the file: checked to be a config mistcli reads, then written to a temporary file
    /// of mode 0600 beside it and renamed over it (a symbolic link is followed to its file).
    pub fn save(&self) -> anyhow::Result<()> {
        self.config()?;
        let target = match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(&self.path)
                .with_context(|| format!("cannot follow the link {}", self.path.display()))?,
            _ => self.path.clone(),
        };
        write_private(&target, self.doc.to_string().as_bytes())
    }
}

/// Writes `bytes` to `path` atomically with mode 0600 (its directory made 0700 when missing).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".into());
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "mistcli-profiles-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir.join("config.toml")
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    const HAND_WRITTEN: &str = "# my profiles\ndefault = \"lab\"\n\n[profiles.lab]\ntoken = \"t-lab\"   # keep me\napi_url = \"http://127.0.0.1:4010\"\n\n[profiles.prod]\nhost = \"api.eu.mist.com\"\n";

    #[test]
    fn an_edit_keeps_the_other_content_and_writes_mode_0600() {
        let path = scratch("keep");
        std::fs::write(&path, HAND_WRITTEN).expect("written");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        let mut editor = Editor::open_at(path.clone()).expect("opens");
        editor.set("prod", "output", "table").expect("set");
        editor.set_bool("prod", "token_keyring", true).expect("set");
        editor.save().expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        for kept in [
            "# my profiles",
            "token = \"t-lab\"   # keep me",
            "default = \"lab\"",
        ] {
            assert!(text.contains(kept), "{kept} lost:\n{text}");
        }
        let config: Config = toml::from_str(&text).expect("parses");
        let prod = &config.profiles["prod"];
        assert_eq!(prod.output.as_deref(), Some("table"));
        assert_eq!(prod.output_format(), Some(Format::Table));
        assert!(prod.token_keyring);
        assert_eq!(prod.host.as_deref(), Some("api.eu.mist.com"));
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        // No temporary file is left beside it.
        let dir = path.parent().expect("dir");
        assert_eq!(std::fs::read_dir(dir).expect("dir").count(), 1);
    }

    #[test]
    fn a_new_file_is_made_0600_in_a_0700_directory() {
        let path = scratch("new").with_file_name("sub").join("config.toml");
        let mut editor = Editor::open_at(path.clone()).expect("opens");
        editor.set("default", "host", "api.mist.com").expect("set");
        editor.set_default(Some("default"));
        editor.save().expect("saved");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains("[profiles]\n"),
            "no empty [profiles]:\n{text}"
        );
        let config: Config = toml::from_str(&text).expect("parses");
        assert_eq!(config.default.as_deref(), Some("default"));
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().expect("dir")), 0o700);
        }
    }

    #[test]
    fn removals_keep_the_rest() {
        let path = scratch("remove");
        std::fs::write(&path, HAND_WRITTEN).expect("written");
        let mut editor = Editor::open_at(path.clone()).expect("opens");
        assert!(editor.remove("lab", "token"));
        assert!(!editor.remove("lab", "token"));
        assert!(!editor.remove("nope", "token"));
        // Removing from a missing profile leaves nothing behind that would stop a later edit.
        editor
            .set("nope", "output", "json")
            .expect("a missing profile is made");
        assert!(editor.remove_profile("nope"));
        assert!(editor.remove_profile("prod"));
        assert!(!editor.remove_profile("prod"));
        editor.set_default(None);
        editor.save().expect("saved");
        let config = load_at(&path);
        assert!(config.default.is_none());
        assert_eq!(config.profiles.len(), 1);
        let lab = &config.profiles["lab"];
        assert!(lab.token.is_none());
        assert_eq!(lab.api_url.as_deref(), Some("http://127.0.0.1:4010"));
    }

    #[test]
    fn an_edit_that_would_break_the_file_is_not_written() {
        let path = scratch("break");
        std::fs::write(&path, HAND_WRITTEN).expect("written");
        let mut editor = Editor::open_at(path.clone()).expect("opens");
        editor.set("lab", "colour", "blue").expect("set");
        let e = editor.save().expect_err("unknown key refused");
        assert!(format!("{e:#}").contains("colour"), "{e:#}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), HAND_WRITTEN);
    }

    fn load_at(path: &Path) -> Config {
        toml::from_str(&std::fs::read_to_string(path).expect("read")).expect("parses")
    }

    #[cfg(unix)]
    #[test]
    fn a_file_or_directory_others_may_write_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let set = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        let path = scratch("writable");
        let dir = path.parent().expect("a directory").to_path_buf();
        std::fs::write(&path, HAND_WRITTEN).expect("written");
        set(&dir, 0o700);
        set(&path, 0o600);
        refuse_if_others_may_write(&path).expect("0600 in 0700 is fine");
        set(&path, 0o644);
        refuse_if_others_may_write(&path).expect("readable is warned about, not refused");
        set(&path, 0o664);
        let e = refuse_if_others_may_write(&path).expect_err("group-writable");
        assert!(e.to_string().contains("chmod go-w"), "{e}");
        set(&path, 0o600);
        set(&dir, 0o777);
        let e = refuse_if_others_may_write(&path).expect_err("a directory anyone may change");
        assert!(e.to_string().contains("which others may change"), "{e}");
        set(&dir, 0o1777);
        refuse_if_others_may_write(&path).expect("a sticky directory, as /tmp");
        set(&dir, 0o700);
    }

    #[test]
    fn keys_are_known_and_their_values_checked() {
        assert_eq!(key("org").expect("org").file_key, "org_id");
        assert_eq!(key("org_id").expect("org_id").name, "org");
        assert_eq!(key("api-url").expect("api_url").name, "api_url");
        let unknown = key("colour").expect_err("unknown").to_string();
        for k in KEYS {
            assert!(unknown.contains(k.name), "{unknown}");
        }
        assert!(
            key("token")
                .expect_err("token")
                .to_string()
                .contains("auth login")
        );
        let check = |k: &str, v: &str| key(k).expect("known").check(v);
        assert_eq!(
            check("host", "manage.eu.mist.com").expect("cloud"),
            "api.eu.mist.com"
        );
        assert!(check("host", "api.evil.example").is_err());
        assert!(check("host", "").is_err());
        assert_eq!(check("output", "TABLE").expect("format"), "table");
        assert!(
            check("output", "csv")
                .expect_err("csv")
                .to_string()
                .contains("ndjson")
        );
        assert!(check("org", "nope").is_err());
        assert_eq!(
            check("org", "6748CFA6-4E12-11E6-9188-0242AC110007").expect("uuid"),
            "6748cfa6-4e12-11e6-9188-0242ac110007"
        );
        assert!(check("api_url", "ftp://x").is_err());
        assert!(check("api_url", "http://127.0.0.1:4010").is_ok());
        assert!(check("ws_url", "https://x").is_err());
        assert!(check("ws_url", "wss://api-ws.mist.com").is_ok());
    }

    #[test]
    fn a_token_in_the_file_wins_and_the_keyring_is_not_asked() {
        let p = Profile {
            token: Some("t".into()),
            token_keyring: true,
            ..Profile::default()
        };
        assert_eq!(p.mist_vars("x").expect("vars").token.as_deref(), Some("t"));
        assert_eq!(p.token_in_keyring(), Some(false));
        assert_eq!(Profile::default().token_in_keyring(), None);
        assert_eq!(Profile::default().mist_vars("x").expect("vars").token, None);
    }
}
