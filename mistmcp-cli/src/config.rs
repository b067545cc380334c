//! Where the token, the cloud and the `.env` file come from.

use anyhow::{Context, bail};
use mistcore::api::{Credentials, Secret, cloud_base, custom_base};
use std::path::Path;

/// Loads a `.env` file into the environment without overriding variables already set.
///
/// An explicit file (`--env-file`, `MIST_ENV_FILE`) must exist; otherwise `./.env` is read
/// when present.
pub fn load_env_file(explicit: Option<&Path>) -> anyhow::Result<()> {
    match explicit {
        Some(path) => {
            dotenvy::from_path(path)
                .with_context(|| format!("cannot read the env file {}", path.display()))?;
        }
        None => {
            if Path::new(".env").is_file() {
                dotenvy::from_path(".env").context("cannot read ./.env")?;
            }
        }
    }
    Ok(())
}

/// The credentials from `MIST_APITOKEN`, `MIST_HOST` and an explicit base URL.
///
/// The host must be one of the spec's Mist clouds; `api_url` (`--api-url`, `MIST_API_URL`)
/// takes any http(s) base URL instead, for tests and private deployments.
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
