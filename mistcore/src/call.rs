//! What a tool call needs besides its arguments: the session, the way to Mist, the way to the
//! human, what the host offers, and where progress goes.

use crate::api::HttpTransport;
use crate::host::Service;
use crate::policy::{Confirm, Gate};
use crate::session::Session;

/// Told of each output message of a long call: how many so far, and the new output.
pub type Progress<'p> = dyn Fn(usize, &str) + Send + Sync + 'p;

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
            session: self.session,
            transport: self.transport,
            limits,
            confirm: self.confirm,
        }
    }
}
