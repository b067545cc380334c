//! `mistmcp`: the Juniper Mist API as an MCP server over stdio.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use mistcore::session::{ResponseFormat, Session, SessionConfig, ToolMode};
use mistmcp_cli::{config, server::MistServer, stdio, transport::ReqwestTransport};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the MCP client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// JSON-RPC over stdin/stdout (Claude Desktop, VS Code, agents).
    Stdio,
}

/// The Juniper Mist API (1011 operations) as an MCP server.
///
/// The token comes from MIST_APITOKEN (environment or .env file), the cloud from MIST_HOST
/// (default api.mist.com). Without a token the server still starts: tools list, and calls
/// say what is missing.
#[derive(Debug, Parser)]
#[command(name = "mistmcp", version)]
struct Args {
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
    /// A .env file with MIST_APITOKEN / MIST_HOST (default: ./.env when present).
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
    /// Result format: json (with structured content) or string (text only).
    #[arg(
        short = 'r',
        long = "response-format",
        alias = "response_format",
        env = "MISTMCP_RESPONSE_FORMAT",
        default_value = "json"
    )]
    response_format: ResponseFormat,
    /// Explicit API base URL instead of a Mist cloud (tests, private deployments).
    #[arg(long, env = "MIST_API_URL")]
    api_url: Option<String>,
    /// Seconds before an upstream request is abandoned.
    #[arg(long, env = "MISTMCP_TIMEOUT", default_value_t = 30)]
    timeout: u64,
}

fn main() -> anyhow::Result<()> {
    // A first parse finds the env file; the second sees the variables it defines.
    let first = Args::parse();
    config::load_env_file(first.env_file.as_deref())?;
    let args = Args::parse();
    init_logs(args.debug);

    let credentials = config::credentials(
        std::env::var("MIST_APITOKEN").ok(),
        std::env::var("MIST_HOST").ok(),
        args.api_url.clone(),
    )?;
    let session = Session::new(
        &SessionConfig {
            mode: args.mode,
            categories: args.categories.clone(),
            write_tools: args.enable_write_tools,
            skip_confirmation: args.disable_elicitation,
            response_format: args.response_format,
        },
        credentials,
    )?;
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
    let transport = Arc::new(ReqwestTransport::new(Duration::from_secs(
        args.timeout.max(1),
    ))?);
    let handler = MistServer::new(session, transport);
    match args.transport {
        Transport::Stdio => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?
            .block_on(stdio::serve(handler)),
    }
}

fn init_logs(debug: bool) {
    let default = if debug { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MISTMCP_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "{default},rmcp=warn,rustls=warn,hyper=warn,reqwest=warn,h2=warn"
        ))
    });
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
}
