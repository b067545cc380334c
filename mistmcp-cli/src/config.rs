//! Where the Mist token comes from, and where it may be sent: the one rule of both binaries.
//!
//! **A token is only sent to the destinations named by the source it came from.** A source
//! is the environment (with the command line), one env file, or one `mistcli` profile; its
//! destinations are `MIST_HOST`, `MIST_API_URL` (`--api-url`) and `MIST_WS_URL` (`host`,
//! `api_url`, `ws_url` in a profile). The sources, first to last:
//!
//! 1. a source chosen by name: `--profile` / `MISTCLI_PROFILE` (mistcli), then `--env-file` /
//!    `MIST_ENV_FILE`. The first of them holding a token is complete: the environment's Mist
//!    variables are ignored, and `--api-url` on the command line is an error.
//! 2. the environment: `MIST_APITOKEN` and its own `MIST_HOST` / `MIST_API_URL` / `MIST_WS_URL`.
//! 3. sources used only when no token came before: the default profile (mistcli), then
//!    `./.env` (never read by the HTTP server). The environment naming a destination for
//!    their token is an error.
//!
//! A chosen source naming a destination without holding the token is an error too. The other
//! keys of an env file that is read (`MISTMCP_*`, `MIST_ORG_ID`...) are set in the environment
//! unless already set there; its Mist keys never are.

use anyhow::{Context, bail};
use mistcore::api::{Credentials, Secret, cloud_base, custom_base};
use std::fmt;
use std::path::{Path, PathBuf};

/// The variables that hold a token or name where it goes; never loaded into the environment.
const MIST_KEYS: [&str; 4] = ["MIST_APITOKEN", "MIST_HOST", "MIST_API_URL", "MIST_WS_URL"];

/// The Mist variables of one source (empty values count as unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MistVars {
    /// `MIST_APITOKEN`.
    pub token: Option<String>,
    /// `MIST_HOST`: one of the spec's Mist clouds.
    pub host: Option<String>,
    /// `MIST_API_URL`: any http(s) base URL.
    pub api_url: Option<String>,
    /// `MIST_WS_URL`: the event stream's URL.
    pub ws_url: Option<String>,
}

impl MistVars {
    /// The Mist variables of the process environment.
    pub fn from_environment() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        MistVars::new(
            var("MIST_APITOKEN"),
            var("MIST_HOST"),
            var("MIST_API_URL"),
            var("MIST_WS_URL"),
        )
    }

    /// The variables, with empty values dropped.
    pub fn new(
        token: Option<String>,
        host: Option<String>,
        api_url: Option<String>,
        ws_url: Option<String>,
    ) -> Self {
        let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        MistVars {
            token: set(token),
            host: set(host),
            api_url: set(api_url),
            ws_url: set(ws_url),
        }
    }

    /// The first destination variable these set, by name.
    fn destination(&self) -> Option<&'static str> {
        [
            (self.host.is_some(), "MIST_HOST"),
            (self.api_url.is_some(), "MIST_API_URL"),
            (self.ws_url.is_some(), "MIST_WS_URL"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }
}

/// Where a token and its destinations were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A profile named by `--profile` / `MISTCLI_PROFILE`.
    Profile(String),
    /// The env file of `--env-file` / `MIST_ENV_FILE`.
    EnvFile(PathBuf),
    /// The process environment and the command line.
    Environment,
    /// The config file's default profile.
    DefaultProfile(String),
    /// `./.env`, read because no token came from elsewhere.
    DotEnv,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Profile(name) => write!(f, "profile `{name}`"),
            Source::EnvFile(path) => write!(f, "the env file {}", path.display()),
            Source::Environment => f.write_str("the environment"),
            Source::DefaultProfile(name) => write!(f, "the default profile `{name}`"),
            Source::DotEnv => f.write_str("./.env"),
        }
    }
}

/// One source with its variables.
#[derive(Debug, Clone)]
pub struct Place {
    /// Where the variables were read.
    pub source: Source,
    /// What it sets.
    pub vars: MistVars,
}

/// The credentials of a process and the stream URL that may carry its token.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The token and the base URL it goes to.
    pub credentials: Credentials,
    /// `MIST_WS_URL` of the token's source.
    pub stream_url: Option<String>,
    /// Where the token came from (`None` without a token).
    pub source: Option<Source>,
}

/// Applies the rule of this module.
///
/// `chosen` are the sources named by the user, first to last; `environment` the process
/// environment's variables (with `--api-url` as `api_url`); `api_url_flag` is `--api-url` given
/// on the command line; `later` yields the sources read only when no token came before (it is
/// called only then, so `./.env` is not even read when a token came from elsewhere).
pub fn resolve(
    chosen: Vec<Place>,
    environment: MistVars,
    api_url_flag: Option<&str>,
    later: impl FnOnce() -> anyhow::Result<Vec<Place>>,
) -> anyhow::Result<Resolved> {
    let environment = Place {
        source: Source::Environment,
        vars: environment,
    };
    if let Some(i) = chosen.iter().position(|p| p.vars.token.is_some()) {
        let winner = &chosen[i];
        if api_url_flag.is_some() {
            bail!(
                "--api-url names where the token goes, but the token comes from {}: a token is only sent where its own source says; set the URL there (api_url in a profile, MIST_API_URL in an env file) or drop --api-url",
                winner.source
            );
        }
        if let Some(other) = chosen
            .iter()
            .find(|p| p.source != winner.source && p.vars.destination().is_some())
        {
            bail!(
                "{} sets {} but the token comes from {}: a token is only sent where its own source says; choose one of them",
                other.source,
                other.vars.destination().unwrap_or_default(),
                winner.source
            );
        }
        return place_credentials(winner);
    }
    let token_without_destination = |holder: &Place| -> anyhow::Result<()> {
        for p in chosen.iter().chain([&environment]) {
            if p.source != holder.source
                && let Some(name) = p.vars.destination()
            {
                bail!(
                    "{} sets {name} but holds no MIST_APITOKEN, and the token comes from {}: a token is only sent where its own source says; put the token and {name} in the same place",
                    p.source,
                    holder.source
                );
            }
        }
        Ok(())
    };
    if environment.vars.token.is_some() {
        token_without_destination(&environment)?;
        return place_credentials(&environment);
    }
    let later = later()?;
    if let Some(winner) = later.iter().find(|p| p.vars.token.is_some()) {
        token_without_destination(winner)?;
        return place_credentials(winner);
    }
    // No token anywhere: nothing secret is sent; the first destination named is used.
    let named = chosen
        .iter()
        .chain([&environment])
        .chain(later.iter())
        .find(|p| p.vars.destination().is_some());
    let mut resolved = match named {
        Some(p) => place_credentials(p)?,
        None => place_credentials(&environment)?,
    };
    resolved.source = None;
    Ok(resolved)
}

/// Where the HTTP server sends its clients' tokens: the operator's choice.
#[derive(Debug, Clone, Default)]
pub struct ServerDestination {
    /// `MIST_HOST`: the cloud of clients that name none (checked to be a Mist cloud).
    pub cloud: Option<String>,
    /// `MIST_API_URL` / `--api-url`: replaces every cloud.
    pub api_url: Option<url::Url>,
    /// `MIST_WS_URL`: the event stream.
    pub stream_url: Option<String>,
}

/// The HTTP server's destinations: the `--env-file`'s when it names any, else the
/// environment's (`./.env` is never read: the server's clients bring their own tokens).
pub fn server_destination(
    chosen: Vec<Place>,
    environment: MistVars,
) -> anyhow::Result<ServerDestination> {
    let place = chosen
        .into_iter()
        .find(|p| p.vars.destination().is_some())
        .unwrap_or(Place {
            source: Source::Environment,
            vars: environment,
        });
    let in_source = || format!("in {}", place.source);
    if let Some(host) = &place.vars.host {
        cloud_base(host).with_context(in_source)?;
    }
    Ok(ServerDestination {
        cloud: place.vars.host.clone(),
        api_url: place
            .vars
            .api_url
            .as_deref()
            .map(custom_base)
            .transpose()
            .with_context(in_source)?,
        stream_url: place.vars.ws_url.clone(),
    })
}

/// The credentials of one source.
fn place_credentials(place: &Place) -> anyhow::Result<Resolved> {
    let vars = &place.vars;
    Ok(Resolved {
        credentials: credentials(vars.token.clone(), vars.host.clone(), vars.api_url.clone())
            .with_context(|| format!("in {}", place.source))?,
        stream_url: vars.ws_url.clone(),
        source: vars.token.as_ref().map(|_| place.source.clone()),
    })
}

/// Reads an env file: returns its Mist variables, and sets its other keys in the environment
/// unless already set there.
pub fn read_env_file(path: &Path) -> anyhow::Result<MistVars> {
    let unreadable = || format!("cannot read the env file {}", path.display());
    let mut mist = std::collections::HashMap::new();
    let mut others = String::new();
    for item in dotenvy::from_path_iter(path).with_context(unreadable)? {
        let (key, value) = item.with_context(unreadable)?;
        if MIST_KEYS.contains(&key.as_str()) {
            mist.insert(key, value);
        } else {
            others.push_str(&dotenv_line(&key, &value));
        }
    }
    // dotenvy sets the other keys (it never overrides a variable already set).
    dotenvy::from_read(others.as_bytes()).with_context(unreadable)?;
    let mut take = |k: &str| mist.remove(k);
    Ok(MistVars::new(
        take("MIST_APITOKEN"),
        take("MIST_HOST"),
        take("MIST_API_URL"),
        take("MIST_WS_URL"),
    ))
}

/// `KEY='value'` (literal), or a double-quoted line with escapes when the value has a quote.
fn dotenv_line(key: &str, value: &str) -> String {
    if !value.contains('\'') {
        return format!("{key}='{value}'\n");
    }
    let mut escaped = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' | '"' | '$' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\n' => escaped.push_str("\\n"),
            _ => escaped.push(c),
        }
    }
    format!("{key}=\"{escaped}\"\n")
}

/// `./.env` as a source when it is a file.
pub fn dot_env() -> anyhow::Result<Option<Place>> {
    let path = Path::new(".env");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(Place {
        source: Source::DotEnv,
        vars: read_env_file(path)?,
    }))
}

/// The credentials from a token, a Mist cloud host and an explicit base URL.
///
/// The host must be one of the spec's Mist clouds; `api_url` takes any http(s) base URL
/// instead, for tests and private deployments.
pub fn credentials(
    token: Option<String>,
    host: Option<String>,
    api_url: Option<String>,
) -> anyhow::Result<Credentials> {
    let token = token.filter(|t| !t.trim().is_empty()).map(Secret::new);
    let base = match (
        api_url.filter(|u| !u.trim().is_empty()),
        host.filter(|h| !h.trim().is_empty()),
    ) {
        (Some(url), _) => custom_base(&url)?,
        (None, Some(host)) => cloud_base(&host)?,
        (None, None) => Credentials::anonymous().base,
    };
    if let Some(t) = &token
        && t.expose()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        bail!("MIST_APITOKEN contains spaces or control characters: paste the token alone");
    }
    Ok(Credentials { token, base })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(token: Option<&str>, api_url: Option<&str>) -> MistVars {
        MistVars::new(
            token.map(str::to_string),
            None,
            api_url.map(str::to_string),
            None,
        )
    }

    fn place(source: Source, token: Option<&str>, api_url: Option<&str>) -> Place {
        Place {
            source,
            vars: vars(token, api_url),
        }
    }

    fn no_later() -> anyhow::Result<Vec<Place>> {
        Ok(Vec::new())
    }

    #[test]
    fn a_token_goes_only_where_its_source_says() {
        let file = Source::EnvFile("f.env".into());
        // A chosen file with a token is complete: the environment's URL is ignored.
        let r = resolve(
            vec![place(file.clone(), Some("f"), None)],
            vars(Some("e"), Some("http://env.example")),
            None,
            no_later,
        )
        .expect("resolves");
        assert_eq!(r.credentials.base.as_str(), "https://api.mist.com/");
        assert_eq!(r.source, Some(file.clone()));
        // --api-url on the command line cannot carry a chosen source's token.
        let e = resolve(
            vec![place(file.clone(), Some("f"), None)],
            vars(None, Some("http://flag.example")),
            Some("http://flag.example"),
            no_later,
        )
        .expect_err("refused");
        assert!(e.to_string().contains("--api-url"), "{e}");
        // A chosen file naming a URL without the token cannot redirect the environment's token.
        let e = resolve(
            vec![place(file, None, Some("http://evil.example"))],
            vars(Some("e"), None),
            None,
            no_later,
        )
        .expect_err("refused");
        assert!(e.to_string().contains("MIST_API_URL"), "{e}");
    }

    #[test]
    fn later_sources_are_read_only_without_a_token() {
        let r = resolve(Vec::new(), vars(Some("e"), None), None, || {
            panic!("./.env must not be read when the environment has a token")
        })
        .expect("resolves");
        assert_eq!(r.source, Some(Source::Environment));
        // The environment's URL cannot carry a later source's token.
        let e = resolve(
            Vec::new(),
            vars(None, Some("http://env.example")),
            None,
            || Ok(vec![place(Source::DotEnv, Some("d"), None)]),
        )
        .expect_err("refused");
        assert!(e.to_string().contains("./.env"), "{e}");
        let r = resolve(Vec::new(), MistVars::default(), None, || {
            Ok(vec![place(
                Source::DotEnv,
                Some("d"),
                Some("http://d.example"),
            )])
        })
        .expect("resolves");
        assert_eq!(r.credentials.base.as_str(), "http://d.example/");
    }

    #[test]
    fn env_file_lines_survive_quoting() {
        for value in ["plain", "it's", "a\"b\\c$HOME", "two\nlines", ""] {
            let line = dotenv_line("K", value);
            let parsed: Vec<_> = dotenvy::from_read_iter(line.as_bytes())
                .map(|i| i.expect("parses"))
                .collect();
            assert_eq!(parsed, vec![("K".to_string(), value.to_string())], "{line}");
        }
    }
}
