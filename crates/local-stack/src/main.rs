//! `cargo run -p local-stack`: the whole system on loopback, with a guided tour.

use std::process::ExitCode;

use local_stack::stack::{Ports, Stack, StackOptions};
use local_stack::walkthrough::{self, RecentLogs};

const USAGE: &str = "\
Runs the issuer, STS, API Gateway (REST and HTTP API) and the three Lambda functions on loopback,
walks through allowed and refused calls, then keeps serving for manual use.

Usage: cargo run -p local-stack -- [OPTIONS]

Options:
  --check            run the walk-through, then exit: 0 when every outcome is the expected one
  --ephemeral-ports  listen on free ports instead of the fixed 4510-4540 range
  --verbose          print the functions' own log lines
  -h, --help         print this help";

/// Command-line options.
struct Args {
    check: bool,
    ephemeral: bool,
    verbose: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        check: false,
        ephemeral: false,
        verbose: false,
    };
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => args.check = true,
            "--ephemeral-ports" => args.ephemeral = true,
            "--verbose" => args.verbose = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            if !problem.is_empty() {
                eprintln!("{problem}\n");
            }
            eprintln!("{USAGE}");
            return if problem.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let logs = RecentLogs::new(args.verbose);
    let ports = if args.ephemeral {
        Ports::EPHEMERAL
    } else {
        Ports::FIXED
    };
    let stack = match Stack::start(StackOptions::new(ports, logs.clone())).await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("the local stack could not start: {error}");
            if !args.ephemeral {
                eprintln!("(if a port is taken, try --ephemeral-ports)");
            }
            return ExitCode::FAILURE;
        }
    };
    print_banner(&stack);

    let outcomes = walkthrough::run(&stack, &logs).await;
    let failed = outcomes.iter().filter(|outcome| !outcome.passed()).count();
    println!("\n{} passed, {failed} failed", outcomes.len() - failed);
    if args.check {
        return if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    println!("{}", walkthrough::manual_instructions(&stack));
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn print_banner(stack: &Stack) {
    println!("Local stack up (no AWS account involved):");
    let services = [
        ("STS, home account", stack.home.sts.url()),
        ("issuer, home (trusted)", stack.home.issuer.url()),
        ("issuer, partner (trusted)", stack.partner.issuer.url()),
        (
            "issuer, outsider (not trusted)",
            stack.outsider.issuer.url(),
        ),
        ("REST API, stage prod", stack.rest_url.as_str()),
        ("HTTP API", stack.http_url.as_str()),
        ("Lambda Invoke API", stack.lambda_url.as_str()),
    ];
    for (name, url) in services {
        println!("  {name:<32}{url}");
    }
    println!("\nWalk-through: each call goes caller function → STS → API Gateway → authorizer →");
    println!("protected function, all of them the project's compiled Lambda binaries.\n");
}
