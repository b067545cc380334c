//! Which certificate authorities the native frontends trust when they talk to Mist: one rustls
//! [`ClientConfig`] (ring), used by the API client (reqwest) and by the WebSocket stream alike.
//!
//! The roots are
//! - the certificates named by `SSL_CERT_FILE` (a PEM file) and `SSL_CERT_DIR` (directories of PEM
//!   files, `:`-separated) when either is set: the CA of a TLS-inspecting proxy or of a private
//!   deployment. They replace the platform's store (as OpenSSL and `rustls-native-certs` do), and
//!   a file that cannot be read, holds a broken PEM block or no certificate at all is an error that
//!   names it: the user asked for it, so going on without it would only turn into an "unknown
//!   issuer" later;
//! - otherwise the platform's store (`/etc/ssl/certs` and the like on Linux, the keychain on macOS,
//!   the Windows store), read by `rustls-native-certs`; a broken file in it is logged and skipped,
//!   as OpenSSL does;
//! - and always the Mozilla roots bundled in the binary (`webpki-roots`), the binaries' only roots
//!   until now: the Mist clouds keep working in a scratch container without a store, and beside a
//!   private CA that only some hosts (those a proxy inspects) need.

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// The variable naming a PEM file of trusted CA certificates.
pub const CERT_FILE_VARIABLE: &str = "SSL_CERT_FILE";
/// The variable naming directories (`:`-separated) of PEM files of trusted CA certificates.
pub const CERT_DIR_VARIABLE: &str = "SSL_CERT_DIR";

/// Why the trusted roots could not be set up.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// A file or directory named by `SSL_CERT_FILE` / `SSL_CERT_DIR` could not be read or parsed.
    #[error(
        "{variable}: cannot use {path}: {problem}; point {variable} at PEM files of CA certificates (-----BEGIN CERTIFICATE-----) or unset it"
    )]
    Unreadable {
        /// `SSL_CERT_FILE` or `SSL_CERT_DIR`.
        variable: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// What went wrong, in words.
        problem: String,
    },
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR` named places that hold no certificate at all.
    #[error(
        "{variable}={path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at the CA certificate of your proxy or deployment, or unset it"
    )]
    NoCertificate {
        /// `SSL_CERT_FILE` or `SSL_CERT_DIR`.
        variable: &'static str,
        /// The value of the variable.
        path: String,
    },
    /// rustls refused the configuration (not expected with the ring provider).
    #[error("TLS setup failed: {0}")]
    Rustls(String),
}

/// Where the roots came from, for the debug log and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RootCounts {
    /// Certificates from `SSL_CERT_FILE` / `SSL_CERT_DIR`.
    pub configured: usize,
    /// Certificates from the platform's store (0 when the variables are set).
    pub platform: usize,
    /// The bundled Mozilla roots.
    pub bundled: usize,
}

/// The process's TLS client configuration, built on first use and shared (reading the platform
/// store takes milliseconds, so it is not repeated for every client).
pub fn client_config() -> Result<Arc<ClientConfig>, TrustError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, TrustError>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let (config, counts) = build_client_config(&|name| std::env::var_os(name))?;
            tracing::debug!(
                configured = counts.configured,
                platform = counts.platform,
                bundled = counts.bundled,
                "trusted TLS roots"
            );
            Ok(Arc::new(config))
        })
        .clone()
}

/// Builds the configuration from the variables `env` returns (the process environment in
/// [`client_config`], a map in tests).
pub fn build_client_config(
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(ClientConfig, RootCounts), TrustError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut counts = RootCounts {
        bundled: roots.len(),
        ..RootCounts::default()
    };
    let file = env(CERT_FILE_VARIABLE);
    let dirs = env(CERT_DIR_VARIABLE);
    if file.is_some() || dirs.is_some() {
        let mut certs = Vec::new();
        if let Some(file) = &file {
            certs.extend(configured_file(Path::new(file))?);
        }
        if let Some(dirs) = &dirs {
            for dir in std::env::split_paths(dirs).filter(|d| !d.as_os_str().is_empty()) {
                certs.extend(configured_dir(&dir)?);
            }
        }
        if certs.is_empty() {
            let mut named = Vec::new();
            for (variable, value) in [(CERT_FILE_VARIABLE, &file), (CERT_DIR_VARIABLE, &dirs)] {
                if let Some(value) = value {
                    named.push((variable, value.to_string_lossy().into_owned()));
                }
            }
            let (variable, path) = named.remove(0);
            return Err(TrustError::NoCertificate { variable, path });
        }
        for (path, cert) in certs {
            roots.add(cert).map_err(|e| TrustError::Unreadable {
                variable: if file.as_deref() == Some(path.as_os_str()) {
                    CERT_FILE_VARIABLE
                } else {
                    CERT_DIR_VARIABLE
                },
                path,
                problem: format!("a certificate in it is not a usable CA certificate ({e})"),
            })?;
            counts.configured += 1;
        }
    } else {
        let platform = rustls_native_certs::load_native_certs();
        for error in &platform.errors {
            // Somebody else's broken file: say so, keep the rest (as OpenSSL does).
            tracing::warn!(problem = %error, "skipped a file of the platform's trust store");
        }
        let (added, ignored) = roots.add_parsable_certificates(platform.certs);
        if ignored > 0 {
            tracing::warn!(
                ignored,
                "skipped unusable certificates of the platform's trust store"
            );
        }
        counts.platform = added;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TrustError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((config, counts))
}

/// The certificates of `SSL_CERT_FILE`, each with the file it came from.
fn configured_file(path: &Path) -> Result<Vec<(PathBuf, CertificateDer<'static>)>, TrustError> {
    read_pem_file(path).map_err(|problem| TrustError::Unreadable {
        variable: CERT_FILE_VARIABLE,
        path: path.to_path_buf(),
        problem,
    })
}

/// The certificates of every file of one `SSL_CERT_DIR` directory (hashed names like `1a2b3c4d.0`
/// or any other; files without a certificate, such as a README, are passed over).
fn configured_dir(dir: &Path) -> Result<Vec<(PathBuf, CertificateDer<'static>)>, TrustError> {
    let unreadable = |path: &Path, problem: String| TrustError::Unreadable {
        variable: CERT_DIR_VARIABLE,
        path: path.to_path_buf(),
        problem,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| unreadable(dir, e.to_string()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| unreadable(dir, e.to_string()))?;
        // Follows symlinks, as `openssl rehash` makes them.
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            paths.push(entry.path());
        }
    }
    paths.sort();
    let mut certs = Vec::new();
    for path in paths {
        certs.extend(read_pem_file(&path).map_err(|problem| unreadable(&path, problem))?);
    }
    Ok(certs)
}

/// The certificates of one PEM file, through `rustls-native-certs` (one file at a time, so that
/// an error names its file).
fn read_pem_file(path: &Path) -> Result<Vec<(PathBuf, CertificateDer<'static>)>, String> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(e.to_string());
    }
    let loaded = rustls_native_certs::load_certs_from_paths(Some(path), None);
    if let Some(error) = loaded.errors.first() {
        return Err(error.to_string());
    }
    Ok(loaded
        .certs
        .into_iter()
        .map(|cert| (path.to_path_buf(), cert))
        .collect())
}

/// When `error` (or one of its causes) is a refused server certificate: a sentence for the user
/// that names `host` and, for an unknown issuer, says how to trust a private CA.
pub fn certificate_problem(
    error: &(dyn std::error::Error + 'static),
    host: &str,
) -> Option<String> {
    let mut next = Some(error);
    while let Some(cause) = next {
        // An io::Error's source() skips the error it wraps (and I/O errors wrap each other):
        // look inside it.
        if let Some(inner) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(problem) = certificate_problem(inner, host)
        {
            return Some(problem);
        }
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            cause.downcast_ref::<rustls::Error>()
        {
            let hint = match problem {
                rustls::CertificateError::UnknownIssuer
                | rustls::CertificateError::BadSignature => {
                    "; behind a TLS-inspecting proxy or for a private deployment, set SSL_CERT_FILE to its CA certificate (PEM) or SSL_CERT_DIR to a directory of them"
                }
                _ => "",
            };
            return Some(format!(
                "the TLS certificate of {host} is not trusted ({}){hint}",
                rustls::Error::InvalidCertificate(problem.clone())
            ));
        }
        next = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::ffi::OsString;

    fn env_of(pairs: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mistmcp-trust-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    }

    /// A CA certificate made for these tests (`openssl req -x509`, P-256, its key thrown away).
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBlTCCATugAwIBAgIUZSf0bD3jHSQHy+y6QTwwXSwXQ3gwCgYIKoZIzj0EAwIw
HzEdMBsGA1UEAwwUbWlzdG1jcCB1bml0IHRlc3QgQ0EwIBcNMjYxMjA3MTIwMDM0
WhgPMjEyNjExMTMxMjAwMzRaMB8xHTAbBgNVBAMMFG1pc3RtY3AgdW5pdCB0ZXN0
IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1IAEVs45pbLCLN1MFKwKRuXW
EptkJzhNQYRVnsSBdYy0J/c4I6iC2b3j4ZDTBoCMYnpSh/WPc0HA9ZXpfHuUlqNT
MFEwHQYDVR0OBBYEFL0SdJ08Va0udgmicpB2pjW74OHjMB8GA1UdIwQYMBaAFL0S
dJ08Va0udgmicpB2pjW74OHjMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwID
SAAwRQIhAMNdGOHoBTLpFq3xbtTetVS6mYLg8LcBgbfaBEiXh2kpAiBnIYFsyTZ9
g5PzN08pqpemIlSS4TOw3UiA1Ljryhz+0w==
-----END CERTIFICATE-----
";

    #[test]
    fn without_variables_the_platform_store_and_the_bundled_roots() {
        let (_, counts) = build_client_config(&|_| None).expect("a configuration");
        assert!(counts.bundled > 100, "{counts:?}");
        assert_eq!(counts.configured, 0);
    }

    #[test]
    fn a_cert_file_adds_its_ca_to_the_bundled_roots_instead_of_the_platform() {
        let dir = scratch("file");
        let file = dir.join("ca.pem");
        std::fs::write(&file, TEST_CA).expect("written");
        let (_, counts) =
            build_client_config(&env_of(&[(CERT_FILE_VARIABLE, &file)])).expect("a configuration");
        assert_eq!(counts.configured, 1);
        assert_eq!(counts.platform, 0);
        assert!(counts.bundled > 100);
    }

    #[test]
    fn a_cert_dir_is_read_file_by_file_and_passes_over_files_without_certificates() {
        let dir = scratch("dir");
        std::fs::write(dir.join("4042bcee.0"), TEST_CA).expect("written");
        std::fs::write(dir.join("README"), "not a certificate").expect("written");
        let (_, counts) =
            build_client_config(&env_of(&[(CERT_DIR_VARIABLE, &dir)])).expect("a configuration");
        assert_eq!(counts.configured, 1);
    }

    #[test]
    fn a_missing_or_broken_file_is_an_error_naming_it_and_the_fix() {
        let dir = scratch("broken");
        let missing = dir.join("missing.pem");
        let error = build_client_config(&env_of(&[(CERT_FILE_VARIABLE, &missing)]))
            .expect_err("a missing file");
        let text = error.to_string();
        assert!(
            text.contains("SSL_CERT_FILE") && text.contains("missing.pem"),
            "{text}"
        );
        assert!(text.contains("unset it"), "{text}");

        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
        )
        .expect("written");
        let text = build_client_config(&env_of(&[(CERT_FILE_VARIABLE, &broken)]))
            .expect_err("a broken file")
            .to_string();
        assert!(text.contains("broken.pem"), "{text}");

        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").expect("written");
        let text = build_client_config(&env_of(&[(CERT_FILE_VARIABLE, &empty)]))
            .expect_err("no certificate")
            .to_string();
        assert!(
            text.contains("holds no PEM certificate") && text.contains("empty.pem"),
            "{text}"
        );

        let broken_in_dir = scratch("broken-dir");
        std::fs::write(
            broken_in_dir.join("ab12cd34.0"),
            std::fs::read(&broken).expect("read"),
        )
        .expect("written");
        let text = build_client_config(&env_of(&[(CERT_DIR_VARIABLE, &broken_in_dir)]))
            .expect_err("a broken file in the directory")
            .to_string();
        assert!(
            text.contains("SSL_CERT_DIR") && text.contains("ab12cd34.0"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_issuer_is_explained_with_the_fix() {
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let text = certificate_problem(&inner, "api.example.test:443").expect("recognized");
        assert!(
            text.contains("api.example.test:443") && text.contains("SSL_CERT_FILE"),
            "{text}"
        );
        // As hyper-rustls hands it on: an I/O error around the I/O error of tokio-rustls.
        let nested = std::io::Error::other(inner);
        let text = certificate_problem(&nested, "api.example.test:443").expect("recognized");
        assert!(
            text.contains("api.example.test:443") && text.contains("SSL_CERT_FILE"),
            "{text}"
        );
        let other = std::io::Error::other("connection refused");
        assert_eq!(certificate_problem(&other, "h"), None);
    }
}
