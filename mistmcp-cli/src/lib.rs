//! Shared pieces of the native frontends: configuration, the reqwest transport, the MCP
//! server handler and the stdio framing. The binaries only parse arguments and wire these.

pub mod checks;
pub mod cli;
pub mod config;
pub mod http;
pub mod memory;
pub mod netconf;
pub mod proxy;
pub mod server;
pub mod service;
pub mod stdio;
pub mod tokens;
pub mod transport;
pub mod trust;
