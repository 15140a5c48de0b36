//! The command line: LiteLLM's `litellm` flags, for `rustllm proxy ...`,
//! `rustllm --config ...` and the `rustllm-proxy` binary alike.

use std::path::PathBuf;
use std::time::Duration;

/// LiteLLM's default port.
pub const DEFAULT_PORT: u16 = 4000;

/// How long in-flight requests may take to finish after SIGTERM/SIGINT.
pub const DEFAULT_GRACEFUL_SHUTDOWN: Duration = Duration::from_secs(30);

pub const USAGE: &str = "\
usage: rustllm proxy --config CONFIG.yaml [options]
       rustllm --config CONFIG.yaml [options]
       rustllm-proxy --config CONFIG.yaml [options]

An OpenAI-compatible LLM gateway configured by LiteLLM's config.yaml.

options:
  -c, --config PATH            LiteLLM config.yaml (env CONFIG_FILE_PATH)
  --host HOST                  address to listen on (env HOST; default 0.0.0.0 with a
                               master key, 127.0.0.1 without one)
  --port PORT                  port (env PORT; default 4000; 0 picks a free one)
  --num_workers N              runtime threads (env NUM_WORKERS; default: one per core).
                               One process serves all cores: no worker processes.
  --detailed_debug, --debug    log every request and routing decision
  --allow-unauthenticated      listen on a non-loopback address without a master key
  --graceful_shutdown_timeout SECONDS
                               after SIGTERM/SIGINT, wait this long for in-flight
                               requests (default 30)
  --validate_config            check the config, print `config OK (N models)`, exit
  --version                    print the version
  -h, --help                   this text
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
    /// `None`: not given (the default depends on the master key).
    pub host: Option<String>,
    pub port: u16,
    pub num_workers: Option<usize>,
    pub detailed_debug: bool,
    pub allow_unauthenticated: bool,
    pub graceful_shutdown: Duration,
    pub validate_config: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Serve(Args),
    Help,
    Version,
}

/// LiteLLM flags that select features rustllm does not have yet: refused by name rather
/// than ignored.
const NOT_YET: &[(&str, &str)] = &[
    ("--model", "single-model mode (no config file)"),
    ("-m", "single-model mode (no config file)"),
    ("--alias", "single-model mode (no config file)"),
    ("--api_base", "single-model mode (no config file)"),
    (
        "--run_gunicorn",
        "other servers (rustllm serves with its own)",
    ),
    (
        "--run_hypercorn",
        "other servers (rustllm serves with its own)",
    ),
    (
        "--run_granian",
        "other servers (rustllm serves with its own)",
    ),
    (
        "--ssl_keyfile_path",
        "TLS (put a TLS-terminating proxy in front)",
    ),
    (
        "--ssl_certfile_path",
        "TLS (put a TLS-terminating proxy in front)",
    ),
    ("--test", "the test request"),
    ("--health", "the health command"),
];

/// Parse the arguments after the program name (a leading `proxy` is the subcommand).
/// `env` reads LiteLLM's environment fallbacks (`HOST`, `PORT`, `NUM_WORKERS`,
/// `CONFIG_FILE_PATH`, `DETAILED_DEBUG`).
pub fn parse(argv: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Command, String> {
    let mut args = argv.iter().map(String::as_str).peekable();
    if args.peek() == Some(&"proxy") {
        args.next();
    }
    let mut config = env("CONFIG_FILE_PATH")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let mut host = env("HOST").filter(|s| !s.is_empty());
    let mut port = None;
    let mut num_workers = None;
    let mut detailed_debug = env("DETAILED_DEBUG")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    let mut allow_unauthenticated = false;
    let mut graceful = None;
    let mut validate_config = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg, None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone().or_else(|| args.next().map(str::to_string)) {
                Some(v) => Ok(v),
                None => Err(format!("{name} needs a value")),
            }
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--version" | "-v" => return Ok(Command::Version),
            "-c" | "--config" => config = Some(PathBuf::from(value(flag)?)),
            "--host" => host = Some(value(flag)?),
            "--port" => {
                let v = value(flag)?;
                port =
                    Some(v.parse::<u16>().map_err(|_| {
                        format!("--port must be a port number (0-65535), got {v:?}")
                    })?);
            }
            "--num_workers" => {
                let v = value(flag)?;
                let n = v.parse::<usize>().ok().filter(|n| *n > 0);
                num_workers = Some(n.ok_or_else(|| {
                    format!("--num_workers must be a positive integer, got {v:?}")
                })?);
            }
            "--detailed_debug" | "--debug" => detailed_debug = true,
            "--allow-unauthenticated" | "--allow_unauthenticated" => allow_unauthenticated = true,
            "--graceful_shutdown_timeout" => {
                let v = value(flag)?;
                let secs = v
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok());
                graceful = Some(secs.ok_or_else(|| {
                    format!("--graceful_shutdown_timeout must be a number of seconds, got {v:?}")
                })?);
            }
            "--validate_config" => validate_config = true,
            other => {
                if let Some((_, what)) = NOT_YET.iter().find(|(f, _)| *f == other) {
                    return Err(format!(
                        "{other}: {what} is not supported by rustllm proxy yet; use --config"
                    ));
                }
                return Err(format!("unknown argument {other:?} (see --help)"));
            }
        }
    }
    let port = match port {
        Some(p) => p,
        None => match env("PORT").filter(|s| !s.is_empty()) {
            Some(v) => v
                .parse::<u16>()
                .map_err(|_| format!("PORT must be a port number, got {v:?}"))?,
            None => DEFAULT_PORT,
        },
    };
    if num_workers.is_none() {
        if let Some(v) = env("NUM_WORKERS").filter(|s| !s.is_empty()) {
            num_workers = Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("NUM_WORKERS must be a positive integer, got {v:?}"))?,
            );
        }
    }
    Ok(Command::Serve(Args {
        config,
        host,
        port,
        num_workers,
        detailed_debug,
        allow_unauthenticated,
        graceful_shutdown: graceful.unwrap_or(DEFAULT_GRACEFUL_SHUTDOWN),
        validate_config,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn serve(s: &str) -> Args {
        match parse(&argv(s), &no_env).unwrap() {
            Command::Serve(a) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn litellm_spellings() {
        let a = serve(
            "proxy --config c.yaml --port 4001 --host 0.0.0.0 --num_workers 3 --detailed_debug",
        );
        assert_eq!(a.config, Some(PathBuf::from("c.yaml")));
        assert_eq!(
            (a.port, a.host.as_deref(), a.num_workers),
            (4001, Some("0.0.0.0"), Some(3))
        );
        assert!(a.detailed_debug);
        // `litellm --config ...` without the subcommand, `-c`, `--flag=value`.
        let b = serve("-c c.yaml --port=5000");
        assert_eq!(
            (b.config, b.port, b.host),
            (Some(PathBuf::from("c.yaml")), 5000, None)
        );
        assert_eq!(serve("--config c.yaml").port, DEFAULT_PORT);
        assert_eq!(parse(&argv("--help"), &no_env).unwrap(), Command::Help);
        assert_eq!(
            parse(&argv("proxy --version"), &no_env).unwrap(),
            Command::Version
        );
    }

    #[test]
    fn environment_fallbacks() {
        let env = |k: &str| match k {
            "PORT" => Some("4100".to_string()),
            "HOST" => Some("127.0.0.2".to_string()),
            "CONFIG_FILE_PATH" => Some("/etc/c.yaml".to_string()),
            "NUM_WORKERS" => Some("4".to_string()),
            _ => None,
        };
        let Command::Serve(a) = parse(&argv("proxy"), &env).unwrap() else {
            panic!()
        };
        assert_eq!(a.port, 4100);
        assert_eq!(a.host.as_deref(), Some("127.0.0.2"));
        assert_eq!(a.config, Some(PathBuf::from("/etc/c.yaml")));
        assert_eq!(a.num_workers, Some(4));
        // Flags win.
        let Command::Serve(a) = parse(&argv("--port 1"), &env).unwrap() else {
            panic!()
        };
        assert_eq!(a.port, 1);
    }

    #[test]
    fn bad_arguments_are_named() {
        for (args, needle) in [
            ("--port ten", "--port must be a port number"),
            (
                "--num_workers 0",
                "--num_workers must be a positive integer",
            ),
            ("--config", "--config needs a value"),
            ("--model gpt-4o", "single-model mode"),
            ("--frobnicate", "unknown argument \"--frobnicate\""),
        ] {
            let e = parse(&argv(args), &no_env).unwrap_err();
            assert!(e.contains(needle), "{args}: {e}");
        }
    }
}
