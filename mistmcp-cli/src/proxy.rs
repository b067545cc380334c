//! Which HTTP proxy a connection to Mist goes through, read from the environment as curl reads it,
//! for the API client (handed to reqwest) and the WebSocket stream (a CONNECT tunnel opened here).
//!
//! - `https_proxy` / `HTTPS_PROXY` for `https` and `wss` URLs, `http_proxy` / `HTTP_PROXY` for
//!   `http` and `ws` ones, `all_proxy` / `ALL_PROXY` for either when its own is unset; the
//!   lowercase name first, empty values count as unset.
//! - A proxy is `http://[user:password@]host[:port]` (port 80 by default) or `host:port`; its
//!   credentials are sent as `Proxy-Authorization: Basic` and never shown: [`ProxyServer`]
//!   displays and debug-prints without them. TLS to the proxy itself (`https://`) and SOCKS are
//!   not supported and are an error that names the variable.
//! - `no_proxy` / `NO_PROXY`: see [`NoProxy`].

use base64::Engine as _;
use std::fmt;
use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A proxy variable that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The value is not a proxy URL we can use (the text never holds its credentials).
    #[error("{variable}: {problem}; set it to http://[user:password@]host:port or unset it")]
    BadValue {
        /// The variable, e.g. `HTTPS_PROXY`.
        variable: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why a tunnel through the proxy could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TunnelError {
    /// The proxy could not be reached or the connection broke.
    #[error("cannot reach the proxy {proxy}: {source}")]
    Io {
        /// The proxy, without credentials.
        proxy: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The proxy wants credentials, or refused the ones sent.
    #[error(
        "the proxy {proxy} answered 407 Proxy Authentication Required: {}",
        if *sent_credentials { "it refused the credentials of the proxy URL" } else { "put them in the proxy URL: http://user:password@host:port" }
    )]
    AuthenticationRequired {
        /// The proxy, without credentials.
        proxy: String,
        /// Whether credentials were sent.
        sent_credentials: bool,
    },
    /// The proxy answered the CONNECT with another status.
    #[error("the proxy {proxy} refused the tunnel to {target}: {status}")]
    Refused {
        /// The proxy, without credentials.
        proxy: String,
        /// `host:port` asked for.
        target: String,
        /// The status code and its standard reason (the proxy's own words are not repeated).
        status: String,
    },
    /// The proxy's answer was not HTTP, or too long.
    #[error("the proxy {proxy} answered the CONNECT with something that is not HTTP")]
    Garbled {
        /// The proxy, without credentials.
        proxy: String,
    },
}

/// The `Proxy-Authorization` header value of a proxy's credentials; shown as `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyAuthorization(String);

impl ProxyAuthorization {
    /// `Basic base64(user:password)`.
    fn basic(user: &str, password: &str) -> Self {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        ProxyAuthorization(format!("Basic {encoded}"))
    }

    /// The header value, to be put in a request and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ProxyAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProxyAuthorization(<redacted>)")
    }
}

/// One HTTP proxy: where it is and the credentials to send it.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyServer {
    /// Its host name or address (an IPv6 address in brackets).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The credentials of its URL, if any.
    pub authorization: Option<ProxyAuthorization>,
}

impl ProxyServer {
    /// Parses a proxy variable's value (`variable` names it in errors).
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ProxyError> {
        let bad = |problem: String| ProxyError::BadValue { variable, problem };
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        // The error of the URL parser does not repeat the value: no credentials in it.
        let url =
            url::Url::parse(&with_scheme).map_err(|e| bad(format!("not a proxy URL ({e})")))?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(bad(
                    "TLS to the proxy itself (https://) is not supported, only http:// proxies (the tunnel inside is TLS all the same)".into(),
                ));
            }
            other => return Err(bad(format!("{other}:// proxies are not supported"))),
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => format!("[{a}]"),
            _ => return Err(bad("no proxy host".into())),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let authorization = (!url.username().is_empty() || url.password().is_some()).then(|| {
            ProxyAuthorization::basic(
                &decode(url.username()),
                &decode(url.password().unwrap_or("")),
            )
        });
        Ok(ProxyServer {
            host,
            port,
            authorization,
        })
    }

    /// The proxy's URL without credentials (`http://host:port`), for reqwest.
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}:{}", self.host, self.port))
            .expect("a host and port taken from a parsed URL form a URL")
    }

    /// Opens a TCP connection to the proxy and a tunnel through it to `host:port`.
    pub async fn open_tunnel(
        &self,
        host: &str,
        port: u16,
    ) -> Result<tokio::net::TcpStream, TunnelError> {
        let address = (
            self.host.trim_start_matches('[').trim_end_matches(']'),
            self.port,
        );
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|source| TunnelError::Io {
                proxy: self.to_string(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        self.connect(&mut stream, host, port).await?;
        Ok(stream)
    }

    /// The CONNECT exchange on a connection to the proxy: asks for `host:port`, reads the
    /// answer's head byte by byte (nothing of the tunnelled bytes is consumed) and accepts a 2xx.
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        host: &str,
        port: u16,
    ) -> Result<(), TunnelError> {
        let proxy = self.to_string();
        let io = |source| TunnelError::Io {
            proxy: proxy.clone(),
            source,
        };
        let target = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = &self.authorization {
            request.push_str("Proxy-Authorization: ");
            request.push_str(authorization.expose());
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        stream.flush().await.map_err(io)?;

        const MAX_HEAD: usize = 16 * 1024;
        let mut head = Vec::with_capacity(256);
        while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
            if head.len() >= MAX_HEAD {
                return Err(TunnelError::Garbled { proxy });
            }
            let mut byte = [0u8; 1];
            match stream.read(&mut byte).await.map_err(io)? {
                0 => {
                    return Err(io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the proxy closed the connection before answering the CONNECT",
                    )));
                }
                _ => head.push(byte[0]),
            }
        }
        let status_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let status = std::str::from_utf8(status_line)
            .ok()
            .and_then(|line| {
                let mut parts = line.split_whitespace();
                let version = parts.next()?;
                let code = parts.next()?;
                (version.starts_with("HTTP/1.") && code.len() == 3)
                    .then(|| code.parse::<u16>().ok())
                    .flatten()
            })
            .ok_or_else(|| TunnelError::Garbled {
                proxy: proxy.clone(),
            })?;
        match status {
            200..=299 => Ok(()),
            407 => Err(TunnelError::AuthenticationRequired {
                proxy,
                sent_credentials: self.authorization.is_some(),
            }),
            code => Err(TunnelError::Refused {
                proxy,
                target,
                status: match http::StatusCode::from_u16(code)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                {
                    Some(reason) => format!("{code} {reason}"),
                    None => code.to_string(),
                },
            }),
        }
    }
}

impl fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}", self.host, self.port)
    }
}

impl fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyServer")
            .field("url", &self.to_string())
            .field("authorization", &self.authorization)
            .finish()
    }
}

/// `NO_PROXY`: the hosts reached directly, as curl reads it. Entries are separated by commas or
/// spaces and compared without case:
/// - `*` alone: every host;
/// - a name (`example.com`, `.example.com`, `*.example.com`): that host and every host under it
///   (`www.example.com`, not `badexample.com`);
/// - an address (`10.1.2.3`, `::1`, `[::1]`) or a network (`10.0.0.0/8`, `fd00::/8`): hosts written
///   as such addresses (names are not resolved to compare);
/// - any of these with `:port` (`[::1]:8443`, `proxy.test:3128`): only that port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<NoProxyEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxyEntry {
    Everything,
    Domain {
        name: String,
        port: Option<u16>,
    },
    Network {
        address: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
}

impl NoProxy {
    /// Parses a `NO_PROXY` value; entries that mean nothing (`:x`, `/99`) are passed over.
    pub fn parse(list: &str) -> Self {
        let entries = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .filter_map(NoProxyEntry::parse)
            .collect();
        NoProxy { entries }
    }

    /// Whether `host` (a name or an address, IPv6 with or without brackets) on `port` is
    /// reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.');
        let host = host.to_ascii_lowercase();
        let address = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            NoProxyEntry::Everything => true,
            NoProxyEntry::Domain { name, port: p } => {
                p.is_none_or(|p| p == port)
                    && (host == *name
                        || (host.len() > name.len()
                            && host.ends_with(name.as_str())
                            && host.as_bytes()[host.len() - name.len() - 1] == b'.'))
            }
            NoProxyEntry::Network {
                address: network,
                prefix,
                port: p,
            } => {
                p.is_none_or(|p| p == port)
                    && address.is_some_and(|a| in_network(a, *network, *prefix))
            }
        })
    }
}

impl NoProxyEntry {
    fn parse(entry: &str) -> Option<Self> {
        if entry == "*" {
            return Some(NoProxyEntry::Everything);
        }
        let entry = entry.to_ascii_lowercase();
        // `[v6]`, `[v6]:port`, `[v6]/bits`; a bare IPv6 (more than one colon) has no port;
        // otherwise a last `:port`.
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let (inside, after) = rest.split_once(']')?;
            if after.is_empty() {
                (inside.to_string(), None)
            } else if let Some(port) = after.strip_prefix(':') {
                (inside.to_string(), Some(port.parse::<u16>().ok()?))
            } else {
                (
                    format!(
                        "{inside}{}",
                        after.strip_prefix('/').map(|b| format!("/{b}"))?
                    ),
                    None,
                )
            }
        } else if entry.matches(':').count() > 1 {
            (entry.clone(), None)
        } else if let Some((name, port)) = entry.rsplit_once(':') {
            (name.to_string(), Some(port.parse::<u16>().ok()?))
        } else {
            (entry.clone(), None)
        };
        let (address, prefix) = match host.split_once('/') {
            Some((address, bits)) => (address, Some(bits.parse::<u8>().ok()?)),
            None => (host.as_str(), None),
        };
        if let Ok(address) = address.parse::<IpAddr>() {
            let full = if address.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(full);
            return (prefix <= full).then_some(NoProxyEntry::Network {
                address,
                prefix,
                port,
            });
        }
        if prefix.is_some() {
            return None;
        }
        let name = host
            .trim_start_matches('*')
            .trim_start_matches('.')
            .trim_end_matches('.');
        (!name.is_empty()).then(|| NoProxyEntry::Domain {
            name: name.to_string(),
            port,
        })
    }
}

/// Whether `address` is in `network/prefix` (an IPv4 address never in an IPv6 network).
fn in_network(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let (a, n, bits) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32u32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128u32),
        _ => return false,
    };
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return true;
    }
    let shift = bits - prefix;
    (a >> shift) == (n >> shift)
}

/// The proxies of the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// For `https` and `wss` URLs.
    pub https: Option<ProxyServer>,
    /// For `http` and `ws` URLs.
    pub http: Option<ProxyServer>,
    /// The hosts reached directly.
    pub no_proxy: NoProxy,
}

impl ProxySettings {
    /// The proxies of the process environment.
    pub fn from_env() -> Result<Self, ProxyError> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// The proxies of the variables `env` returns.
    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|name| {
                env(name)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (*name, v))
            })
        };
        let server = |names: &[&'static str]| -> Result<Option<ProxyServer>, ProxyError> {
            first(names)
                .map(|(name, value)| ProxyServer::parse(name, &value))
                .transpose()
        };
        Ok(ProxySettings {
            https: server(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"])?,
            http: server(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"])?,
            no_proxy: first(&["no_proxy", "NO_PROXY"])
                .map(|(_, list)| NoProxy::parse(&list))
                .unwrap_or_default(),
        })
    }

    /// The proxy for `url` (`https`, `wss`, `http` or `ws`), or `None` to go directly.
    pub fn for_url(&self, url: &url::Url) -> Option<&ProxyServer> {
        let server = match url.scheme() {
            "https" | "wss" => self.https.as_ref(),
            "http" | "ws" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        (!self.no_proxy.matches(host, port)).then_some(server)
    }

    /// The same choice for reqwest: no proxy of its own reading, ours per scheme, each with its
    /// credentials as a sensitive header (never in a URL an error could show).
    pub fn apply_to(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let mut builder = builder.no_proxy();
        for (scheme, server) in [("https", &self.https), ("http", &self.http)] {
            let Some(server) = server.clone() else {
                continue;
            };
            let settings = self.clone();
            let target = server.url();
            let mut proxy = reqwest::Proxy::custom(move |url| {
                (url.scheme() == scheme && settings.for_url(url).is_some()).then(|| target.clone())
            });
            if let Some(authorization) = &server.authorization
                && let Ok(mut value) =
                    reqwest::header::HeaderValue::from_str(authorization.expose())
            {
                value.set_sensitive(true);
                proxy = proxy.custom_http_auth(value);
            }
            builder = builder.proxy(proxy);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<ProxySettings, ProxyError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxySettings::from_lookup(&move |name| map.get(name).cloned())
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("a URL")
    }

    #[test]
    fn no_proxy_names_match_the_host_and_below_it_only() {
        let list = NoProxy::parse("example.com, .corp.test *.lab.test");
        for host in [
            "example.com",
            "www.example.com",
            "EXAMPLE.com.",
            "a.corp.test",
            "corp.test",
            "x.lab.test",
        ] {
            assert!(list.matches(host, 443), "{host}");
        }
        for host in [
            "badexample.com",
            "example.com.evil",
            "lab.test.evil",
            "other.test",
        ] {
            assert!(!list.matches(host, 443), "{host}");
        }
    }

    #[test]
    fn no_proxy_star_addresses_networks_and_ports() {
        assert!(NoProxy::parse("*").matches("anything", 1));
        assert!(!NoProxy::parse("*.").matches("anything", 1));
        let list = NoProxy::parse(
            "10.0.0.0/8,192.168.1.7,::1,[fd00::]/8,proxy.test:3128,[2001:db8::1]:8443,127.0.0.1:9",
        );
        assert!(list.matches("10.20.30.40", 443));
        assert!(!list.matches("11.0.0.1", 443));
        assert!(list.matches("192.168.1.7", 80));
        assert!(!list.matches("192.168.1.8", 80));
        assert!(list.matches("[::1]", 443));
        assert!(list.matches("::1", 443));
        assert!(list.matches("fd12::5", 443));
        assert!(list.matches("proxy.test", 3128));
        assert!(!list.matches("proxy.test", 443));
        assert!(list.matches("[2001:db8::1]", 8443));
        assert!(!list.matches("2001:db8::1", 443));
        assert!(list.matches("127.0.0.1", 9));
        assert!(!list.matches("127.0.0.1", 10));
        // Names are not resolved: 10.x does not cover a name.
        assert!(!list.matches("ten.example", 443));
        // Nonsense is passed over, not fatal.
        assert_eq!(
            NoProxy::parse(":x, /99, host:notaport, 10.0.0.0/99").entries,
            vec![]
        );
        assert_eq!(NoProxy::parse("").entries, vec![]);
    }

    #[test]
    fn the_variables_are_read_as_curl_reads_them() {
        let s = settings(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "lower:2"),
            ("ALL_PROXY", "http://all:3"),
            ("NO_PROXY", "direct.test"),
        ])
        .expect("settings");
        assert_eq!(
            s.https.as_ref().map(|p| p.to_string()).as_deref(),
            Some("http://lower:2")
        );
        assert_eq!(
            s.http.as_ref().map(|p| p.to_string()).as_deref(),
            Some("http://all:3")
        );
        assert_eq!(
            s.for_url(&url("wss://api-ws.mist.com/x")).map(|p| p.port),
            Some(2)
        );
        assert_eq!(
            s.for_url(&url("ws://127.0.0.1:5/x")).map(|p| p.port),
            Some(3)
        );
        assert_eq!(s.for_url(&url("https://direct.test/x")), None);
        assert_eq!(s.for_url(&url("https://a.direct.test:8443/x")), None);
        let empty = settings(&[("HTTPS_PROXY", " "), ("http_proxy", "")]).expect("settings");
        assert_eq!(empty, ProxySettings::default());
        assert_eq!(empty.for_url(&url("https://api.mist.com")), None);
        let port80 = settings(&[("HTTPS_PROXY", "http://proxy.corp")]).expect("settings");
        assert_eq!(port80.https.map(|p| p.port), Some(80));
    }

    #[test]
    fn credentials_become_a_header_and_never_text() {
        let s = settings(&[("HTTPS_PROXY", "http://al%40ice:s3cr%3At@proxy.corp:3128")])
            .expect("settings");
        let proxy = s.https.expect("a proxy");
        let expected = base64::engine::general_purpose::STANDARD.encode("al@ice:s3cr:t");
        assert_eq!(
            proxy.authorization.as_ref().map(ProxyAuthorization::expose),
            Some(format!("Basic {expected}").as_str())
        );
        for text in [
            proxy.to_string(),
            format!("{proxy:?}"),
            proxy.url().to_string(),
        ] {
            assert!(
                !text.contains("s3cr") && !text.contains(&expected) && !text.contains("al%40ice"),
                "{text}"
            );
        }
    }

    #[test]
    fn unusable_proxies_are_errors_that_name_the_variable_without_the_password() {
        for (value, says) in [
            ("https://user:hunter2@proxy:443", "https://"),
            ("socks5://user:hunter2@proxy:1080", "socks5://"),
            ("http://user:hunter2@:3128", "proxy"),
            ("http://user:hunter2@proxy:99999", "not a proxy URL"),
        ] {
            let text = settings(&[("HTTPS_PROXY", value)])
                .expect_err(value)
                .to_string();
            assert!(
                text.starts_with("HTTPS_PROXY: ") && text.contains(says),
                "{text}"
            );
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    /// A proxy on a real socket: what it is sent, and its answers.
    async fn exchange(answer: &'static [u8], proxy_url: &str) -> (Result<(), TunnelError>, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.ends_with(b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            socket.write_all(answer).await.expect("write");
            // Then the far end's first bytes, which must stay in the tunnel.
            socket.write_all(b"TUNNELLED").await.expect("write");
            String::from_utf8(seen).expect("text")
        });
        let proxy =
            ProxyServer::parse("HTTPS_PROXY", &proxy_url.replace("PORT", &port.to_string()))
                .expect("a proxy");
        let outcome = match proxy.open_tunnel("api.mist.test", 443).await {
            Ok(mut stream) => {
                let mut rest = [0u8; 9];
                stream
                    .read_exact(&mut rest)
                    .await
                    .expect("the tunnelled bytes");
                assert_eq!(&rest, b"TUNNELLED");
                Ok(())
            }
            Err(e) => Err(e),
        };
        (outcome, server.await.expect("the proxy ran"))
    }

    #[tokio::test]
    async fn connect_asks_for_the_target_and_keeps_the_tunnelled_bytes() {
        let (outcome, seen) = exchange(
            b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n",
            "http://127.0.0.1:PORT",
        )
        .await;
        outcome.expect("a tunnel");
        assert_eq!(
            seen,
            "CONNECT api.mist.test:443 HTTP/1.1\r\nHost: api.mist.test:443\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn connect_sends_basic_credentials_and_explains_a_407() {
        let (outcome, seen) = exchange(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n",
            "http://user:pa%20ss@127.0.0.1:PORT",
        )
        .await;
        let basic = base64::engine::general_purpose::STANDARD.encode("user:pa ss");
        assert!(
            seen.contains(&format!("\r\nProxy-Authorization: Basic {basic}\r\n")),
            "{seen}"
        );
        let text = outcome.expect_err("refused").to_string();
        assert!(
            text.contains("407") && text.contains("refused the credentials"),
            "{text}"
        );
        assert!(
            !text.contains("pa ss") && !text.contains(&basic) && !text.contains("user"),
            "{text}"
        );

        let (outcome, _) = exchange(b"HTTP/1.0 407 x\r\n\r\n", "127.0.0.1:PORT").await;
        let text = outcome.expect_err("refused").to_string();
        assert!(text.contains("http://user:password@host:port"), "{text}");
    }

    #[tokio::test]
    async fn connect_refusals_and_nonsense_are_errors() {
        let (outcome, _) = exchange(
            b"HTTP/1.1 403 Go away with your secret\r\n\r\n",
            "127.0.0.1:PORT",
        )
        .await;
        let text = outcome.expect_err("refused").to_string();
        assert!(
            text.contains("403 Forbidden") && text.contains("api.mist.test:443"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        let (outcome, _) = exchange(b"SSH-2.0-OpenSSH\r\n\r\n", "127.0.0.1:PORT").await;
        assert!(matches!(outcome, Err(TunnelError::Garbled { .. })));
    }

    #[tokio::test]
    async fn connect_to_a_closed_port_names_the_proxy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let port = listener.local_addr().expect("an address").port();
        drop(listener);
        let proxy =
            ProxyServer::parse("HTTPS_PROXY", &format!("http://u:hunter2@127.0.0.1:{port}"))
                .expect("a proxy");
        let text = proxy
            .open_tunnel("h", 443)
            .await
            .expect_err("closed")
            .to_string();
        assert!(
            text.contains(&format!("http://127.0.0.1:{port}")) && !text.contains("hunter2"),
            "{text}"
        );
    }
}
