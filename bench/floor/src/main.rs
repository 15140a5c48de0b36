//! The floor: what a plain Rust program pays for the same chat-completion call on the same
//! mock. No Python, no binding, no response objects; only reqwest, tokio and serde_json.
//!
//! Usage, where URL is the mock's base URL (`http://127.0.0.1:PORT/v1`):
//!
//! - `rustllm-bench-floor calls URL CALLS CONCURRENCY [WARMUP]`: calls per second over the
//!   timed calls, the process's CPU per call, and their latency percentiles in microseconds.
//! - `rustllm-bench-floor stream URL CHUNKS REPS [SHORT_REPS]`: the per-chunk cost of a
//!   CHUNKS-chunk stream, measured as bench/worker.py measures the Python clients.
//!
//! - `rustllm-bench-floor first URL [WARM]`: the process's first call (client built as part
//!   of it) and the median of WARM more, in microseconds.
//!
//! Prints one JSON object.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const BODY: &str = r#"{"model":"bench","messages":[{"role":"user","content":"hi"}]}"#;

fn arg(args: &[String], i: usize, default: Option<usize>) -> Result<usize, String> {
    match args.get(i) {
        Some(s) => s
            .parse()
            .map_err(|_| format!("argument {i} is not a count: {s:?}")),
        None => default.ok_or_else(|| format!("missing argument {i}")),
    }
}

/// One call as every Python client makes it: POST, status check, body parsed as JSON.
async fn call(client: &reqwest::Client, url: &str) -> Result<u64, String> {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("authorization", "Bearer sk-bench")
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if value.get("choices").is_none() {
        return Err("no choices in the reply".to_string());
    }
    Ok(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

/// `calls` calls spread over `concurrency` tasks pulling from one counter; the latencies.
async fn run(
    client: &reqwest::Client,
    url: &str,
    calls: usize,
    concurrency: usize,
) -> Result<Vec<u64>, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let (client, url, next) = (client.clone(), url.to_string(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                latencies.push(call(&client, &url).await?);
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(calls);
    for task in tasks {
        all.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// CPU seconds used so far by every thread of this process (what Python's
/// `time.process_time()` reads).
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// One stream read to the end: SSE events split on blank lines, each `data:` payload parsed
/// as JSON. Returns the seconds it took, the CPU seconds the process used meanwhile, and
/// the number of non-empty content deltas.
async fn stream_once(
    client: &reqwest::Client,
    url: &str,
    body: &str,
) -> Result<(f64, f64, usize), String> {
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut response = client
        .post(url)
        .header("authorization", "Bearer sk-bench")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let (mut buffer, mut seen) = (Vec::<u8>::new(), 0);
    while let Some(bytes) = response.chunk().await.map_err(|e| e.to_string())? {
        buffer.extend_from_slice(&bytes);
        let mut start = 0;
        while let Some(end) = buffer[start..].windows(2).position(|w| w == b"\n\n") {
            let event = &buffer[start..start + end];
            start += end + 2;
            let Some(data) = event.strip_prefix(b"data: ") else {
                continue;
            };
            if data == b"[DONE]" {
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_slice(data).map_err(|e| e.to_string())?;
            let content = &value["choices"][0]["delta"]["content"];
            if content.as_str().is_some_and(|s| !s.is_empty()) {
                seen += 1;
            }
        }
        buffer.drain(..start);
    }
    Ok((started.elapsed().as_secs_f64(), cpu_seconds() - cpu, seen))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// (time of a CHUNKS-chunk stream - time of a 1-chunk stream of the same text) / CHUNKS.
async fn stream_bench(
    client: &reqwest::Client,
    url: &str,
    args: &[String],
) -> Result<String, String> {
    let chunks = arg(args, 3, None)?;
    let reps = arg(args, 4, None)?;
    let short_reps = arg(args, 5, Some(10))?;
    // The prompt bench/worker.py sends: the numbers 0..CHUNKS, echoed back by the mock.
    let text = (0..chunks)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let body = |n: usize| {
        serde_json::json!({
            "model": format!("echo-chunks-{n}"),
            "messages": [{"role": "user", "content": text}],
            "stream": true,
        })
        .to_string()
    };
    let (short, long) = (body(1), body(chunks));
    stream_once(client, url, &short).await?;
    let (mut short_times, mut short_cpu) = (Vec::new(), Vec::new());
    for _ in 0..short_reps {
        let (seconds, cpu, _) = stream_once(client, url, &short).await?;
        short_times.push(seconds);
        short_cpu.push(cpu);
    }
    let (mut long_times, mut long_cpu, mut seen) = (Vec::new(), Vec::new(), 0);
    for _ in 0..reps {
        let (seconds, cpu, n) = stream_once(client, url, &long).await?;
        long_times.push(seconds);
        long_cpu.push(cpu);
        seen = n;
    }
    let (t_short, t_long) = (median(short_times), median(long_times));
    let (cpu_short, cpu_long) = (median(short_cpu), median(long_cpu));
    Ok(format!(
        r#"{{"chunks": {}, "per_chunk_us": {:.3}, "cpu_per_chunk_us": {:.3}, "stream_ms": {:.3}, "one_chunk_ms": {:.3}, "content_chunks_seen": {}}}"#,
        chunks,
        (t_long - t_short) / chunks as f64 * 1e6,
        (cpu_long - cpu_short) / chunks as f64 * 1e6,
        t_long * 1000.0,
        t_short * 1000.0,
        seen,
    ))
}

async fn bench(args: Vec<String>) -> Result<String, String> {
    let mode = args
        .get(1)
        .ok_or("missing the mode: calls, stream or first")?;
    let base = args.get(2).ok_or("missing the mock's base URL")?;
    let url = format!("{}/chat/completions", base.trim_end_matches('/'));
    if mode == "first" {
        return first_bench(&url, &args).await;
    }
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    match mode.as_str() {
        "calls" => calls_bench(&client, &url, &args).await,
        "stream" => stream_bench(&client, &url, &args).await,
        other => Err(format!("unknown mode {other:?}: use calls or stream")),
    }
}

/// The process's first call, its client built as part of it, then the median of WARM more:
/// what a plain program pays to start (bench/run.py sets rustllm's first call beside it).
async fn first_bench(url: &str, args: &[String]) -> Result<String, String> {
    let warm = arg(args, 3, Some(50))?;
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(|e| e.to_string())?;
    call(&client, url).await?;
    let first = started.elapsed().as_secs_f64() * 1e6;
    let mut latencies = Vec::with_capacity(warm);
    for _ in 0..warm {
        latencies.push(call(&client, url).await?);
    }
    latencies.sort_unstable();
    Ok(format!(
        r#"{{"first_us": {first:.1}, "warm_us": {:.1}}}"#,
        percentile(&latencies, 0.50)
    ))
}

/// CALLS calls at CONCURRENCY after WARMUP untimed ones: throughput and latency percentiles.
async fn calls_bench(
    client: &reqwest::Client,
    url: &str,
    args: &[String],
) -> Result<String, String> {
    let calls = arg(args, 3, None)?;
    let concurrency = arg(args, 4, None)?;
    let warmup = arg(args, 5, Some(concurrency * 5))?;
    run(client, url, warmup, concurrency).await?;
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut latencies = run(client, url, calls, concurrency).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    latencies.sort_unstable();
    let mean = latencies.iter().sum::<u64>() as f64 / latencies.len().max(1) as f64 / 1000.0;
    Ok(format!(
        r#"{{"calls": {}, "concurrency": {}, "seconds": {:.6}, "calls_per_s": {:.1}, "cpu_per_call_us": {:.2}, "p50_us": {:.1}, "p99_us": {:.1}, "mean_us": {:.1}}}"#,
        latencies.len(),
        concurrency,
        seconds,
        latencies.len() as f64 / seconds,
        cpu / latencies.len().max(1) as f64 * 1e6,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        mean,
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // A stream is one connection read in order: on one thread the reader wakes without a
    // cross-thread hand-off per chunk (about 3x cheaper per chunk here than two workers).
    // Concurrent calls get the multi-threaded runtime, the kind rustllm itself runs; a first
    // call the single-threaded one, the kind rustllm's sync calls run on.
    let runtime = if args
        .get(1)
        .is_some_and(|mode| mode == "stream" || mode == "first")
    {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    let outcome = match runtime {
        Ok(runtime) => runtime.block_on(bench(args)),
        Err(e) => Err(format!("cannot start tokio: {e}")),
    };
    match outcome {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("rustllm-bench-floor: {e}");
            std::process::exit(1);
        }
    }
}
