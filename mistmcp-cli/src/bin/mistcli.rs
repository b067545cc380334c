//! `mistcli`: the Juniper Mist API from the shell (see `mistcli --help`).

use std::process::ExitCode;

fn main() -> ExitCode {
    mistmcp_cli::cli::complete_if_asked();
    mistmcp_cli::transport::init_tls();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(mistmcp_cli::cli::exit::OTHER);
        }
    };
    ExitCode::from(runtime.block_on(mistmcp_cli::cli::run(std::env::args_os().collect())))
}
