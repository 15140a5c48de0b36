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
       rustllm proxy --model MODEL [--alias NAME] [--api_base URL] [options]
       rustllm --config CONFIG.yaml [options]
       rustllm-proxy --config CONFIG.yaml [options]

An OpenAI-compatible LLM gateway configured by LiteLLM's config.yaml.

options:
  -c, --config PATH            LiteLLM config.yaml (env CONFIG_FILE_PATH)
  -m, --model MODEL            single-model mode, no config file: every request is sent
                               to MODEL (e.g. openai/gpt-4o), whatever model it names
  --alias NAME                 the name /v1/models lists for --model
  --api_base URL, --api_version V, --temperature T, --max_tokens N, --drop_params
                               with --model: the deployment's api_base / api_version;
                               temperature and max_tokens set on every request
  --host HOST                  address to listen on (env HOST; default 0.0.0.0 with a
                               master key, 127.0.0.1 without one)
  --port PORT                  port (env PORT; default 4000; 0 picks a free one)
  --num_workers N              serving threads (env NUM_WORKERS; default: one per core).
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

/// LiteLLM's single-model mode (`litellm --model M`): no config file, one deployment,
/// and every request sent to it whatever `model` it names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SingleModel {
    pub model: String,
    pub alias: Option<String>,
    pub api_base: Option<String>,
    pub api_version: Option<String>,
    /// Set on every request (LiteLLM's `user_temperature`), overriding the client's.
    pub temperature: Option<f64>,
    /// Set on every request (LiteLLM's `user_max_tokens`), overriding the client's.
    pub max_tokens: Option<u64>,
    pub drop_params: bool,
}

impl SingleModel {
    /// The config it stands for: one `model_list` entry named `--alias` (else the model).
    pub fn config(&self) -> serde_json::Value {
        let mut params = serde_json::Map::new();
        params.insert("model".into(), self.model.clone().into());
        if let Some(b) = &self.api_base {
            params.insert("api_base".into(), b.clone().into());
        }
        if let Some(v) = &self.api_version {
            params.insert("api_version".into(), v.clone().into());
        }
        serde_json::json!({
            "model_list": [{"model_name": self.name(), "litellm_params": params}],
            "litellm_settings": {"drop_params": self.drop_params},
        })
    }

    /// The model name clients see and every request is routed to.
    pub fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.model)
    }

    /// What is written into every request body.
    pub fn forced_params(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut forced = serde_json::Map::new();
        forced.insert("model".into(), self.name().into());
        if let Some(t) = self.temperature {
            forced.insert("temperature".into(), t.into());
        }
        if let Some(n) = self.max_tokens {
            forced.insert("max_tokens".into(), n.into());
        }
        forced
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub config: Option<PathBuf>,
    /// `--model` (single-model mode); `None` without it.
    pub single: Option<Box<SingleModel>>,
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
    let mut single = SingleModel::default();
    let mut single_flag: Option<&'static str> = None;
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
            "-m" | "--model" => single.model = value(flag)?,
            "--alias" => {
                single.alias = Some(value(flag)?);
                single_flag = Some("--alias");
            }
            "--api_base" => {
                single.api_base = Some(value(flag)?);
                single_flag = Some("--api_base");
            }
            "--api_version" => {
                single.api_version = Some(value(flag)?);
                single_flag = Some("--api_version");
            }
            "--temperature" => {
                let v = value(flag)?;
                let t = v.parse::<f64>().ok().filter(|t| (0.0..=2.0).contains(t));
                single.temperature = Some(t.ok_or_else(|| {
                    format!("--temperature must be a number from 0 to 2, got {v:?}")
                })?);
                single_flag = Some("--temperature");
            }
            "--max_tokens" => {
                let v = value(flag)?;
                let n = v.parse::<u64>().ok().filter(|n| *n > 0);
                single.max_tokens = Some(n.ok_or_else(|| {
                    format!("--max_tokens must be a positive integer, got {v:?}")
                })?);
                single_flag = Some("--max_tokens");
            }
            "--drop_params" => {
                single.drop_params = true;
                single_flag = Some("--drop_params");
            }
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
    let single = if single.model.is_empty() {
        if let Some(flag) = single_flag {
            return Err(format!(
                "{flag} goes with --model MODEL (single-model mode)"
            ));
        }
        None
    } else if config.is_some() {
        return Err(
            "--model and --config: use one (with a config, put the model in its model_list)"
                .to_string(),
        );
    } else {
        Some(Box::new(single))
    };
    Ok(Command::Serve(Args {
        config,
        single,
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
    fn single_model_mode() {
        let a = serve("proxy --model openai/gpt-4o --alias fast --api_base http://x/v1 --temperature 0.2 --max_tokens 9 --drop_params");
        assert_eq!(a.config, None);
        let single = a.single.unwrap();
        assert_eq!(single.name(), "fast");
        assert_eq!(
            single.config(),
            serde_json::json!({
                "model_list": [{"model_name": "fast", "litellm_params": {"model": "openai/gpt-4o", "api_base": "http://x/v1"}}],
                "litellm_settings": {"drop_params": true},
            })
        );
        assert_eq!(
            serde_json::Value::Object(single.forced_params()),
            serde_json::json!({"model": "fast", "temperature": 0.2, "max_tokens": 9})
        );
        assert_eq!(serve("-m gpt-4o").single.unwrap().name(), "gpt-4o");
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
            ("--ssl_keyfile_path k.pem", "TLS"),
            ("--alias fast", "--alias goes with --model"),
            ("--model m --config c.yaml", "use one"),
            ("--model m --temperature 9", "--temperature must be"),
            ("--frobnicate", "unknown argument \"--frobnicate\""),
        ] {
            let e = parse(&argv(args), &no_env).unwrap_err();
            assert!(e.contains(needle), "{args}: {e}");
        }
    }
}
