//! `mistmcp`: the Juniper Mist API as an MCP server over stdio.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use mistcore::resilience::Policy;
use mistcore::session::{ResponseFormat, Session, SessionConfig, ToolMode};
use mistmcp_cli::service::NativeService;
use mistmcp_cli::transport::mist_transport;
use mistmcp_cli::{config, server::MistServer, stdio};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the MCP client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// JSON-RPC over stdin/stdout (Claude Desktop, VS Code, agents).
    Stdio,
    /// Streamable HTTP at /mcp, one session per client (a team server).
    Http,
}

/// Subcommands besides serving.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Manage the HTTP server's access tokens.
    Tokens {
        #[command(subcommand)]
        action: TokenAction,
    },
}

/// Token management.
#[derive(Debug, clap::Subcommand)]
enum TokenAction {
    /// Create a token and print it once.
    Create {
        /// A name for the token (a person, a team, a host).
        #[arg(long)]
        id: String,
        /// What the token is for.
        #[arg(long, default_value = "")]
        description: String,
        /// A .env file with MIST_APITOKEN (and MIST_HOST) used for this token's clients.
        #[arg(long)]
        mist_env_file: Option<PathBuf>,
        /// A devices.json inventory of Junos devices for this token's clients (its own, instead
        /// of the server's --junos-devices).
        #[arg(long)]
        junos_devices: Option<PathBuf>,
        /// Show secrets (PSKs, RADIUS secrets, passwords ...) to this token's clients as they
        /// are instead of as handles (README: "What the model sees").
        #[arg(long)]
        show_secrets: bool,
    },
    /// List the tokens (never their values).
    List,
    /// Revoke a token; running servers refuse it at once.
    Revoke {
        /// The token's name.
        #[arg(long)]
        id: String,
    },
}

/// The Juniper Mist API (1011 operations) as an MCP server.
///
/// The token comes from MIST_APITOKEN (environment or .env file), the cloud from MIST_HOST
/// (default api.mist.com). Without a token the server still starts: tools list, and calls
/// say what is missing.
#[derive(Debug, Parser)]
#[command(name = "mistmcp", version)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Transport.
    #[arg(
        short = 't',
        long,
        env = "MISTMCP_TRANSPORT_MODE",
        value_enum,
        default_value = "stdio"
    )]
    transport: Transport,
    /// Tool loading mode: minimal, managed, all or custom.
    #[arg(
        short = 'm',
        long,
        env = "MISTMCP_TOOL_LOADING_MODE",
        default_value = "managed"
    )]
    mode: ToolMode,
    /// Categories to enable, comma-separated; patterns such as sites_* work (required by custom).
    #[arg(
        short = 'c',
        long,
        env = "MISTMCP_TOOL_CATEGORIES",
        value_delimiter = ','
    )]
    categories: Vec<String>,
    /// A .env file with MIST_APITOKEN / MIST_HOST (default: ./.env, read only when no token is in the environment; never in HTTP mode).
    #[arg(short = 'e', long, env = "MIST_ENV_FILE")]
    env_file: Option<PathBuf>,
    /// Debug logs on stderr.
    #[arg(short = 'd', long, env = "MISTMCP_DEBUG", value_parser = clap::builder::FalseyValueParser::new())]
    debug: bool,
    /// Offer write tools (POST/PUT/DELETE), each confirmed by the human through elicitation.
    #[arg(long, env = "MISTMCP_ENABLE_WRITE_TOOLS", value_parser = clap::builder::FalseyValueParser::new())]
    enable_write_tools: bool,
    /// DANGER: run writes without asking the human (trusted test setups only).
    #[arg(long, env = "MISTMCP_DISABLE_ELICITATION", value_parser = clap::builder::FalseyValueParser::new())]
    disable_elicitation: bool,
    /// Show secrets (PSKs, RADIUS secrets, passwords, API keys ...) to the model as they are;
    /// by default each is a handle such as «secret:psk:4f1c9a2b» (logged at start).
    #[arg(long, env = "MISTMCP_SHOW_SECRETS", value_parser = clap::builder::FalseyValueParser::new())]
    show_secrets: bool,
    /// Result format: json (with structured content) or string (text only).
    #[arg(
        short = 'r',
        long = "response-format",
        alias = "response_format",
        env = "MISTMCP_RESPONSE_FORMAT",
        default_value = "json"
    )]
    response_format: ResponseFormat,
    /// Explicit API base URL instead of a Mist cloud (tests, private deployments); also
    /// MIST_API_URL, from the same source as the token (README: "Where the token goes").
    #[arg(long)]
    api_url: Option<String>,
    /// Seconds a call to Mist may take, retries and waits included.
    #[arg(
        long = "request-timeout",
        alias = "timeout",
        env = "MISTMCP_REQUEST_TIMEOUT",
        default_value_t = 30
    )]
    request_timeout: u64,
    /// Calls per hour per Mist token, shared by every session using it (0: no client-side budget).
    #[arg(long, env = "MISTMCP_RATE_LIMIT", default_value_t = 5000)]
    rate_limit: u32,
    /// Log lines as text or JSON (one object per line; each tool call is one line).
    #[arg(long, env = "MISTMCP_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Print the token's security analysis and exit (non-zero on a CRITICAL risk).
    #[arg(long)]
    security_check: bool,
    /// Check the token, the cloud, the spec and the flags, then exit without serving.
    #[arg(long)]
    validate_config: bool,
    /// Junos devices reached directly over NETCONF/SSH: a devices.json inventory of
    /// junos-mcp-server (its tools are listed in the category `junos`).
    #[arg(long, env = "MISTMCP_JUNOS_DEVICES")]
    junos_devices: Option<PathBuf>,
    /// A known_hosts file for the Junos devices that pin no `host_key` of their own.
    #[arg(long, env = "MISTMCP_JUNOS_KNOWN_HOSTS")]
    junos_known_hosts: Option<PathBuf>,
    /// The largest tool result in bytes; larger ones are cut at a record boundary (0: no limit).
    #[arg(long, env = "MISTMCP_MAX_RESPONSE_BYTES", default_value_t = mistcore::response_budget::DEFAULT_MAX_RESPONSE_BYTES)]
    max_response_bytes: usize,
    /// HTTP: address to bind.
    #[arg(long, env = "MISTMCP_HOST", default_value = "127.0.0.1")]
    host: String,
    /// HTTP: port.
    #[arg(short = 'p', long, env = "MISTMCP_PORT", default_value_t = 8000)]
    port: u16,
    /// HTTP: close sessions idle this long (e.g. 30m, 2h).
    #[arg(long, env = "MISTMCP_SESSION_IDLE_TIMEOUT", default_value = "30m", value_parser = humantime::parse_duration)]
    session_idle_timeout: Duration,
    /// HTTP: a session without a request this long gives up its worker (~85 KB) until its next
    /// request, which wakes it with its state; `off` keeps every session awake.
    #[arg(long, env = "MISTMCP_SESSION_HIBERNATE_AFTER", default_value = "60s", value_parser = parse_hibernate_after)]
    session_hibernate_after: Hibernate,
    /// HTTP: most sessions at once.
    #[arg(long, env = "MISTMCP_MAX_SESSIONS", default_value_t = 100)]
    max_sessions: usize,
    /// The server token store (default: ~/.config/mistmcp/tokens.json); also after `tokens`.
    #[arg(long, env = "MISTMCP_TOKENS_FILE", global = true)]
    tokens_file: Option<PathBuf>,
    /// HTTP: accept OAuth access tokens of the identity providers this file names (MCP
    /// authorization), mapped by its rules to Mist credentials; server tokens keep working.
    #[arg(long, env = "MISTMCP_OAUTH_CONFIG")]
    oauth_config: Option<PathBuf>,
    /// HTTP: serve a non-loopback address without server tokens.
    #[arg(long, env = "MISTMCP_ALLOW_UNAUTHENTICATED", value_parser = clap::builder::FalseyValueParser::new())]
    allow_unauthenticated: bool,
    /// HTTP: accepted Origin headers, comma-separated (e.g. https://chat.example.com).
    #[arg(long, env = "MISTMCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// HTTP: accepted Host headers, comma-separated (default: loopback names and --host).
    #[arg(long, env = "MISTMCP_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    /// HTTP: largest request body, in bytes.
    #[arg(long, env = "MISTMCP_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// HTTP: most connections open at once (kept below the open-file limit); at the cap the
    /// oldest connection with no request in flight is closed for a new one.
    #[arg(long, env = "MISTMCP_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// HTTP: time for the TLS handshake and each request's headers (e.g. 30s).
    #[arg(long, env = "MISTMCP_HEADER_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    header_timeout: Duration,
    /// HTTP: time for a request's body once its headers came.
    #[arg(long, env = "MISTMCP_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    body_timeout: Duration,
    /// HTTP: a connection with no request in flight is closed after this long.
    #[arg(long, env = "MISTMCP_KEEP_ALIVE_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    keep_alive_timeout: Duration,
    /// HTTP: TLS certificate (PEM); with --tls-key, serves HTTPS.
    #[arg(long, env = "MISTMCP_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// HTTP: TLS private key (PEM).
    #[arg(long, env = "MISTMCP_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn default_tokens_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("mistmcp").join("tokens.json"))
}

fn tokens(action: &TokenAction, file: Option<PathBuf>) -> anyhow::Result<()> {
    let path = file
        .or_else(default_tokens_file)
        .context("no token store path: give --tokens-file")?;
    match action {
        TokenAction::Create {
            id,
            description,
            mist_env_file,
            junos_devices,
            show_secrets,
        } => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let token = mistmcp_cli::tokens::create(
                &path,
                id,
                description,
                mist_env_file.as_deref(),
                junos_devices.as_deref(),
                *show_secrets,
            )?;
            eprintln!(
                "token `{id}` created in {}; it is shown only now:",
                path.display()
            );
            println!("{token}");
        }
        TokenAction::List => {
            for t in mistmcp_cli::tokens::list(&path)? {
                println!(
                    "{}\tcreated {}\tlast used {}\t{}{}",
                    t.id,
                    mistmcp_cli::tokens::date(t.created),
                    t.last_used
                        .map(mistmcp_cli::tokens::date)
                        .unwrap_or_else(|| "never".into()),
                    t.description,
                    t.mist_env_file
                        .map(|p| format!(" (Mist credentials: {})", p.display()))
                        .unwrap_or_default()
                        + &t.junos_devices
                            .map(|p| format!(" (Junos devices: {})", p.display()))
                            .unwrap_or_default()
                        + if t.show_secrets {
                            " (shows secrets)"
                        } else {
                            ""
                        }
                );
            }
        }
        TokenAction::Revoke { id } => {
            mistmcp_cli::tokens::revoke(&path, id)?;
            eprintln!("token `{id}` revoked");
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // A child that renders one Junos template under a memory limit (netconf::ChildRenderer).
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(mistmcp_cli::netconf::RENDER_CHILD_ARG))
    {
        return mistmcp_cli::netconf::render_child();
    }
    // The environment's Mist variables, before any env file is read (config: the token rule).
    let environment = config::MistVars::from_environment();
    // A first parse finds the env file; the second sees the settings it defines.
    let first = Args::parse();
    let chosen = match &first.env_file {
        Some(path) => vec![config::Place {
            source: config::Source::EnvFile(path.clone()),
            vars: config::read_env_file(path)?,
        }],
        None => Vec::new(),
    };
    let mut args = Args::parse();
    if let Some(Command::Tokens { action }) = &args.command {
        return tokens(action, args.tokens_file.clone());
    }
    mistmcp_cli::transport::init_tls();
    let api_url_flag = args.api_url.clone();
    let environment = config::MistVars {
        api_url: api_url_flag.clone().or(environment.api_url),
        ..environment
    };
    // The checks run the same for both transports (they serve nothing).
    if args.transport == Transport::Http && !(args.validate_config || args.security_check) {
        init_logs(args.debug, args.log_format);
        let destination = config::server_destination(chosen, environment)?;
        return serve_http(args, destination);
    }
    let mut read_dot_env = false;
    let resolved = config::resolve(chosen, environment, api_url_flag.as_deref(), || {
        let dot_env = config::dot_env()?;
        read_dot_env = dot_env.is_some();
        Ok(dot_env.into_iter().collect())
    })?;
    if read_dot_env {
        let transport = args.transport;
        args = Args::parse();
        anyhow::ensure!(
            args.transport == transport,
            "./.env sets MISTMCP_TRANSPORT_MODE, but the HTTP server never reads ./.env: give the file with --env-file"
        );
    }
    init_logs(args.debug, args.log_format);
    if args.security_check || args.validate_config {
        return check(&args, &resolved);
    }
    let session = Session::new(&session_config(&args)?, resolved.credentials.clone())?;
    warn_show_secrets(&args);
    if args.disable_elicitation {
        if args.enable_write_tools {
            tracing::warn!(
                "--disable-elicitation: write tools run WITHOUT asking the human for confirmation"
            );
        } else {
            tracing::warn!("--disable-elicitation has no effect without --enable-write-tools");
        }
    }
    if session.credentials.token.is_none() {
        tracing::warn!(
            "MIST_APITOKEN is not set: tools are listed, calls to Mist will fail until it is"
        );
    }
    if std::io::stdin().is_terminal() {
        eprintln!(
            "mistmcp {}: MCP server on stdio, {} Mist operations in {} categories, mode {}, cloud {}.\nWaiting for an MCP client on stdin (Ctrl-D to quit); see README.md for client configuration.",
            env!("CARGO_PKG_VERSION"),
            mistcore::catalog::OPERATIONS.len(),
            mistcore::catalog::CATEGORIES.len(),
            session.mode,
            session.credentials.base,
        );
    }
    let service = Arc::new(NativeService::new(
        mist_transport(args.policy())?,
        security_limits()?,
        resolved.stream_url,
    ));
    let memory = service.memory.clone();
    let handler = MistServer::new(session, service);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(async {
            tokio::spawn(memory.run());
            stdio::serve(handler).await
        })
}

impl Args {
    /// The limits of calls to Mist.
    fn policy(&self) -> Policy {
        Policy {
            request_timeout: Duration::from_secs(self.request_timeout.clamp(1, 3600)),
            calls_per_hour: Some(self.rate_limit).filter(|r| *r > 0),
            ..Policy::default()
        }
    }
}

/// The limits of the token security analysis, from `MIST_MAX_*`.
fn security_limits() -> anyhow::Result<mistcore::security::Limits> {
    mistmcp_cli::checks::limits_from_env().map_err(anyhow::Error::msg)
}

fn serve_http(args: Args, destination: config::ServerDestination) -> anyhow::Result<()> {
    let tokens_file = match args.tokens_file.clone() {
        Some(p) if !p.exists() => anyhow::bail!(
            "the token store {} does not exist: create a token with `mistmcp tokens create --tokens-file {} --id <name>`",
            p.display(),
            p.display()
        ),
        Some(p) => Some(p),
        None => default_tokens_file().filter(|p| p.exists()),
    };
    if args.disable_elicitation && args.enable_write_tools {
        tracing::warn!(
            "--disable-elicitation: write tools run WITHOUT asking the human for confirmation"
        );
    }
    warn_show_secrets(&args);
    let options = mistmcp_cli::http::HttpOptions {
        host: args.host.clone(),
        port: args.port,
        idle_timeout: args.session_idle_timeout,
        hibernate_after: args.session_hibernate_after.0,
        max_sessions: args.max_sessions.max(1),
        tokens_file,
        oauth: args
            .oauth_config
            .as_deref()
            .map(mistmcp_cli::http::OAuthGate::load)
            .transpose()?
            .map(Arc::new),
        allow_unauthenticated: args.allow_unauthenticated,
        allowed_origins: args.allowed_origins.clone(),
        allowed_hosts: args.allowed_hosts.clone(),
        max_body_bytes: args.max_body_bytes,
        body_timeout: args.body_timeout.max(Duration::from_secs(1)),
        connections: mistmcp_cli::http::listener::ConnectionLimits {
            max_connections: args.max_connections.max(1),
            header_timeout: args.header_timeout.max(Duration::from_secs(1)),
            idle_timeout: args.keep_alive_timeout.max(Duration::from_secs(1)),
        },
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        defaults: session_config(&args)?,
        junos_known_hosts: args.junos_known_hosts.clone(),
        default_cloud: destination.cloud,
        api_url: destination.api_url,
        service: Arc::new(NativeService::new(
            mist_transport(args.policy())?,
            security_limits()?,
            destination.stream_url,
        )),
    };
    // Validate the defaults once, so that a bad --categories fails at start, not per request.
    Session::new(&options.defaults, mistcore::api::Credentials::anonymous())?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(mistmcp_cli::http::serve(options))
}

/// `--show-secrets` is said at start: the model, its provider and its transcripts see them.
fn warn_show_secrets(args: &Args) {
    if args.show_secrets {
        tracing::warn!(
            "--show-secrets: PSKs, RADIUS secrets, SNMP communities, passwords and API keys reach the model as they are"
        );
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--security-check` and `--validate-config`: report on stdout, exit code says the outcome.
fn check(args: &Args, resolved: &config::Resolved) -> anyhow::Result<()> {
    let credentials = resolved.credentials.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // A team server with OAuth may have no Mist token of its own: its rules hold them.
    if args.validate_config
        && let Some(path) = &args.oauth_config
    {
        let oauth = mistmcp_cli::http::OAuthGate::load(path)?;
        println!("{}", runtime.block_on(oauth.check())?);
        if credentials.token.is_none() && !args.security_check {
            return Ok(());
        }
    }
    if credentials.token.is_none() {
        anyhow::bail!("MIST_APITOKEN is not set: the checks need a token");
    }
    let limits = security_limits()?;
    let transport = mist_transport(args.policy())?;
    if args.validate_config {
        Session::new(&session_config(args)?, credentials.clone())?;
        let me = runtime.block_on(mistmcp_cli::checks::fetch_self(&transport, &credentials))?;
        println!(
            "configuration valid: cloud {}, token of {}, {} operations in {} categories (spec {}), mode {}, write tools {}",
            credentials.base,
            me.get("email")
                .or(me.get("name"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("an unnamed token"),
            mistcore::catalog::OPERATIONS.len(),
            mistcore::catalog::CATEGORIES.len(),
            mistcore::catalog::SPEC_VERSION,
            args.mode,
            if args.enable_write_tools { "on" } else { "off" },
        );
    }
    if args.security_check {
        let report = runtime.block_on(mistmcp_cli::checks::security_report(
            &transport,
            &credentials,
            &limits,
        ))?;
        println!("{}", report.text());
        if report.is_critical() {
            std::process::exit(3);
        }
    }
    Ok(())
}

/// The session configuration of the flags.
fn session_config(args: &Args) -> anyhow::Result<SessionConfig> {
    let junos = args
        .junos_devices
        .as_deref()
        .map(|path| {
            let renderer = Arc::new(mistmcp_cli::netconf::ChildRenderer::of_this_binary()?);
            mistmcp_cli::netconf::devices(path, args.junos_known_hosts.as_deref(), renderer)
        })
        .transpose()?;
    Ok(SessionConfig {
        mode: args.mode,
        categories: args.categories.clone(),
        write_tools: args.enable_write_tools,
        skip_confirmation: args.disable_elicitation,
        show_secrets: args.show_secrets,
        response_format: args.response_format,
        max_response_bytes: Some(args.max_response_bytes).filter(|m| *m > 0),
        strict_security: mistmcp_cli::checks::strict_security_from_env(),
        // stdio; the HTTP gate gives its clients advice of its own.
        missing_token_advice: "set MIST_APITOKEN (or put it in a .env file given with --env-file / MIST_ENV_FILE) and restart the server",
        junos,
    })
}

fn init_logs(debug: bool, format: LogFormat) {
    let default = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MISTMCP_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{default},rmcp=warn,rustls=warn,hyper=warn,reqwest=warn,h2=warn,russh=warn,rustnetconf=warn"
        ))
    });
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Json => logs.json().flatten_event(true).init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// `--session-hibernate-after`: a duration, or `off`.
#[derive(Debug, Clone, Copy)]
struct Hibernate(Option<Duration>);

fn parse_hibernate_after(value: &str) -> Result<Hibernate, String> {
    if value.trim().eq_ignore_ascii_case("off") {
        return Ok(Hibernate(None));
    }
    humantime::parse_duration(value.trim())
        .map(|d| Hibernate(Some(d)))
        .map_err(|e| format!("{e}: give a duration such as 60s or 5m, or off"))
}
