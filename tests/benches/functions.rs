//! Runs the release function binaries the way Lambda does and prints what Lambda would bill and
//! report: time per authorizer invocation (median and 90th percentile, RS256 and ES384, through
//! the Runtime API), time per request through the local REST API (authorizer cache off, so
//! each request verifies its token), and each function's `Max Memory Used`.
//!
//! Run: `cargo bench -p e2e --bench functions` (optionally `-- <iterations>`, default 500). The
//! first run builds the function binaries in release mode. Times include the local Runtime
//! API's own HTTP round trips, so they are an upper bound for the handler itself; the verifier
//! alone is measured by `cargo bench -p sts-verifier --bench verify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::time::{Duration, Instant};

use e2e::{http, mint, start_stack};
use local_stack::stack::Stack;
use local_stack::world::{self, Persona};
use serde_json::json;

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    let last = sorted.len().saturating_sub(1);
    let at = (share * last as f64).round() as usize;
    sorted.get(at).copied().unwrap_or_default()
}

fn print_row(label: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label:<44} median {:>8.0} µs   p90 {:>8.0} µs   ({} runs)",
        micros(percentile(&samples, 0.5)),
        micros(percentile(&samples, 0.9)),
        samples.len()
    );
}

async fn authorizer_invocations(stack: &Stack, persona: &Persona, iterations: usize) {
    let token = mint(stack, persona).await;
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:111111111111:bench1234/prod/GET/hello",
    });
    let first = stack.authorizer.invoke(event.clone()).await.unwrap();
    assert_eq!(first["policyDocument"]["Statement"][0]["Effect"], "Allow");

    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        stack.authorizer.invoke(event.clone()).await.unwrap();
        samples.push(started.elapsed());
    }
    let label = format!("authorizer invocation, {}", persona.algorithm.as_str());
    print_row(&label, samples);
}

async fn gateway_requests(stack: &Stack, persona: &Persona, iterations: usize) {
    let token = mint(stack, persona).await;
    let url = format!("{}/hello", stack.rest_url);
    assert_eq!(http("GET", &url, Some(&token)).await.0, 200);

    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let (status, _) = http("GET", &url, Some(&token)).await;
        samples.push(started.elapsed());
        assert_eq!(status, 200);
    }
    let label = format!("REST GET /hello, cache off, {}", persona.algorithm.as_str());
    print_row(&label, samples);
}

fn print_memory(name: &str, kib: Option<u64>) {
    match kib {
        Some(kib) => println!("{name:<44} Max Memory Used {:>5.1} MB", kib as f64 / 1024.0),
        None => println!("{name:<44} Max Memory Used not readable here (needs /proc)"),
    }
}

#[tokio::main]
async fn main() {
    let iterations = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(500);
    let test = start_stack(|options| {
        options.rest_cache_ttl = Duration::ZERO;
        options.http_cache_ttl = Duration::ZERO;
    })
    .await;
    let stack = &test.stack;

    for persona in [world::orders_caller(), world::orders_caller_es384()] {
        authorizer_invocations(stack, &persona, iterations).await;
    }
    for persona in [world::orders_caller(), world::orders_caller_es384()] {
        gateway_requests(stack, &persona, iterations).await;
    }
    print_memory("authorizer", stack.authorizer.max_memory_used_kib());
    print_memory("protected-fn", stack.protected.max_memory_used_kib());
}
