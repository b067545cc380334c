//! mistcore-client: the Juniper Mist API for any frontend, with no MCP in it.
//!
//! Transports are ports ([`api::HttpTransport`], [`stream::DeviceStreams`]) that the hosts
//! implement (reqwest and WebSockets natively, fetch on the edge); everything here compiles for
//! `wasm32-unknown-unknown`.
//!
//! - [`catalog`]: the operations of the spec (the `mistcore-catalog` crate);
//! - [`schema`]: input schemas of operations and validation of arguments;
//! - [`api`]: credentials, clouds, requests and answers, typed errors;
//! - [`resilience`]: deadlines, retries and the rate budget around any transport;
//! - [`security`]: what a token reaches and the risks of that;
//! - [`device`]: device utilities and one-command remote shells over the stream port;
//! - [`stream`]: the port through which device commands reach the Mist WebSocket stream.

pub use mistcore_catalog as catalog;

pub mod api;
pub mod device;
pub mod jq;
pub mod resilience;
pub mod schema;
pub mod security;
pub mod stream;
