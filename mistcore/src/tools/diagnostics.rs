//! The diagnostic tools (category `diagnostics`): the token's security analysis, the service's
//! health, a connectivity test, and one read-only shell command on a Junos device.

use serde_json::{Value, json};

/// A diagnostic tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagnostic {
    /// `mist_analyze_token_security`.
    Security,
    /// `mist_get_service_health`.
    Health,
    /// `mist_test_connectivity`.
    Connectivity,
    /// `mist_run_shell_command`.
    Shell,
}

/// Every diagnostic tool, in listing order.
pub const ALL: [Diagnostic; 4] = [
    Diagnostic::Security,
    Diagnostic::Health,
    Diagnostic::Connectivity,
    Diagnostic::Shell,
];

impl Diagnostic {
    /// Finds a diagnostic tool by name.
    pub fn find(name: &str) -> Option<Diagnostic> {
        ALL.into_iter().find(|d| d.name() == name)
    }

    /// The tool's name.
    pub fn name(self) -> &'static str {
        match self {
            Diagnostic::Security => "mist_analyze_token_security",
            Diagnostic::Health => "mist_get_service_health",
            Diagnostic::Connectivity => "mist_test_connectivity",
            Diagnostic::Shell => "mist_run_shell_command",
        }
    }

    /// The tool's description.
    pub fn description(self) -> &'static str {
        match self {
            Diagnostic::Security => {
                "Analyse what the Mist API token reaches (MSPs, orgs, sites and roles, from /api/v1/self) and the risks of that: CRITICAL for admin on more orgs or MSPs than the configured limits, HIGH for write access on many orgs or many orgs per MSP."
            }
            Diagnostic::Health => {
                "The health of this mistmcp service: uptime, calls, errors by kind, latency percentiles (p50/p90/p95/p99) overall and per operation, the rate budget left for this token, and sessions."
            }
            Diagnostic::Connectivity => {
                "Test the way to the Mist cloud: reaches it, checks the token (GET /api/v1/self) and measures the latency."
            }
            Diagnostic::Shell => {
                "Run one read-only operational command (show ..., ping, traceroute) on a Junos device (EX, SRX) through its Mist remote shell, and return the output. Configuration and shell-escape commands are refused."
            }
        }
    }

    /// The tool's input schema.
    pub fn schema(self) -> Value {
        match self {
            Diagnostic::Shell => json!({
                "type": "object",
                "properties": {
                    "site_id": {"type": "string", "format": "uuid", "description": "Site of the device"},
                    "device_id": {"type": "string", "format": "uuid", "description": "The device (find it with mist_search_device)"},
                    "command": {"type": "string", "description": "One operational command, e.g. `show interfaces terse`"},
                    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 300, "description": "Deadline for the output (default 30)"}
                },
                "required": ["site_id", "device_id", "command"],
                "additionalProperties": false
            }),
            _ => json!({"type": "object", "properties": {}, "additionalProperties": false}),
        }
    }

    /// Whether the tool calls Mist.
    pub fn open_world(self) -> bool {
        self != Diagnostic::Health
    }
}
