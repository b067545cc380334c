//! The one request-to-session step of the HTTP frontends (the native gate and the edge module):
//! what a request's query and headers say, and what the server fixed, become a [`Session`] or a
//! refusal that says what to change.

use crate::api::{CloudError, Credentials, Secret, cloud_base};
use crate::session::{Session, SessionConfig, SessionError, ToolMode};
use url::Url;

/// What one HTTP request says about its session, as the host read it.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest<'a> {
    /// The query's `cloud`.
    pub cloud: Option<&'a str>,
    /// The query's `mode`.
    pub mode: Option<&'a str>,
    /// The query's `categories`, comma-separated.
    pub categories: Option<&'a str>,
    /// The Mist token the request brings (the host chose it from its headers).
    pub token: Option<String>,
    /// The cloud bound to the server token, which wins over any the request names.
    pub bound_cloud: Option<&'a str>,
    /// The token bound to the server token, which wins over any the request brings.
    pub bound_token: Option<String>,
}

/// What the server fixed for every session.
#[derive(Debug, Clone, Copy)]
pub struct ServerSettings<'a> {
    /// Mode, categories, write tools, limits of new sessions (a request may set mode and categories).
    pub defaults: &'a SessionConfig,
    /// The cloud of a request that names none (`MIST_HOST`).
    pub default_cloud: Option<&'a str>,
    /// Every session's requests go here instead of the cloud (`--api-url`, `MIST_API_URL`).
    pub api_url: Option<&'a Url>,
}

/// Why a request gets no session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request names another cloud than the one bound to its server token.
    #[error(
        "the Mist credentials of your access are bound to the cloud {bound}: leave `cloud` out of the URL or name that one"
    )]
    OtherCloud {
        /// The bound cloud.
        bound: String,
    },
    /// No cloud in the request, and none on the server.
    #[error("missing `cloud` query parameter, e.g. /mcp?cloud=api.mist.com")]
    MissingCloud,
    /// Not one of the spec's clouds.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A mode or categories that do not exist.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Who a request comes from: a SHA-256 of the server token's id (when the server has tokens)
/// and the Mist token and base URL. A session serves only the identity that opened it, and a
/// sessionless confirmation counts only for the identity it was given to.
pub fn caller_identity(server_token: Option<&str>, credentials: &Credentials) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [
        server_token.unwrap_or(""),
        credentials.token.as_ref().map_or("", |t| t.expose()),
        credentials.base.as_str(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A request's session, checked but not built yet: building it ([`ResolvedSession::session`])
/// resolves its categories and makes the key of its secret handles, which a request in a session
/// that exists does not need.
#[derive(Debug, Clone)]
pub struct ResolvedSession {
    /// The configuration: the server's, with the request's mode and categories.
    pub config: SessionConfig,
    /// The token and the base URL its requests go to.
    pub credentials: Credentials,
}

impl ResolvedSession {
    /// The session (unknown categories are refused here).
    pub fn session(self) -> Result<Session, RequestError> {
        Ok(Session::new(&self.config, self.credentials)?)
    }
}

/// The session of a request: the bound cloud and token win, the cloud is checked against the
/// spec's clouds (never called otherwise), and the operator's `api_url` replaces it last.
pub fn session_for(
    request: &SessionRequest<'_>,
    server: ServerSettings<'_>,
) -> Result<Session, RequestError> {
    resolve(request, server)?.session()
}

/// The first half of [`session_for`]: the cloud, token, mode and categories of a request, checked.
pub fn resolve(
    request: &SessionRequest<'_>,
    server: ServerSettings<'_>,
) -> Result<ResolvedSession, RequestError> {
    let asked = present(request.cloud);
    // A bound cloud is taken as it is, empty or not: an empty one is refused, never replaced by
    // the cloud a client asks for (the bound token would go there).
    let bound = request.bound_cloud;
    if let (Some(asked), Some(bound)) = (asked, bound)
        && cloud_base(asked).ok() != cloud_base(bound).ok()
    {
        return Err(RequestError::OtherCloud {
            bound: bound.to_string(),
        });
    }
    let cloud = bound
        .or(asked)
        .or(present(server.default_cloud))
        .ok_or(RequestError::MissingCloud)?;
    let base = cloud_base(cloud)?;
    let mut config = server.defaults.clone();
    if let Some(mode) = present(request.mode) {
        config.mode = mode.parse::<ToolMode>()?;
    }
    if let Some(categories) = present(request.categories) {
        config.categories = categories
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
    }
    let token = request
        .bound_token
        .clone()
        .or_else(|| request.token.clone())
        .filter(|t| !t.trim().is_empty());
    let credentials = Credentials {
        token: token.map(Secret::new),
        base: server.api_url.cloned().unwrap_or(base),
    };
    Ok(ResolvedSession {
        config,
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_credentials_win_and_clouds_are_checked() {
        let defaults = SessionConfig::default();
        let server = ServerSettings {
            defaults: &defaults,
            default_cloud: None,
            api_url: None,
        };
        let request = SessionRequest {
            cloud: Some("api.eu.mist.com"),
            bound_cloud: Some("api.mist.com"),
            ..Default::default()
        };
        assert!(matches!(
            session_for(&request, server),
            Err(RequestError::OtherCloud { .. })
        ));
        let missing = SessionRequest::default();
        assert_eq!(
            session_for(&missing, server).err(),
            Some(RequestError::MissingCloud)
        );
        let bad = SessionRequest {
            cloud: Some("evil.example.com"),
            ..Default::default()
        };
        assert!(matches!(
            session_for(&bad, server),
            Err(RequestError::Cloud(_))
        ));
        let empty_bound = SessionRequest {
            cloud: Some("api.eu.mist.com"),
            bound_cloud: Some(""),
            bound_token: Some("bound".into()),
            ..Default::default()
        };
        assert!(session_for(&empty_bound, server).is_err());
        let ok = SessionRequest {
            cloud: Some("api.eu.mist.com"),
            mode: Some("minimal"),
            token: Some("client".into()),
            bound_token: Some("bound".into()),
            ..Default::default()
        };
        let session = session_for(&ok, server).expect("a session");
        assert_eq!(session.mode, ToolMode::Minimal);
        assert_eq!(
            session.credentials.token.as_ref().map(|t| t.expose()),
            Some("bound")
        );
        assert_eq!(
            session.credentials.base.as_str(),
            "https://api.eu.mist.com/"
        );
    }
}
