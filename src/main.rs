use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use dragoman::banner::Callers;
use dragoman::cli::{Cli, Command, TokenKeysCommand};
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
    if let Some(Command::Translate(args)) = &cli.command {
        return translate(args);
    }
    if let Some(Command::TokenKeys(TokenKeysCommand::Rotate { dir, max_active_keys })) = &cli.command {
        return match dragoman::identity::keys::rotate(dir, *max_active_keys) {
            Ok(rotated) => {
                println!("{}: primary key {}, keys {:?} (0 is staged)", dir.display(), rotated.primary, rotated.keys);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("dragoman: {e}");
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

/// `dragoman translate`: stdin to stdout, offline.
fn translate(args: &dragoman::cli::TranslateArgs) -> ExitCode {
    use std::io::Read;
    let mut input = Vec::new();
    // as much as the gateway reads of an upstream reply, and no more
    let limit = dragoman::config::UpstreamConfig::new("stdin", args.from, "").max_reply_bytes as u64;
    if let Err(e) = std::io::stdin().take(limit).read_to_end(&mut input) {
        eprintln!("dragoman translate: reading stdin: {e}");
        return ExitCode::FAILURE;
    }
    match args.run(&input) {
        Ok(out) => match std::io::stdout().write_all(&out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("dragoman translate: {e}");
            ExitCode::FAILURE
        }
    }
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
    for (name, keystone) in gateway.routes.keystone_sessions() {
        if let Err(e) = keystone.token().await {
            eprintln!(
                "dragoman: upstream {name:?}: {} gives no token: {e}; check its URL (OS_AUTH_URL or auth_url) and \
                 credentials (OS_CLOUD, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, … or the [upstream.credentials] table)",
                keystone.describe()
            );
            return ExitCode::FAILURE;
        }
    }
    let destinations = gateway.routes.describe(&config.clients);
    let callers = match (gateway.identity.demo, config.demo_anywhere) {
        (false, _) => Callers::Declared,
        (true, false) => Callers::Demo,
        (true, true) => Callers::DemoAnywhere,
    };
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
    let _ = writeln!(std::io::stdout(), "{}", dragoman::banner::text(addr, server.is_tls(), &destinations, callers));
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
