//! The Proxy Server: an OpenAI-compatible LLM gateway configured by LiteLLM's
//! `config.yaml` (`rustllm proxy --config config.yaml`, or the `rustllm-proxy` binary).
//!
//! Plain Rust, no pyo3: the request path is axum over hyper, then the same Router,
//! providers, streaming and cost code the SDK uses. Python, when it starts the proxy,
//! only hands the arguments over (`src/py/proxy.rs`).
//!
//! Layout: `config` (LiteLLM's YAML → typed settings), `routes/` (one file per route
//! family), `auth` (keys, the [`auth::Authenticator`] hook), `limits` (the
//! [`limits::Limiter`] hook), `spend` (a [`spend::SpendEvent`] per request), `errors`
//! (LiteLLM's error envelope), `sse` (the stream writer), `server` (listen, signals,
//! graceful shutdown), `state` (built once, shared by every request).

pub mod auth;
pub mod budget;
pub mod cli;
pub mod config;
pub mod errors;
pub mod guardrails;
pub mod keys;
pub mod limits;
pub mod log;
pub mod ops;
pub mod routes;
pub mod server;
pub mod spend;
pub mod spin;
pub mod sse;
pub mod state;
pub mod store;

use std::sync::Arc;

use cli::{Args, Command};
use config::ProxyConfig;
use state::AppState;

/// Run the proxy with these arguments (those after the program name; a leading `proxy`
/// is the subcommand) until SIGTERM or SIGINT. Returns the process exit code.
pub fn main(argv: &[String]) -> i32 {
    let env = |name: &str| std::env::var(name).ok();
    let args = match cli::parse(argv, &env) {
        Ok(Command::Serve(args)) => args,
        Ok(Command::Help) => {
            print_stdout(cli::USAGE);
            return 0;
        }
        Ok(Command::Version) => {
            print_stdout(&format!("rustllm {}\n", state::VERSION));
            return 0;
        }
        Err(e) => {
            log::error(&e);
            log::info("see --help");
            return 2;
        }
    };
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            log::error(&e);
            1
        }
    }
}

#[allow(clippy::print_stdout)]
fn print_stdout(text: &str) {
    print!("{text}");
}

/// Load the config: settings in the environment first, then report what is ignored.
fn load(args: &Args) -> Result<ProxyConfig, String> {
    if let Some(single) = &args.single {
        let env = |name: &str| std::env::var(name).ok();
        let mut config =
            ProxyConfig::from_value(single.config(), &env).map_err(|e| format!("--model: {e}"))?;
        config.forced_params = single.forced_params();
        return Ok(config);
    }
    let Some(path) = &args.config else {
        return Err(
            "no config: pass --config config.yaml (LiteLLM's format; see examples/proxy/config.yaml), or --model MODEL for one model"
                .to_string(),
        );
    };
    let config =
        ProxyConfig::from_file(path).map_err(|e| format!("config {}: {e}", path.display()))?;
    if !config.ignored.is_empty() {
        log::warn(&format!(
            "ignored settings (not used by rustllm yet): {}",
            config.ignored.join(", ")
        ));
    }
    if !config.missing_env.is_empty() {
        let list: Vec<String> = config
            .missing_env
            .iter()
            .map(|(path, var)| format!("{path} (os.environ/{var})"))
            .collect();
        log::warn(&format!(
            "environment variables not set, values left empty: {}",
            list.join(", ")
        ));
    }
    Ok(config)
}

fn run(args: Args) -> Result<(), String> {
    log::set_debug(args.detailed_debug);
    let config = load(&args)?;
    if config.set_verbose {
        log::set_debug(true);
    }
    if args.validate_config {
        // Building the Router checks what the Router checks (strategies, fallbacks, ...).
        config.router_config().map_err(|e| e.to_string())?;
        print_stdout(&format!("config OK ({} models)\n", config.deployment_count));
        return Ok(());
    }
    // `environment_variables` are exported before anything reads the environment (the
    // providers read their keys there), while this is the only thread.
    for (k, v) in &config.environment {
        std::env::set_var(k, v);
    }
    let workers = args.num_workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    // Requests are served on `workers` threads of their own (server::serve); the shared
    // runtime only accepts connections and runs the background tasks (spend writes, key
    // sync, health checks, the Redis link): one thread is plenty.
    if !crate::transport::set_worker_threads(1) {
        log::warn("the runtime was already running before the proxy started");
    }
    let runtime = crate::transport::runtime();
    runtime.block_on(serve(args, config, workers))
}

async fn serve(args: Args, config: ProxyConfig, workers: usize) -> Result<(), String> {
    let auth_on = config.master_key.is_some();
    let host = args
        .host
        .clone()
        .unwrap_or_else(|| if auth_on { "0.0.0.0" } else { "127.0.0.1" }.to_string());
    if !auth_on && !server::is_loopback(&host) && !args.allow_unauthenticated {
        return Err(format!(
            "refusing to listen on {host} without a master key: anyone who can reach it could spend your provider keys. Set general_settings.master_key (or LITELLM_MASTER_KEY), listen on 127.0.0.1, or pass --allow-unauthenticated"
        ));
    }
    let mut state = AppState::new(&config).map_err(|e| e.to_string())?;
    state.store = open_store(&args, &config).await?;
    // Redis going away (shared limits, Router state and cache fall back to this
    // instance's memory) and coming back, once each per outage, on the proxy's log.
    state
        .router
        .set_event_sink(Arc::new(|level, message: &str| match level {
            crate::cache::link::EventLevel::Warning => log::warn(message),
            crate::cache::link::EventLevel::Info => log::info(message),
        }));
    let mut auth_kind = "master key";
    if let (Some(store), Some(master)) = (&state.store, &config.master_key) {
        // Virtual keys: all of them in memory now, changes followed from here on.
        let cache = Arc::new(keys::KeyCache::default());
        cache
            .load(store)
            .await
            .map_err(|e| format!("cannot load the keys from the database: {e}"))?;
        cache.spawn_sync(store.clone());
        log::info(&format!("virtual keys: {} loaded", cache.len()));
        state.auth = Arc::new(keys::VirtualKeys::new(master, Arc::clone(&cache)));
        state.key_cache = Some(cache);
        auth_kind = "master key and virtual keys";
    }
    let spend_writer = start_spend(&mut state, &config).await?;
    ops::start(&mut state, &config.ops)?;
    if log::debug_enabled() {
        // --detailed_debug: the Router's decisions and each provider request and raw reply
        // (secrets masked where the records are made), on the proxy's own log.
        use crate::logging::{self as core_log, Level, Record, Target};
        core_log::set_sink(Arc::new(|r: &Record<'_>| {
            log::debug(&format!("{}: {}", r.target.logger_name(), r.message))
        }));
        core_log::set_threshold(Target::Calls, Some(Level::Debug as u8));
        core_log::set_threshold(Target::Router, Some(Level::Debug as u8));
    }
    let spin = spin::Spin::from_env()?;
    let listener = server::bind(&host, args.port)?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    if !auth_on {
        log::warn(
            "no master key: every request is let in (general_settings.master_key turns auth on)",
        );
    }
    log::info(&format!(
        "listening on http://{addr} ({} deployments, {workers} serving threads, auth: {})",
        config.deployment_count,
        if auth_on { auth_kind } else { "none" },
    ));
    server::serve(
        Arc::new(state),
        listener,
        server::shutdown_signal(),
        args.graceful_shutdown,
        workers,
        spin,
    )
    .await
    .map_err(|e| format!("server error: {e}"))?;
    if let Some(writer) = spend_writer {
        // What was charged since the last flush is written before the process ends.
        if let Err(e) = writer.flush_now().await {
            log::warn(&format!(
                "spend: the last flush failed: {}",
                store::scrub(&e.to_string(), "")
            ));
        }
    }
    log::info("stopped");
    Ok(())
}

/// With a database: budgets in memory, spend charged per request and written in
/// batches ([`spend::writer`]).
async fn start_spend(
    state: &mut AppState,
    config: &ProxyConfig,
) -> Result<Option<spend::writer::SpendWriter>, String> {
    let Some(store) = &state.store else {
        return Ok(None);
    };
    let ledger = Arc::new(budget::Ledger::default());
    let (sink, rx) = spend::SpendSink::channel(SPEND_QUEUE);
    let writer = spend::writer::SpendWriter::start(
        store.clone(),
        Arc::clone(&ledger),
        rx,
        config.spend.clone(),
    )
    .await
    .map_err(|e| {
        format!(
            "cannot read budgets from the database: {}",
            store::scrub(&e.to_string(), "")
        )
    })?;
    state.spend = Some(sink.with_ledger(ledger));
    state.spend_writer = Some(writer.clone());
    Ok(Some(writer))
}

/// Spend events that may wait for the writer; past that their log rows are dropped
/// (their spend never is: it is in the ledger).
const SPEND_QUEUE: usize = 10_000;

/// Open (and migrate) the database the config names, saying which at start.
async fn open_store(args: &Args, config: &ProxyConfig) -> Result<Option<store::Store>, String> {
    let dir = store::config_dir(args.config.as_deref());
    let Some(url) = store::resolve_url(&config.database, &dir) else {
        log::info("database: none (general_settings.database: none): master key only, the admin API is off");
        return Ok(None);
    };
    let started = std::time::Instant::now();
    let opened = store::Store::open(&url, config.database_pool_limit).await?;
    log::info(&format!(
        "database: {} (pool of {} connections, schema ready in {:.0} ms)",
        opened.description,
        opened.pool_size,
        started.elapsed().as_secs_f64() * 1000.0
    ));
    Ok(Some(opened))
}

#[cfg(test)]
mod tests;
