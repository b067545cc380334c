//! Workflows (filled in below).

use super::Workflow;

/// The workflows of this module.
pub const WORKFLOWS: &[Workflow] = &[];
