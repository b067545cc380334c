//! mistcore-junos: Junos devices reached directly over NETCONF/SSH, without Mist and without MCP.
//!
//! Everything here is pure: the frontends bring the SSH/NETCONF transport through the
//! [`session::Connector`] port (rustnetconf natively), and read files.
//!
//! - [`access`]: what a frontend gives a session to reach devices;
//! - [`inventory`]: the `devices.json` of Juniper's junos-mcp-server, with host key pins;
//! - [`words`]: Junos CLI words: abbreviations, the operational command check and its deny-list;
//! - [`config_policy`]: the configuration deny-list over `set`, text and XML configurations;
//! - [`rpc`]: the RPCs sent and the replies read, for Junos and for plain NETCONF servers;
//! - [`session`]: the session port, and the reads (commands, configuration, diff, facts) and
//!   batches over it;
//! - [`commit`]: the safe commit: lock, load, diff, check, confirmed commit, reachability,
//!   confirm, unlock; rollback on every failure;
//! - [`template`]: Jinja2 templates with YAML variables;
//! - [`secrets`]: where a configuration, a diff or command output holds secrets.

pub mod access;
pub mod commit;
pub mod config_policy;
pub mod inventory;
pub mod rpc;
pub mod secrets;
pub mod session;
pub mod template;
pub mod words;

/// Why a Junos request failed. Texts name the device and never carry a password or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JunosError {
    /// The inventory file is not valid.
    #[error("{0}")]
    Inventory(String),
    /// No device of that name in the inventory.
    #[error(
        "unknown device `{name}`{hint}: get_router_list (mistcli junos list) names the devices"
    )]
    UnknownDevice {
        /// The name asked for.
        name: String,
        /// ` (closest: a, b)` or empty.
        hint: String,
    },
    /// A command or configuration refused by the allow-list or a deny-list: nothing was sent.
    #[error("{0}")]
    Refused(String),
    /// An argument that cannot be served as given.
    #[error("{0}")]
    Argument(String),
    /// The device's host key is not the one pinned, or none is pinned.
    #[error("{device}: {message}")]
    HostKey {
        /// The device.
        device: String,
        /// What was presented and how to pin it.
        message: String,
    },
    /// The device could not be reached.
    #[error("{device}: cannot connect ({message})")]
    Connect {
        /// The device.
        device: String,
        /// Why.
        message: String,
    },
    /// The device refused the login.
    #[error("{device}: login refused ({message})")]
    Auth {
        /// The device.
        device: String,
        /// Why.
        message: String,
    },
    /// The device did not answer in time.
    #[error("{device}: no answer within {seconds} s")]
    Timeout {
        /// The device.
        device: String,
        /// The deadline.
        seconds: u64,
    },
    /// The connection closed during a request.
    #[error("{device}: the connection closed during the request ({message})")]
    Closed {
        /// The device.
        device: String,
        /// Why.
        message: String,
    },
    /// The device answered with an error.
    #[error("{device}: {message}")]
    Device {
        /// The device.
        device: String,
        /// The device's error message.
        message: String,
    },
    /// The device does not offer what was asked (a NETCONF server that is not Junos).
    #[error("{device}: {message}")]
    Unsupported {
        /// The device.
        device: String,
        /// What is missing.
        message: String,
    },
    /// A template or its variables could not be rendered.
    #[error("{0}")]
    Template(String),
}

impl JunosError {
    /// A short name of the kind, for structured answers (`error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            JunosError::Inventory(_) => "inventory",
            JunosError::UnknownDevice { .. } => "unknown_device",
            JunosError::Refused(_) => "refused",
            JunosError::Argument(_) => "invalid",
            JunosError::HostKey { .. } => "host_key",
            JunosError::Connect { .. } => "connect",
            JunosError::Auth { .. } => "auth",
            JunosError::Timeout { .. } => "timeout",
            JunosError::Closed { .. } => "closed",
            JunosError::Device { .. } => "device",
            JunosError::Unsupported { .. } => "unsupported",
            JunosError::Template(_) => "template",
        }
    }
}
