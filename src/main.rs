use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use dragoman::cli::{Cli, Command};
use dragoman::config::Config;
use dragoman::pipeline::Gateway;
use dragoman::server::Server;

// glibc's allocator spends a fifth of a large list's translation in malloc
// and free; mimalloc takes most of that back (docs/PERFORMANCE.md)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        let checked = Config::load(file).map_err(|e| e.to_string()).and_then(|config| match &config.catalog.path {
            Some(path) => dragoman::backend::Catalog::check(path).map_err(|e| e.message.into_owned()),
            None => Ok(()),
        });
        return match checked {
            Ok(()) => {
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
    single_threaded_runtime().block_on(run(config))
}

/// One worker's runtime: each worker thread runs its own, nginx-style, so a
/// request never waits on a wake-up from another thread.
fn single_threaded_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("the tokio runtime starts")
}

/// How many threads serve requests: `server.workers`, or one per core.
fn worker_count(config: &Config) -> usize {
    match config.server.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
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
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let workers = match start_workers(&server, worker_count(&config) - 1, stopping) {
        Ok(workers) => workers,
        Err(e) => {
            eprintln!("dragoman: cannot start the worker threads: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = server.local_addr().unwrap_or(config.server.listen);
    // a closed stdout must not stop the gateway
    let _ = writeln!(std::io::stdout(), "{}", dragoman::banner::text(addr, server.is_tls(), &routes, demo));
    // this thread is the first worker; the signal stops every one
    server
        .serve(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await;
    let _ = tokio::task::spawn_blocking(move || workers.into_iter().for_each(|w| drop(w.join()))).await;
    ExitCode::SUCCESS
}

/// `count` more threads, each serving the listening socket on its own
/// runtime until `stopping` turns true.
#[cfg(unix)]
fn start_workers(
    server: &Server,
    count: usize,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    (1..=count)
        .map(|n| {
            let worker = server.worker()?;
            let mut stopping = stopping.clone();
            std::thread::Builder::new().name(format!("worker-{n}")).spawn(move || {
                single_threaded_runtime().block_on(worker.serve(async move {
                    let _ = stopping.wait_for(|stop| *stop).await;
                }))
            })
        })
        .collect()
}

/// Elsewhere one thread serves.
#[cfg(not(unix))]
fn start_workers(
    _: &Server,
    _: usize,
    _: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    Ok(Vec::new())
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
