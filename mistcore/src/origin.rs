//! Which browser `Origin`s an HTTP frontend serves (the native server and the edge module).
//!
//! The MCP transport requires servers to validate `Origin`, against DNS rebinding and pages
//! that post to a local server. A request without `Origin` comes from a non-browser client and
//! is served. With one, it is served only when the origin is listed by the operator, is the
//! server's own (its host and port are the request's `Host`), or, for a server bound to
//! loopback, is itself a loopback origin (`http://localhost:5173` of a local tool).

use url::Url;

/// What a server knows when it judges an `Origin`.
#[derive(Debug, Clone, Copy)]
pub struct OriginPolicy<'a> {
    /// The operator's list (`--allowed-origins`, `MISTMCP_ALLOWED_ORIGINS`): exact origins such
    /// as `https://app.example.com`.
    pub listed: &'a [String],
    /// Whether the server listens on loopback only.
    pub loopback_server: bool,
}

/// Whether a host name or address (IPv6 in brackets or not) is loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host[:port]` of a URL, as a `Host` header names it (the port only when the URL has one).
fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

impl OriginPolicy<'_> {
    /// Whether a request with this `Origin` and `Host` is served.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim();
        if self
            .listed
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let Ok(url) = Url::parse(origin) else {
            return false;
        };
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        if let (Some(own), Some(host)) = (authority(&url), host)
            && own.eq_ignore_ascii_case(host.trim())
        {
            return true;
        }
        self.loopback_server && url.host_str().is_some_and(is_loopback_host)
    }
}

#[cfg(test)]
mod tests {
    use super::OriginPolicy;

    #[test]
    fn foreign_origins_are_refused_unless_listed() {
        let listed = vec!["https://app.example.com".to_string()];
        let local = OriginPolicy {
            listed: &[],
            loopback_server: true,
        };
        assert!(!local.allows("https://evil.example.com", Some("127.0.0.1:8000")));
        assert!(local.allows("http://localhost:5173", Some("127.0.0.1:8000")));
        assert!(local.allows("http://[::1]:3000", Some("127.0.0.1:8000")));
        assert!(local.allows("http://127.0.0.1:8000", Some("127.0.0.1:8000")));
        assert!(!local.allows("null", Some("127.0.0.1:8000")));
        let public = OriginPolicy {
            listed: &listed,
            loopback_server: false,
        };
        assert!(!public.allows("http://localhost:5173", Some("mcp.example.com")));
        assert!(public.allows("https://mcp.example.com", Some("mcp.example.com")));
        assert!(!public.allows("https://mcp.example.com:444", Some("mcp.example.com")));
        assert!(public.allows("https://app.example.com", Some("mcp.example.com")));
        assert!(!public.allows("https://app.example.com.evil.io", Some("mcp.example.com")));
    }
}
