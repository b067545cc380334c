//! Start-up checks of the native frontends: the token's security analysis
//! (`mistmcp --security-check`, `mistcli self security`) and `mistmcp --validate-config`.

use mistcore::api::{self, Credentials, HttpTransport};
use mistcore::security::{Limits, Report, analyze};
use serde_json::Value;

/// `GET /api/v1/self` with `credentials`.
pub async fn fetch_self(
    transport: &dyn HttpTransport,
    credentials: &Credentials,
) -> anyhow::Result<Value> {
    Ok(api::get_self(transport, credentials).await?.body)
}

/// The limits of the security analysis from `MIST_MAX_*` (the error names unreadable ones).
pub fn limits_from_env() -> Result<Limits, mistcore::security::LimitsError> {
    Limits::from_vars(|name| std::env::var(name).ok())
}

/// The security report of the token in `credentials`.
pub async fn security_report(
    transport: &dyn HttpTransport,
    credentials: &Credentials,
    limits: &Limits,
) -> anyhow::Result<Report> {
    Ok(analyze(&fetch_self(transport, credentials).await?, limits))
}

/// Whether strict security mode is on: `MIST_STRICT_SECURITY_MODE=true` and the risks are not
/// acknowledged (`MIST_SECURITY_RISKS_ACKNOWLEDGED=true`).
pub fn strict_security_from_env() -> bool {
    let on = |name: &str| {
        std::env::var(name)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
            .unwrap_or(false)
    };
    on("MIST_STRICT_SECURITY_MODE") && !on("MIST_SECURITY_RISKS_ACKNOWLEDGED")
}
