//! What a tool call needs besides its arguments: the session, the way to Mist, the way to the
//! human, what the host offers, and where progress goes.

use crate::api::HttpTransport;
use crate::host::Service;
use crate::policy::{Confirm, Gate};
use crate::session::Session;

/// A tool call that cannot be served as asked: the message says what was wrong and what to do,
/// and goes to the model (or the shell user) as the tool's error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    /// What was wrong and what to do.
    pub message: String,
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError { message }
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError {
            message: message.to_string(),
        }
    }
}

macro_rules! tool_error_from {
    ($($error:ty),*) => {$(
        impl From<$error> for ToolError {
            fn from(e: $error) -> Self {
                ToolError { message: e.to_string() }
            }
        }
    )*};
}

tool_error_from!(
    crate::policy::Refused,
    crate::stream::StreamError,
    crate::api::NextPageRefused,
    crate::security::LimitsError,
    crate::session::SessionError,
    crate::schema::ArgumentError
);

/// Told of each output message of a long call: how many so far, and the new output.
pub use mistcore_client::device::Progress;

/// What a call needs besides its arguments.
#[derive(Clone, Copy)]
pub struct CallContext<'a> {
    /// The client's session.
    pub session: &'a Session,
    /// The way to Mist.
    pub transport: &'a dyn HttpTransport,
    /// The way to the human, for writes.
    pub confirm: &'a dyn Confirm,
    /// What the host offers beyond one call (health, clock, device streams).
    pub service: &'a dyn Service,
    /// Told of each output message a long call (a device utility) receives: how many so far,
    /// and the new output.
    pub progress: Option<&'a Progress<'a>>,
}

impl CallContext<'_> {
    /// The write gate for this call, with the given limits of the security analysis.
    pub fn gate<'l>(&'l self, limits: &'l crate::security::Limits) -> Gate<'l> {
        Gate {
            permissions: self.session.permissions(),
            transport: self.transport,
            limits,
            confirm: self.confirm,
            secrets: self.session.secrets.as_ref(),
        }
    }
}
