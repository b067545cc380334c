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
    /// Whether the request's `Host` was checked against an allow-list: only then does an origin
    /// naming that host count as the server's own (else a page could name itself in both).
    pub host_checked: bool,
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

/// Whether a listed origin (`https://app.example.com`, `http://localhost:*`) covers `url`:
/// same scheme and host, and the same port (default ports made explicit) or any with `:*`.
fn covers(listed: &str, url: &Url) -> bool {
    let listed = listed.trim().trim_end_matches('/');
    let (listed, any_port) = match listed.strip_suffix(":*") {
        Some(rest) => (rest, true),
        None => (listed, false),
    };
    let Ok(want) = Url::parse(listed) else {
        return false;
    };
    want.scheme() == url.scheme()
        && want.host_str().is_some_and(|h| Some(h) == url.host_str())
        && (any_port || want.port_or_known_default() == url.port_or_known_default())
}

impl OriginPolicy<'_> {
    /// Whether a request with this `Origin` and `Host` is served.
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let Ok(url) = Url::parse(origin.trim()) else {
            return false;
        };
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        if self.listed.iter().any(|listed| covers(listed, &url)) {
            return true;
        }
        if self.host_checked
            && let (Some(own), Some(host)) = (authority(&url), host)
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
            host_checked: true,
        };
        assert!(!local.allows("https://evil.example.com", Some("127.0.0.1:8000")));
        assert!(local.allows("http://localhost:5173", Some("127.0.0.1:8000")));
        assert!(local.allows("http://[::1]:3000", Some("127.0.0.1:8000")));
        assert!(local.allows("http://127.0.0.1:8000", Some("127.0.0.1:8000")));
        assert!(!local.allows("null", Some("127.0.0.1:8000")));
        let public = OriginPolicy {
            listed: &listed,
            loopback_server: false,
            host_checked: true,
        };
        assert!(!public.allows("http://localhost:5173", Some("mcp.example.com")));
        assert!(public.allows("https://mcp.example.com", Some("mcp.example.com")));
        assert!(!public.allows("https://mcp.example.com:444", Some("mcp.example.com")));
        assert!(public.allows("https://app.example.com", Some("mcp.example.com")));
        assert!(!public.allows("https://app.example.com.evil.io", Some("mcp.example.com")));
        assert!(public.allows("https://app.example.com:443", Some("mcp.example.com")));
        assert!(!public.allows("http://app.example.com", Some("mcp.example.com")));
        // Without a host allow-list, naming the Host is no proof of being the server.
        let open = OriginPolicy {
            listed: &[],
            loopback_server: false,
            host_checked: false,
        };
        assert!(!open.allows("http://evil.com:8000", Some("evil.com:8000")));
        let wildcard = vec!["http://localhost:*".to_string()];
        let tools = OriginPolicy {
            listed: &wildcard,
            loopback_server: false,
            host_checked: true,
        };
        assert!(tools.allows("http://localhost:5173", Some("mcp.example.com")));
        assert!(!tools.allows("https://localhost:5173", Some("mcp.example.com")));
    }
}
