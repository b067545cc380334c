//! Per-client state: the tool loading mode, the enabled categories, write permission,
//! the client's declared capabilities and its credentials.

use crate::api::Credentials;
use crate::catalog::{CATEGORIES, Category, category, closest};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How many tools a session starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolMode {
    /// Only `getSelf` and `manageMcpTools`.
    Minimal,
    /// The essentials and the discovery tools; categories are enabled at run time (default).
    #[default]
    Managed,
    /// Every read tool of every category.
    All,
    /// The categories given at start-up, plus the essentials and the discovery tools.
    Custom,
}

impl ToolMode {
    /// The mode's name, as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolMode::Minimal => "minimal",
            ToolMode::Managed => "managed",
            ToolMode::All => "all",
            ToolMode::Custom => "custom",
        }
    }

    /// Whether the discovery tools (`mist_search_operations`, ...) are listed.
    pub fn has_discovery(self) -> bool {
        self != ToolMode::Minimal
    }
}

impl fmt::Display for ToolMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ToolMode {
    type Err = SessionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "minimal" => Ok(ToolMode::Minimal),
            "managed" | "" => Ok(ToolMode::Managed),
            "all" => Ok(ToolMode::All),
            "custom" => Ok(ToolMode::Custom),
            _ => Err(SessionError::UnknownMode(s.to_string())),
        }
    }
}

/// A session that cannot be set up as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Not one of the four modes.
    #[error("unknown tool loading mode `{0}`: use minimal, managed, all or custom")]
    UnknownMode(String),
    /// Category names or patterns that match no category.
    #[error("{0}")]
    UnknownCategories(String),
    /// No random source for the session's secret handles.
    #[error(transparent)]
    NoRandomness(#[from] crate::redact::NoRandomness),
    /// Custom mode without categories.
    #[error(
        "the custom mode needs categories: --categories orgs_sites,sites_devices (or MISTMCP_TOOL_CATEGORIES); call manageMcpTools without arguments to list them"
    )]
    CustomWithoutCategories,
}

/// The category of the workflow tools (not a spec tag).
pub const WORKFLOWS: &str = "workflows";
/// The category of the diagnostic tools (not a spec tag).
pub const DIAGNOSTICS: &str = "diagnostics";

/// The category of the Junos device tools (not a spec tag): listed when an inventory is configured.
pub const JUNOS: &str = "junos";

/// Every category slug: the spec's tags, then `workflows`, `diagnostics` and `junos`.
pub fn category_slugs() -> impl Iterator<Item = &'static str> {
    CATEGORIES
        .iter()
        .map(|c| c.slug)
        .chain([WORKFLOWS, DIAGNOSTICS, JUNOS])
}

/// Resolves category names and glob patterns (`sites_*`) to slugs.
///
/// Every name must match at least one category; the error names those that do not, each
/// with the closest existing names.
pub fn resolve_categories<S: AsRef<str>>(names: &[S]) -> Result<Vec<&'static str>, SessionError> {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let name = name.as_ref().trim();
        if name.is_empty() {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if lower.contains(['*', '?']) {
            let pattern = wildmatch::WildMatch::new(&lower);
            let matched: Vec<&'static str> =
                category_slugs().filter(|c| pattern.matches(c)).collect();
            if matched.is_empty() {
                unknown.push(format!("pattern `{name}` matches no category"));
            }
            found.extend(matched);
        } else if let Some(c) = category(&lower) {
            found.push(c.slug);
        } else if lower == WORKFLOWS {
            found.push(WORKFLOWS);
        } else if lower == DIAGNOSTICS {
            found.push(DIAGNOSTICS);
        } else if lower == JUNOS {
            found.push(JUNOS);
        } else {
            let near = closest(&lower, category_slugs(), 3);
            let hint = if near.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", near.join(", "))
            };
            unknown.push(format!("`{name}` is not a category{hint}"));
        }
    }
    if !unknown.is_empty() {
        return Err(SessionError::UnknownCategories(format!(
            "{}; call manageMcpTools without arguments to list the categories",
            unknown.join("; ")
        )));
    }
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// How results are returned, as the official server's `--response-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// JSON text, plus `structuredContent` `{"result": ...}` for the workflow tools (default).
    #[default]
    Json,
    /// JSON text only, without structured content or output schemas.
    String,
}

impl FromStr for ResponseFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" | "" => Ok(ResponseFormat::Json),
            "string" => Ok(ResponseFormat::String),
            other => Err(format!(
                "unknown response format `{other}`: use json or string"
            )),
        }
    }
}

/// What the client said it can do in `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCapabilities {
    /// The client can answer elicitation requests (write confirmations).
    pub elicitation: bool,
    /// The client speaks protocol 2026-07-28: nothing is kept between its requests, so
    /// `manageMcpTools` cannot enable categories for it.
    pub sessionless: bool,
}

/// How a session starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionConfig {
    /// The tool loading mode.
    pub mode: ToolMode,
    /// Category names or patterns, for the custom mode.
    pub categories: Vec<String>,
    /// Whether write operations may be offered (`--enable-write-tools`).
    pub write_tools: bool,
    /// Run writes without asking the human (`--disable-elicitation`): for trusted test setups only.
    pub skip_confirmation: bool,
    /// How results are returned.
    pub response_format: ResponseFormat,
    /// The largest tool result in bytes before it is cut (`--max-response-bytes`); `None`
    /// for no limit.
    pub max_response_bytes: Option<usize>,
    /// Refuse writes while the token has a CRITICAL risk (`MIST_STRICT_SECURITY_MODE=true`
    /// without `MIST_SECURITY_RISKS_ACKNOWLEDGED=true`).
    pub strict_security: bool,
    /// What a call without a Mist token is told to do: the frontend knows where a token comes
    /// from (an environment variable, a header, a profile). Empty: no advice.
    pub missing_token_advice: &'static str,
    /// The Junos devices reached directly (`--junos-devices`): their tools are listed.
    pub junos: Option<mistcore_junos::access::JunosDevices>,
    /// Show secrets to the model as they are (`--show-secrets`); by default they are handles.
    pub show_secrets: bool,
}

/// A change of the enabled categories, as made by `manageMcpTools`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryChange {
    /// Categories to enable.
    pub enable: Vec<&'static str>,
    /// Categories to disable.
    pub disable: Vec<&'static str>,
}

/// The state of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The mode the session started in.
    pub mode: ToolMode,
    /// The categories whose operation tools are listed.
    /// Shared between the snapshots a session's calls work on (cloning a session per call must
    /// not copy the 203 categories of the `all` mode).
    pub enabled: Arc<BTreeSet<&'static str>>,
    /// Whether write operations may be offered.
    pub write_tools: bool,
    /// Whether writes run without a human confirmation.
    pub skip_confirmation: bool,
    /// How results are returned.
    pub response_format: ResponseFormat,
    /// What the client can do.
    pub client: ClientCapabilities,
    /// The token and cloud of this client.
    pub credentials: Credentials,
    /// Started in the custom mode with `workflows`: the list is exactly the official server's set.
    pub official_set: bool,
    /// The largest tool result in bytes before it is cut; `None` for no limit.
    pub max_response_bytes: Option<usize>,
    /// Refuse writes while the token has a CRITICAL risk.
    pub strict_security: bool,
    /// What a call without a Mist token is told to do (see [`SessionConfig`]).
    pub missing_token_advice: &'static str,
    /// The Junos devices reached directly.
    pub junos: Option<mistcore_junos::access::JunosDevices>,
    /// Replaces secrets by handles in what the client sees, and puts them back in writes;
    /// `None` when the operator chose to show secrets.
    pub secrets: Option<crate::redact::Redactor>,
    /// The OAuth write scope the current request's access token lacks (set per request by the
    /// HTTP frontends; the write gate refuses writes while it is `Some`).
    pub missing_write_scope: Option<String>,
}

impl Session {
    /// A new session in the configured mode.
    pub fn new(config: &SessionConfig, credentials: Credentials) -> Result<Self, SessionError> {
        let mut enabled: BTreeSet<&'static str> = match config.mode {
            ToolMode::All => category_slugs().collect(),
            ToolMode::Custom => {
                let cats = resolve_categories(&config.categories)?;
                if cats.is_empty() {
                    return Err(SessionError::CustomWithoutCategories);
                }
                cats.into_iter().collect()
            }
            // Categories given with another mode are enabled too: they cost nothing to honour.
            ToolMode::Managed | ToolMode::Minimal => resolve_categories(&config.categories)?
                .into_iter()
                .collect(),
        };
        // An inventory given to the server is meant to be used: its tools are listed from the
        // start (in the custom mode only when `junos` is one of the categories).
        if config.junos.is_some() && config.mode != ToolMode::Custom {
            enabled.insert(JUNOS);
        }
        let official_set = config.mode == ToolMode::Custom && enabled.contains(WORKFLOWS);
        Ok(Session {
            official_set,
            mode: config.mode,
            enabled: Arc::new(enabled),
            write_tools: config.write_tools,
            skip_confirmation: config.skip_confirmation,
            response_format: config.response_format,
            client: ClientCapabilities::default(),
            credentials,
            max_response_bytes: config.max_response_bytes,
            strict_security: config.strict_security,
            missing_token_advice: config.missing_token_advice,
            junos: config.junos.clone(),
            secrets: if config.show_secrets {
                None
            } else {
                Some(crate::redact::Redactor::new()?)
            },
            missing_write_scope: None,
        })
    }

    /// Applies a change; returns true when the set of enabled categories changed.
    pub fn apply(&mut self, change: &CategoryChange) -> bool {
        let before = self.enabled.clone();
        let enabled = Arc::make_mut(&mut self.enabled);
        enabled.extend(change.enable.iter().copied());
        for c in &change.disable {
            enabled.remove(c);
        }
        before != self.enabled
    }

    /// Whether write tools are offered: writes are enabled, and the client can confirm them
    /// (elicitation) or the operator turned confirmations off.
    pub fn offers_writes(&self) -> bool {
        self.write_tools && (self.client.elicitation || self.skip_confirmation)
    }

    /// Whether the operation tools of a category are listed.
    pub fn is_enabled(&self, category: &Category) -> bool {
        self.enabled.contains(category.slug)
    }

    /// What the write gate ([`crate::policy`]) knows of this session.
    pub fn permissions(&self) -> crate::policy::Permissions<'_> {
        crate::policy::Permissions {
            write_tools: self.write_tools,
            can_confirm: self.client.elicitation,
            skip_confirmation: self.skip_confirmation,
            strict_security: self.strict_security,
            credentials: &self.credentials,
            missing_token_advice: self.missing_token_advice,
            missing_write_scope: self.missing_write_scope.as_deref(),
        }
    }

    /// The text of an API failure for this session: a missing token gets the frontend's advice.
    pub fn api_error_text(&self, e: &crate::api::ApiError) -> String {
        match e {
            crate::api::ApiError::MissingToken if !self.missing_token_advice.is_empty() => {
                format!("{e}: {}", self.missing_token_advice)
            }
            _ => e.to_string(),
        }
    }

    /// Whether the session tools (`manageMcpTools`, `getSelf`, discovery) are listed: always,
    /// but in the custom mode with `workflows`, which lists exactly the official server's set.
    pub fn has_session_tools(&self) -> bool {
        !self.official_set
    }
}
