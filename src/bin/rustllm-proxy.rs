//! `rustllm-proxy`: the Proxy Server as a standalone binary (no Python), for containers.
//! The same arguments as `rustllm proxy` (LiteLLM's `litellm` flags).

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = rustllm::proxy::main(&argv);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
