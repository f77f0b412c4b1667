use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use dragoman::cli::{Cli, Command};
use dragoman::config::Config;
use dragoman::pipeline::Gateway;
use dragoman::server::Server;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "dragoman=info".into()),
        )
        .with_writer(std::io::stderr)
        // colour codes only for a person at a terminal, not for log collectors
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    if let Some(Command::CheckConfig { file }) = &cli.command {
        return match Config::load(file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("dragoman: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let gateway = match Gateway::from_config(&config) {
        Ok(gateway) => gateway,
        Err(e) => {
            eprintln!("dragoman: {e}");
            return ExitCode::FAILURE;
        }
    };
    let routes = gateway.routes.describe();
    let demo = gateway.identity.demo;
    let server = match Server::bind(config.server.listen, gateway).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("dragoman: cannot listen on {}: {e}", config.server.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = server.local_addr().unwrap_or(config.server.listen);
    // a closed stdout must not stop the gateway
    let _ = writeln!(std::io::stdout(), "{}", dragoman::banner::text(addr, server.is_tls(), &routes, demo));
    server.serve(shutdown_signal()).await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
