#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use dragoman::admin::Admin;
use dragoman::banner::Callers;
use dragoman::cli::{Cli, Command, TokenKeysCommand};
use dragoman::config::{Config, LogConfig, LogFormat};
use dragoman::live::{self, Live};
use dragoman::pipeline::Gateway;
use dragoman::server::Server;
use tracing_subscriber::EnvFilter;

// glibc's allocator spends a fifth of a large list's translation in malloc
// and free; mimalloc takes most of that back (docs/PERFORMANCE.md)
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::CheckConfig { file }) => {
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
        Some(Command::Completions { shell }) => {
            dragoman::cli::completions(*shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        _ => {}
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
    if let Err(e) = start_logging(&config.log) {
        eprintln!("dragoman: {e}");
        return ExitCode::FAILURE;
    }
    dragoman::access::enable(config.log.access);
    single_threaded_runtime().block_on(run(cli, config))
}

/// A log filter that does not parse.
#[derive(Debug, thiserror::Error)]
enum LogFilterError {
    #[error("RUST_LOG {text:?} is not a log filter: {source}")]
    Environment { text: String, source: tracing_subscriber::filter::ParseError },
    #[error("log.filter {filter:?}: {source}")]
    Configured { filter: String, source: tracing_subscriber::filter::ParseError },
}

/// The log on stderr, in the configured format, filtered by `RUST_LOG`
/// or else `log.filter`; a filter that does not parse is refused.
fn start_logging(log: &LogConfig) -> Result<(), LogFilterError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => {
            EnvFilter::try_new(&text).map_err(|source| LogFilterError::Environment { text, source })?
        }
        _ => EnvFilter::try_new(&log.filter)
            .map_err(|source| LogFilterError::Configured { filter: log.filter.clone(), source })?,
    };
    let logger = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match log.format {
        // colour codes only for a person at a terminal, not for log collectors
        LogFormat::Text => logger.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        // one object per line: the event's fields at the top, the request
        // id from the request's span
        LogFormat::Json => logger.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
    Ok(())
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

async fn run(cli: Cli, config: Config) -> ExitCode {
    let gateway = match Gateway::from_config(&config) {
        Ok(gateway) => gateway,
        Err(e) => {
            eprintln!("dragoman: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Keystone is asked once before serving. Refused credentials stop the
    // start; Keystone out of reach stops a one-line start (someone is at the
    // terminal), while a configured gateway starts not ready (`/readyz`) and
    // asks again per request, as a replica rolled out during an outage should.
    for (name, keystone) in gateway.routes.keystone_sessions() {
        if let Err(e) = keystone.token().await {
            let said = format!(
                "upstream {name:?}: {} gives no token: {e}; check its URL (OS_AUTH_URL or auth_url) and \
                 credentials (OS_CLOUD, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, … or the [upstream.credentials] table)",
                keystone.describe()
            );
            if !e.retryable || cli.upstream.is_some() {
                eprintln!("dragoman: {said}");
                return ExitCode::FAILURE;
            }
            tracing::warn!("{said}; serving, not ready until it answers");
        }
    }
    let destinations = gateway.routes.describe(&config.clients);
    let callers = match (gateway.identity.demo, config.demo_anywhere) {
        (false, _) => Callers::Declared,
        (true, false) => Callers::Demo,
        (true, true) => Callers::DemoAnywhere,
    };
    let server = match Server::bind(&config.server, gateway).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("dragoman: cannot listen on {}: {e}", config.server.listen);
            return ExitCode::FAILURE;
        }
    };
    let live = server.live();
    let admin = match Admin::bind(config.admin.listen, live.clone()).await {
        Ok(admin) => admin,
        Err(e) => {
            eprintln!("dragoman: admin.listen: cannot listen on {}: {e}", config.admin.listen);
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
    let admin_addr = admin.local_addr().unwrap_or(config.admin.listen);
    // a closed stdout must not stop the gateway
    let _ = writeln!(std::io::stdout(), "{}", dragoman::banner::text(addr, server.is_tls(), &destinations, callers));
    let _ =
        writeln!(std::io::stdout(), "# admin listening on http://{admin_addr} (/metrics, /livez, /readyz, /mirror)");
    tokio::spawn(admin.serve());
    let drain_delay = Duration::from_secs(config.server.shutdown_drain_delay_secs);
    tokio::spawn(reload_on_hangup(cli, config, live.clone()));
    // this thread is the first worker; the signal stops every one
    server
        .serve(async move {
            if shutdown_signal().await == Stop::Terminate {
                // the orchestrator's stop: first out of the load balancers,
                // still serving what they send meanwhile, then closed
                live.drain();
                tracing::info!(delay = ?drain_delay, "draining: /readyz fails; the listener closes after the delay");
                tokio::time::sleep(drain_delay).await;
            }
            let _ = stop.send(true);
        })
        .await;
    let _ = tokio::task::spawn_blocking(move || workers.into_iter().for_each(|w| drop(w.join()))).await;
    ExitCode::SUCCESS
}

/// On each SIGHUP, reads the configuration again (the file and the command
/// line's overrides) and swaps it in whole; a configuration that does not
/// load or build leaves the running one serving, and says why.
async fn reload_on_hangup(cli: Cli, mut current: Config, live: Arc<Live>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else { return };
        let cli = Arc::new(cli);
        while hangups.recv().await.is_some() {
            let read = cli.clone();
            let loaded = tokio::task::spawn_blocking(move || read.config()).await;
            let next = match loaded.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())) {
                Ok(next) => next,
                Err(e) => {
                    live::record_reload(Err(e.clone()));
                    tracing::warn!(error = %e, "configuration not reloaded: the running one keeps serving");
                    continue;
                }
            };
            match live.reload(&current, &next) {
                Ok(restart_only) => {
                    for key in restart_only {
                        tracing::warn!(key, "changed in the configuration, but takes effect only on a restart");
                    }
                    dragoman::access::enable(next.log.access);
                    tracing::info!("configuration reloaded");
                    current = next;
                }
                Err(e) => tracing::warn!(error = %e, "configuration not reloaded: the running one keeps serving"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (cli, current, live);
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

/// What stops the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Ctrl-C: a person at a terminal, who wants it gone now.
    Interrupt,
    /// SIGTERM: an orchestrator, which drains first.
    Terminate,
}

async fn shutdown_signal() -> Stop {
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
        () = ctrl_c => Stop::Interrupt,
        () = term => Stop::Terminate,
    }
}
