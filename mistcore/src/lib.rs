//! mistcore: the Juniper Mist API for MCP servers and command-line tools.
//!
//! Everything here is independent of any transport and compiles for `wasm32-unknown-unknown`:
//! the frontends (the `mistmcp` and `mistcli` binaries, the edge module) supply an
//! [`api::HttpTransport`] and carry the [`session::Session`] of each client.
//!
//! - [`catalog`]: the 1011 operations of the Mist OpenAPI spec, generated at build time;
//! - [`schema`]: input schemas of operations and validation of arguments;
//! - [`security`]: what a token reaches and the risks of that;
//! - [`api`]: credentials, clouds, requests and answers;
//! - [`resilience`]: deadlines, retries and the rate budget around any transport;
//! - [`session`]: tool loading modes and enabled categories per client;
//! - [`session_request`]: the request-to-session step of the HTTP frontends;
//! - [`session_store`]: where sessions live between requests on hosts without a process;
//! - [`tools`]: the tool registry (operation, session and discovery tools);
//! - [`mcp`]: listing and calling tools with MCP types;
//! - [`host`]: counters, latency percentiles and what a host offers (clock, health, device streams);
//! - [`call`]: what a tool call needs besides its arguments;
//! - [`policy`]: the one write gate (permission, strict security, the human's confirmation);
//! - [`redact`]: what the model sees: secrets replaced by handles, put back in writes;
//! - [`stream`]: the port through which device commands reach the Mist WebSocket stream;
//! - [`devices`]: device utilities and remote shells over the Mist WebSocket stream;
//! - [`response_budget`]: tool results cut to a byte budget, `fields` projection;
//! - [`round_trip`]: write confirmations carried by the answers (protocol 2026-07-28);
//! - [`envelope`]: the shape every JSON-RPC message must have, and batches;
//! - [`framing`]: newline-delimited messages with a length cap, without I/O (stdio);
//! - [`request_state`]: the `requestState` of sessionless confirmations, MAC'd and used once;
//! - [`oauth`]: the HTTP frontends as an OAuth 2.1 protected resource (MCP authorization);
//! - [`origin`]: which browser origins the HTTP frontends serve;
//! - [`jsonrpc`]: a JSON-RPC dispatcher for hosts where rmcp's runtime cannot run.

pub mod call;
/// The operations of the spec (the `mistcore-catalog` crate, rebuilt only when the spec changes).
pub use mistcore_catalog as catalog;
/// The Mist API client (the `mistcore-client` crate, which knows no MCP).
pub use mistcore_client::{api, jq, resilience, schema, security, stream};
pub mod devices;
pub mod envelope;
pub mod framing;
pub mod host;
pub mod jsonrpc;
pub mod junos;
pub mod mcp;
pub mod oauth;
pub mod origin;
pub mod policy;
pub mod redact;
pub mod request_state;
pub mod response_budget;
pub mod round_trip;
pub mod session;
pub mod session_request;
pub mod session_store;
pub mod tools;
pub mod workflows;
