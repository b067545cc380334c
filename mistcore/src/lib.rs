//! mistcore: the Juniper Mist API for MCP servers and command-line tools.
//!
//! Everything here is independent of any transport and compiles for `wasm32-unknown-unknown`:
//! the frontends (the `mistmcp` and `mistcli` binaries, the edge module) supply an
//! [`api::HttpTransport`] and carry the [`session::Session`] of each client.
//!
//! - [`catalog`]: the 1011 operations of the Mist OpenAPI spec, generated at build time;
//! - [`schema`]: input schemas of operations and validation of arguments;
//! - [`api`]: credentials, clouds, requests and answers;
//! - [`session`]: tool loading modes and enabled categories per client;
//! - [`tools`]: the tool registry (operation, session and discovery tools);
//! - [`mcp`]: listing and calling tools with MCP types.

pub mod api;
pub mod catalog;
pub mod jsonrpc;
pub mod mcp;
pub mod schema;
pub mod session;
pub mod tools;
pub mod workflows;
