//! `rustllm-proxy`: the Proxy Server as a standalone binary (no Python), for containers.
//! The same arguments as `rustllm proxy` (LiteLLM's `litellm` flags).

/// Every request allocates and frees many small buffers (headers, JSON maps, bodies) on
/// two threads; mimalloc serves them from per-thread pages where glibc's malloc took
/// about a fifth of the CPU of a request (bench/proxy/README.md). Only this binary: the
/// Python extension leaves the allocator to the interpreter's process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = rustllm::proxy::main(&argv);
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
