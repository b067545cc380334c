//! The Junos tools (category `junos`): Juniper's junos-mcp-server tool set, with its names and
//! arguments, over mistcore-junos. Listed when the session has a device inventory.
//!
//! Reads (`execute_junos_command`, configuration, diffs, facts) are read-only by construction:
//! commands pass the allow-list and the deny-list. Writes (`load_and_commit_config`, an applied
//! template, `add_device`) pass the one write gate ([`crate::policy`]) with the device's own
//! diff in the question, then the safe commit of [`mistcore_junos::commit`].
//!
//! The definitions are always here (discovery and listings name them); running them (`run`)
//! is the `junos` feature, off in the edge module, which has no SSH.

use serde_json::{Value, json};

#[cfg(feature = "junos")]
mod run;
#[cfg(feature = "junos")]
pub use run::{Answered, call};

pub use mistcore_junos as core;

pub use mistcore_junos::access::{InventorySource, JunosDevices};

/// A Junos tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JunosTool {
    /// `get_router_list`.
    List,
    /// `execute_junos_command`.
    Command,
    /// `execute_junos_command_batch`.
    Batch,
    /// `execute_junos_pfe_command`.
    Pfe,
    /// `get_junos_config`.
    Config,
    /// `junos_config_diff`.
    Diff,
    /// `gather_device_facts`.
    Facts,
    /// `load_and_commit_config`.
    Commit,
    /// `render_and_apply_j2_template`.
    Template,
    /// `add_device`.
    Add,
    /// `reload_devices`.
    Reload,
}

/// Every Junos tool, in listing order.
pub const ALL: [JunosTool; 11] = [
    JunosTool::List,
    JunosTool::Command,
    JunosTool::Batch,
    JunosTool::Pfe,
    JunosTool::Config,
    JunosTool::Diff,
    JunosTool::Facts,
    JunosTool::Commit,
    JunosTool::Template,
    JunosTool::Add,
    JunosTool::Reload,
];

/// The argument that bounds a device request, in seconds.
pub(crate) const TIMEOUT_PROP: &str = "timeout";

/// The most devices one batch names.
pub const MAX_BATCH: usize = 1000;

fn timeout_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 3600, "description": "Seconds the device has to answer (default 60)"})
}

impl JunosTool {
    /// Finds a Junos tool by name.
    pub fn find(name: &str) -> Option<JunosTool> {
        ALL.into_iter().find(|t| t.name() == name)
    }

    /// The tool's name (junos-mcp-server's).
    pub fn name(self) -> &'static str {
        match self {
            JunosTool::List => "get_router_list",
            JunosTool::Command => "execute_junos_command",
            JunosTool::Batch => "execute_junos_command_batch",
            JunosTool::Pfe => "execute_junos_pfe_command",
            JunosTool::Config => "get_junos_config",
            JunosTool::Diff => "junos_config_diff",
            JunosTool::Facts => "gather_device_facts",
            JunosTool::Commit => "load_and_commit_config",
            JunosTool::Template => "render_and_apply_j2_template",
            JunosTool::Add => "add_device",
            JunosTool::Reload => "reload_devices",
        }
    }

    /// Whether the tool changes a device or the server's inventory (needs write tools to be listed).
    pub fn is_write(self) -> bool {
        matches!(self, JunosTool::Commit | JunosTool::Add)
    }

    /// Whether calling the tool may change something (a template applied).
    pub fn may_change(self) -> bool {
        self.is_write() || self == JunosTool::Template
    }

    /// The tool's description.
    pub fn description(self) -> &'static str {
        match self {
            JunosTool::List => {
                "List the Junos devices of the inventory (name, ip, port, username, login type, host key pinning); no passwords or keys."
            }
            JunosTool::Command => {
                "Run one read-only operational command (show, ping, traceroute, monitor traffic ... count N) on a Junos device over NETCONF and return its output. Junos abbreviations are understood; configuration, request, clear, file and shell commands are refused."
            }
            JunosTool::Batch => {
                "Run one read-only operational command on several Junos devices in parallel; each device answers for itself (output, error, duration_ms) within its own deadline."
            }
            JunosTool::Pfe => {
                "Run one read-only PFE command (show ...) on a Junos device's packet forwarding engine (target, default fpc0)."
            }
            JunosTool::Config => {
                "The configuration of a Junos device (show configuration | display inheritance no-comments), as set commands (default), text, json or xml."
            }
            JunosTool::Diff => {
                "The difference between a Junos device's configuration and rollback version N (show configuration | compare rollback N, N 1-49)."
            }
            JunosTool::Facts => {
                "Facts of a Junos device: host name, model, Junos version, serial number."
            }
            JunosTool::Commit => {
                "Load a configuration (set, text or xml) on a Junos device and commit it safely: lock, load, the diff and commit check shown to the human for confirmation, commit confirmed, a reachability check over a fresh session, the confirming commit, unlock. Any failure rolls back. Root authentication, login users and management access are refused."
            }
            JunosTool::Template => {
                "Render a Jinja2 template with YAML variables for one or more Junos devices. With dry_run (default) it returns the rendered configuration and each device's diff without committing; with apply_config true and dry_run false it commits like load_and_commit_config, each device confirmed by the human."
            }
            JunosTool::Add => {
                "Add a Junos device to this server's inventory (in memory until the server restarts): SSH key login only, with its host key fingerprint pinned; the key file must be in the inventory's folder."
            }
            JunosTool::Reload => {
                "Read the server's device inventory file again (the file the server was started with; no other file can be named)."
            }
        }
    }

    /// The tool's input schema.
    pub fn schema(self) -> Value {
        let router = json!({"type": "string", "description": "The device's name in the inventory (get_router_list)"});
        let (props, required): (Value, Vec<&str>) = match self {
            JunosTool::List => (json!({}), vec![]),
            // junos-mcp-server's `file_name` is taken only to be refused with the reason.
            JunosTool::Reload => (
                json!({"file_name": {"type": "string", "description": "Not accepted: the server re-reads only the inventory it was started with"}}),
                vec![],
            ),
            JunosTool::Command => (
                json!({"router_name": router, "command": {"type": "string", "description": "One operational command, e.g. `show interfaces terse`"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name", "command"],
            ),
            JunosTool::Batch => (
                json!({"router_names": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1000, "description": "Device names"}, "command": {"type": "string", "description": "One operational command"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_names", "command"],
            ),
            JunosTool::Pfe => (
                json!({"router_name": router, "command": {"type": "string", "description": "A PFE show command, e.g. `show jnh 0 pool`"}, "target": {"type": "string", "description": "The PFE (default fpc0)"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name", "command"],
            ),
            JunosTool::Config => (
                json!({"router_name": router, "format": {"type": "string", "enum": ["set", "text", "json", "xml"], "description": "Default set"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Diff => (
                json!({"router_name": router, "version": {"type": "integer", "minimum": 1, "maximum": 49, "description": "Rollback version (default 1)"}, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Facts => (
                json!({"router_name": router, TIMEOUT_PROP: timeout_schema()}),
                vec!["router_name"],
            ),
            JunosTool::Commit => (
                json!({
                    "router_name": router,
                    "config_text": {"type": "string", "description": "The configuration to load"},
                    "config_format": {"type": "string", "enum": ["set", "text", "xml"], "description": "Default set"},
                    "commit_comment": {"type": "string", "description": "The commit comment"},
                    "confirm_minutes": {"type": "integer", "minimum": 1, "maximum": 60, "description": "commit confirmed N: the device reverts by itself after N minutes unless confirmed (default 5)"},
                    "check_after_seconds": {"type": "integer", "minimum": 0, "maximum": 300, "description": "Seconds to wait before the reachability check (default 5)"},
                    TIMEOUT_PROP: timeout_schema()
                }),
                vec!["router_name", "config_text"],
            ),
            JunosTool::Template => (
                json!({
                    "template_content": {"type": "string", "description": "A Jinja2 template of Junos configuration"},
                    "vars_content": {"type": "string", "description": "YAML variables (a mapping); `router_name` is set for each device"},
                    "router_name": router,
                    "router_names": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
                    "apply_config": {"type": "boolean", "description": "Commit the rendered configuration (default false)"},
                    "dry_run": {"type": "boolean", "description": "Only render and show each device's diff (default true)"},
                    "config_format": {"type": "string", "enum": ["set", "text", "xml"], "description": "Default set"},
                    "commit_comment": {"type": "string"},
                    "confirm_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
                    "check_after_seconds": {"type": "integer", "minimum": 0, "maximum": 300},
                    TIMEOUT_PROP: timeout_schema()
                }),
                vec!["template_content"],
            ),
            JunosTool::Add => (
                json!({
                    "device_name": {"type": "string"},
                    "device_ip": {"type": "string"},
                    "device_port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Default 22"},
                    "username": {"type": "string"},
                    "ssh_key_path": {"type": "string", "description": "A private key file in the inventory's folder"},
                    "host_key": {"type": "string", "description": "The device's SSH host key fingerprint (SHA256:...), verified out of band"}
                }),
                vec![
                    "device_name",
                    "device_ip",
                    "username",
                    "ssh_key_path",
                    "host_key",
                ],
            ),
        };
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
    }
}

/// Words that name the direct device path: a question with one of them is about these tools.
const TRIGGERS: &[&str] = &[
    "junos",
    "router",
    "routers",
    "netconf",
    "pfe",
    "rollback",
    "commit",
    "j2",
    "jinja",
    "template",
    "inventory",
    "facts",
];

/// The Junos tools that match a free-text question (for `mist_search_operations`), best first:
/// those sharing a word with it when it names the device path (junos, router, netconf, commit,
/// ...), or sharing two words otherwise.
pub fn matching(query: &str) -> Vec<JunosTool> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 2 || *w == "j2")
        .map(str::to_ascii_lowercase)
        .collect();
    let triggered = words.iter().any(|w| TRIGGERS.contains(&w.as_str()));
    let mut scored: Vec<(usize, JunosTool)> = ALL
        .into_iter()
        .map(|tool| {
            let text = format!("{} {}", tool.name().replace('_', " "), tool.description())
                .to_ascii_lowercase();
            let hay: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
            let score = words
                .iter()
                .filter(|w| hay.iter().any(|h| h.starts_with(w.as_str())))
                .count();
            (score, tool)
        })
        .filter(|(score, _)| *score >= if triggered { 1 } else { 2 })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().take(3).map(|(_, t)| t).collect()
}
