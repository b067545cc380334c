//! The NETCONF/SSH way to Junos devices: mistcore-junos's [`Connector`] over rustnetconf
//! (russh with ring, NETCONF 1.0 and 1.1 framing). Host keys are always verified: a pinned
//! fingerprint, a known_hosts file, or nothing accepted; refusals say how to pin the key.
//! Every connection and every RPC has the deadline it was opened with.

use anyhow::Context;
use mistcore::junos::{InventorySource, JunosDevices};
use mistcore_junos::JunosError;
use mistcore_junos::access::Renderer;
use mistcore_junos::inventory::{Auth, Device, HostKey, Inventory};
use mistcore_junos::rpc::{Dialect, JUNOS_CAPABILITY};
use mistcore_junos::session::{Connector, Session};
use rustnetconf::error::{NetconfError, RpcError, TransportError};
use rustnetconf::transport::ssh::HostKeyVerification;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The most a reply may hold before the session refuses it (memory stays bounded).
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;
/// The pause after the hello of a plain NETCONF server before the first RPC.
const HELLO_SETTLE: Duration = Duration::from_millis(200);
/// How long a polite `<close-session>` may take.
const CLOSE_DEADLINE: Duration = Duration::from_secs(2);

/// Opens rustnetconf sessions.
#[derive(Debug)]
pub struct NetconfConnector {
    started: Instant,
}

impl Default for NetconfConnector {
    fn default() -> Self {
        NetconfConnector {
            started: Instant::now(),
        }
    }
}

/// A rustnetconf session to one device.
struct NativeSession {
    client: rustnetconf::Client,
    device: Device,
    deadline: Duration,
    dialect: Dialect,
}

fn timeout(device: &str, deadline: Duration) -> JunosError {
    JunosError::Timeout {
        device: device.to_string(),
        seconds: deadline.as_secs().max(1),
    }
}

/// Our words for rustnetconf's errors: what failed and what to do, never a secret.
fn error_of(device: &Device, e: NetconfError) -> JunosError {
    let name = device.name.clone();
    match e {
        NetconfError::Transport(t) => match t {
            TransportError::HostKeyMismatch {
                expected, actual, ..
            } => JunosError::HostKey {
                device: name.clone(),
                message: format!(
                    "its SSH host key changed: it presented {actual}, but {expected} is pinned. Nothing was sent. If the change is expected (a reinstall, a new routing engine), verify the new key on the device's console (`show system ssh-host-key`... or ssh-keygen -lf) and set \"host_key\": \"{actual}\" in the `{name}` entry of devices.json; otherwise someone may be intercepting the connection"
                ),
            },
            TransportError::HostKeyNotInKnownHosts { path, .. } => JunosError::HostKey {
                device: name.clone(),
                message: format!(
                    "its SSH host key is not in {path}. Nothing was sent. Verify the key and add it (ssh-keyscan -p {} {} >> {path}), or pin it with \"host_key\": \"SHA256:...\" in the `{name}` entry of devices.json",
                    device.port, device.ip
                ),
            },
            TransportError::HostKeyRevoked { .. } => JunosError::HostKey {
                device: name,
                message: "its SSH host key is marked @revoked in known_hosts: nothing was sent"
                    .into(),
            },
            TransportError::Config(m) if m.contains("RejectAll") => {
                let presented = m
                    .split("presented ")
                    .nth(1)
                    .and_then(|r| r.split(')').next())
                    .unwrap_or("an unknown key")
                    .to_string();
                JunosError::HostKey {
                    device: name.clone(),
                    message: format!(
                        "no host key is pinned for it, so its key {presented} was refused. Nothing was sent. Verify the key on the device (ssh-keygen -lf on its host key, or the fingerprint your first ssh login shows) and add \"host_key\": \"{presented}\" to the `{name}` entry of devices.json, or give a known_hosts file (\"known_hosts\" in the entry, or --junos-known-hosts)"
                    ),
                }
            }
            TransportError::Auth(m) => JunosError::Auth {
                device: name,
                message: m,
            },
            TransportError::Credentials(m) => JunosError::Auth {
                device: name,
                message: format!("the login could not be prepared: {m}"),
            },
            // A session that ends while an answer is awaited is closed, not refused.
            TransportError::Connect(m) if m.contains("closed") => JunosError::Closed {
                device: name,
                message: m,
            },
            TransportError::Connect(m) => JunosError::Connect {
                device: name,
                message: m,
            },
            TransportError::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                JunosError::Closed {
                    device: name,
                    message: e.to_string(),
                }
            }
            TransportError::Io(e) if e.kind() == std::io::ErrorKind::OutOfMemory => {
                JunosError::Device {
                    device: name,
                    message: format!(
                        "the answer is larger than {} MiB, and was dropped: ask for less (a `| match`, a narrower show)",
                        MAX_REPLY_BYTES / (1024 * 1024)
                    ),
                }
            }
            TransportError::Io(e) => JunosError::Connect {
                device: name,
                message: e.to_string(),
            },
            TransportError::ChannelClosed(m) | TransportError::Channel(m) => JunosError::Closed {
                device: name,
                message: m,
            },
            other => JunosError::Connect {
                device: name,
                message: other.to_string(),
            },
        },
        NetconfError::Rpc(RpcError::ServerError(e)) => JunosError::Device {
            device: name,
            message: match &e.path {
                Some(p) if !p.trim().is_empty() => {
                    format!("{} (at {})", e.message.trim(), p.trim())
                }
                _ => e.message.trim().to_string(),
            },
        },
        NetconfError::Rpc(RpcError::Timeout(d)) => timeout(&name, d),
        NetconfError::Rpc(RpcError::CommitUnknown) => JunosError::Closed {
            device: name,
            message:
                "the connection was lost after the commit was sent: the device may have committed"
                    .into(),
        },
        NetconfError::Framing(f) => JunosError::Closed {
            device: name,
            message: f.to_string(),
        },
        other => JunosError::Device {
            device: name,
            message: other.to_string(),
        },
    }
}

#[async_trait::async_trait]
impl Connector for NetconfConnector {
    async fn open(
        &self,
        device: &Device,
        deadline: Duration,
    ) -> Result<Box<dyn Session>, JunosError> {
        let mut builder = rustnetconf::Client::connect(&device.address())
            .username(&device.username)
            .gather_facts(false)
            .rpc_timeout(deadline)
            .max_read_buffer(MAX_REPLY_BYTES);
        builder = match &device.auth {
            Auth::Password(p) => builder.password(p),
            Auth::Key(path) => builder.key_file(&path.to_string_lossy()),
        };
        builder = builder.host_key_verification(match &device.host_key {
            HostKey::Pinned(fp) => HostKeyVerification::Fingerprint(fp.clone()),
            HostKey::KnownHosts(path) => HostKeyVerification::KnownHosts(path.clone()),
            HostKey::Unpinned => HostKeyVerification::RejectAll,
        });
        let client = tokio::time::timeout(deadline, builder.connect())
            .await
            .map_err(|_| timeout(&device.name, deadline))?
            .map_err(|e| error_of(device, e))?;
        let dialect = if client.supports(JUNOS_CAPABILITY) {
            Dialect::Junos
        } else {
            // yuma123's netconfd holds the answer to an RPC that comes within a few
            // milliseconds of the hello until more input arrives (seen in its relay's traffic:
            // the reply leaves only with the next request). A short pause avoids it.
            tokio::time::sleep(HELLO_SETTLE).await;
            Dialect::Netconf
        };
        Ok(Box::new(NativeSession {
            client,
            device: device.clone(),
            deadline,
            dialect,
        }))
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[async_trait::async_trait]
impl Session for NativeSession {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    async fn rpc(&mut self, rpc: &str) -> Result<String, JunosError> {
        tokio::time::timeout(self.deadline, self.client.rpc(rpc))
            .await
            .map_err(|_| timeout(&self.device.name, self.deadline))?
            .map_err(|e| error_of(&self.device, e))
    }

    async fn close(mut self: Box<Self>) {
        let _ = tokio::time::timeout(CLOSE_DEADLINE, self.client.close_session()).await;
    }
}

/// A devices.json file: read at start and again by `reload_devices`.
#[derive(Debug)]
struct FileSource {
    path: PathBuf,
    known_hosts: Option<PathBuf>,
}

impl InventorySource for FileSource {
    fn load(&self) -> Result<Inventory, JunosError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| {
            JunosError::Inventory(format!(
                "cannot read the device inventory {}: {e}",
                self.path.display()
            ))
        })?;
        let base = self.path.parent().unwrap_or(Path::new("."));
        Inventory::parse(&text, base, self.known_hosts.as_deref())
    }

    fn key_folder(&self) -> Option<PathBuf> {
        self.path.parent().map(Path::to_path_buf)
    }
}

fn denylist(var: &str, default: &[&str]) -> anyhow::Result<Vec<String>> {
    match std::env::var_os(var) {
        None => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{var}: cannot read {}", Path::new(&path).display()))?;
            Ok(mistcore_junos::words::parse_denylist(&text))
        }
    }
}

/// The devices of `path` (devices.json), reached over NETCONF/SSH; devices that pin no host key
/// are checked against `known_hosts` when given. The deny-lists come from
/// `MISTMCP_JUNOS_DENYLIST` and `MISTMCP_JUNOS_CONFIG_DENYLIST` (files; built-in lists otherwise).
pub fn devices(
    path: &Path,
    known_hosts: Option<&Path>,
    renderer: Arc<dyn Renderer>,
) -> anyhow::Result<JunosDevices> {
    let path = std::fs::canonicalize(path)
        .with_context(|| format!("the device inventory {} does not exist", path.display()))?;
    let source = FileSource {
        path,
        known_hosts: known_hosts.map(Path::to_path_buf),
    };
    let inventory = source.load()?;
    Ok(JunosDevices {
        inventory: Arc::new(RwLock::new(inventory)),
        connector: Arc::new(NetconfConnector::default()),
        renderer,
        source: Arc::new(source),
        command_denylist: Arc::new(denylist(
            "MISTMCP_JUNOS_DENYLIST",
            mistcore_junos::words::DEFAULT_DENYLIST,
        )?),
        config_denylist: Arc::new(denylist(
            "MISTMCP_JUNOS_CONFIG_DENYLIST",
            mistcore_junos::config_policy::DEFAULT_DENYLIST,
        )?),
    })
}

/// The argument that makes `mistmcp` a template renderer child (see [`ChildRenderer`]).
pub const RENDER_CHILD_ARG: &str = "__render-junos-template";
/// The address space a rendering child may use.
const RENDER_MEMORY: u64 = 512 * 1024 * 1024;
/// How long a rendering child may run.
const RENDER_DEADLINE: Duration = Duration::from_secs(10);

/// Renders templates in a child process of this binary, limited to [`RENDER_MEMORY`] of
/// address space and [`RENDER_DEADLINE`]: a template that would take the memory of the server
/// ends only its child, and the answer says so.
#[derive(Debug, Clone)]
pub struct ChildRenderer {
    exe: PathBuf,
}

impl ChildRenderer {
    /// Renders with children of the running binary.
    pub fn of_this_binary() -> anyhow::Result<Self> {
        Ok(ChildRenderer {
            exe: std::env::current_exe()
                .context("cannot find the running binary to render templates")?,
        })
    }
}

#[async_trait::async_trait]
impl Renderer for ChildRenderer {
    async fn render(
        &self,
        template: &str,
        vars: &serde_json::Value,
        router_name: &str,
    ) -> Result<String, JunosError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let failed = |why: String| {
            JunosError::Template(format!("the template could not be rendered: {why}"))
        };
        let mut child = tokio::process::Command::new(&self.exe)
            .arg(RENDER_CHILD_ARG)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .env_clear()
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(e.to_string()))?;
        let input =
            serde_json::json!({"template": template, "vars": vars, "router_name": router_name})
                .to_string();
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| failed("no stdin".into()))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| failed("no stdout".into()))?;
        let run = async {
            stdin.write_all(input.as_bytes()).await?;
            drop(stdin);
            let mut out = Vec::new();
            (&mut stdout)
                .take((mistcore_junos::config_policy::MAX_CONFIG_BYTES * 2) as u64)
                .read_to_end(&mut out)
                .await?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, out))
        };
        let (status, out) = tokio::time::timeout(RENDER_DEADLINE, run)
            .await
            .map_err(|_| {
                JunosError::Template(format!(
                    "the template took longer than {} s to render",
                    RENDER_DEADLINE.as_secs()
                ))
            })?
            .map_err(|e| failed(e.to_string()))?;
        let answer: serde_json::Value = serde_json::from_slice(&out).map_err(|_| {
            JunosError::Template(format!(
                "the template used more than {} MiB of memory (or ended otherwise: {status}) and was stopped",
                RENDER_MEMORY / (1024 * 1024)
            ))
        })?;
        match (answer["rendered"].as_str(), answer["error"].as_str()) {
            (Some(text), _) => Ok(text.to_string()),
            (None, Some(e)) => Err(JunosError::Template(e.to_string())),
            _ => Err(failed("the renderer gave no answer".into())),
        }
    }
}

/// The rendering child's work: limit its own address space, read one request on stdin, answer
/// on stdout. `mistmcp` runs this when started with [`RENDER_CHILD_ARG`].
pub fn render_child() -> anyhow::Result<()> {
    use std::io::{Read, Write};
    rlimit::setrlimit(rlimit::Resource::AS, RENDER_MEMORY, RENDER_MEMORY)
        .context("cannot limit the renderer's memory")?;
    let mut input = String::new();
    std::io::stdin()
        .take((mistcore_junos::template::MAX_TEMPLATE_BYTES * 4) as u64)
        .read_to_string(&mut input)?;
    let request: serde_json::Value = serde_json::from_str(&input)?;
    let answer = match mistcore_junos::template::render(
        request["template"].as_str().unwrap_or_default(),
        &request["vars"],
        request["router_name"].as_str().unwrap_or_default(),
    ) {
        Ok(text) => serde_json::json!({"rendered": text}),
        Err(e) => serde_json::json!({"error": e.to_string()}),
    };
    std::io::stdout().write_all(answer.to_string().as_bytes())?;
    Ok(())
}
