//! What a frontend gives a session to reach Junos devices: the inventory, the connector, where
//! the inventory is read again, and the deny-lists.

use crate::JunosError;
use crate::inventory::{Device, Inventory};
use crate::session::Connector;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// Where an inventory comes from, to read it again (`reload_devices`).
pub trait InventorySource: Send + Sync {
    /// Reads the inventory again.
    fn load(&self) -> Result<Inventory, JunosError>;
    /// The folder under which `add_device` accepts key files (the inventory's own folder).
    fn key_folder(&self) -> Option<PathBuf>;
}

/// The Junos devices a session reaches, and how.
#[derive(Clone)]
pub struct JunosDevices {
    /// The devices (shared by every session of the same inventory; `add_device` adds here).
    pub inventory: Arc<RwLock<Inventory>>,
    /// The way to the devices.
    pub connector: Arc<dyn Connector>,
    /// Where the inventory is read from.
    pub source: Arc<dyn InventorySource>,
    /// The deny-list of operational commands.
    pub command_denylist: Arc<Vec<String>>,
    /// The deny-list of configuration statements.
    pub config_denylist: Arc<Vec<String>>,
    /// Where templates are rendered.
    pub renderer: Arc<dyn Renderer>,
}

impl std::fmt::Debug for JunosDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.inventory.read().map_or(0, |i| i.devices.len());
        f.debug_struct("JunosDevices")
            .field("devices", &count)
            .finish()
    }
}

impl PartialEq for JunosDevices {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inventory, &other.inventory)
    }
}

impl Eq for JunosDevices {}

/// Renders Jinja2 templates for `render_and_apply_j2_template`. minijinja bounds instructions
/// but not memory (`{{ "x" * 10**13 }}` is one instruction), so a host that can should render
/// in a process of its own with a memory limit.
#[async_trait::async_trait]
pub trait Renderer: Send + Sync {
    /// [`crate::template::render`], wherever the host runs it.
    async fn render(
        &self,
        template: &str,
        vars: &Value,
        router_name: &str,
    ) -> Result<String, JunosError>;
}

/// Renders in this process: for tests and hosts that cannot start a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

#[async_trait::async_trait]
impl Renderer for InProcess {
    async fn render(
        &self,
        template: &str,
        vars: &Value,
        router_name: &str,
    ) -> Result<String, JunosError> {
        crate::template::render(template, vars, router_name)
    }
}

impl JunosDevices {
    /// The device named `name` (a copy: the inventory may change meanwhile).
    pub fn device(&self, name: &str) -> Result<Device, JunosError> {
        let inventory = self
            .inventory
            .read()
            .map_err(|_| JunosError::Inventory("the inventory is unavailable".into()))?;
        inventory.get(name).cloned()
    }

    /// Runs a checked command on the devices `names` (see [`crate::session::run_batch`]);
    /// unknown names answer for themselves, after the others, in the order given.
    pub async fn run_batch(
        &self,
        names: &[String],
        command: &str,
        deadline: std::time::Duration,
    ) -> Vec<crate::session::Answer> {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for name in names {
            match self.device(name) {
                Ok(d) => known.push(d),
                Err(e) => unknown.push(crate::session::Answer::of(
                    name,
                    Err(e),
                    std::time::Duration::ZERO,
                )),
            }
        }
        let mut answers =
            crate::session::run_batch(self.connector.as_ref(), &known, command, deadline).await;
        answers.append(&mut unknown);
        answers
    }
}
