//! `assistant`: the project's command line.
//!
//! - `assistant classify`: one message per stdin line → one JSON object per line
//!   (`intent`, `confidence`, `confident`, `evidence`)
//! - `assistant demo [--endpoint URL]`: creates tables in DynamoDB Local, seeds the demo shop and
//!   plays the scripted conversation through the real handlers
//! - `assistant drill compensation --orders N --sweeps K`: the exactly-once drill; its last line is
//!   `paid=N double=N missed=N wrongful=N ledger_ok=true|false`
//! - `assistant report payouts --day YYYY-MM-DD --prefix P`: the platform's payout report for a
//!   Beijing day (payouts, total fen, shops in arrears with their balance), as JSON
//! - `assistant bench sweep --totals 10000,200000 --due 500`: the sweep's time at each total
//!   number of orders with the same number due, and payouts per second
//! - `assistant create-tables --prefix P [--endpoint URL]`: the tables of template.yaml, named `P-<LogicalId>`

use assistant_aws::{local_client, DynamoStore, Tables};
use assistant_domain::intent::classify;
use assistant_domain::time::now_millis;
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:
  assistant classify                 < messages.txt   (one JSON object per line)
  assistant demo [--endpoint URL]                     (DynamoDB Local; default $AWS_ENDPOINT_URL_DYNAMODB)
  assistant create-tables --prefix P [--endpoint URL]
  assistant drill compensation [--orders 1000] [--sweeps 4] [--endpoint URL]
  assistant report payouts --day YYYY-MM-DD --prefix P [--endpoint URL]
  assistant bench sweep [--totals 10000,200000] [--due 500] [--endpoint URL]";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn endpoint(args: &[String]) -> Result<String, String> {
    flag(args, "--endpoint")
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok())
        .ok_or_else(|| {
            "no DynamoDB endpoint: pass --endpoint or set AWS_ENDPOINT_URL_DYNAMODB".into()
        })
}

fn run_classify() -> std::io::Result<()> {
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let c = classify(text.trim_end_matches('\r'));
        serde_json::to_writer(&mut out, &c)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

async fn run_demo(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&format!("demo{}", now_millis()));
    assistant_aws::schema::create_tables(&client, &tables).await?;
    let store = DynamoStore::new(client, tables);
    let mut out = std::io::stdout().lock();
    assistant_cli::demo::run(&store, now_millis(), &mut out).await?;
    Ok(())
}

async fn run_drill(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if args.get(1).map(String::as_str) != Some("compensation") {
        return Err("usage: assistant drill compensation [--orders N] [--sweeps K]".into());
    }
    let number = |name: &str, default: usize| -> Result<usize, String> {
        flag(args, name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name} takes a whole number, got {v:?}"))
        })
    };
    let orders = number("--orders", 1000)?;
    let sweeps = number("--sweeps", 4)?.max(1);
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&format!("drill{}", now_millis()));
    assistant_aws::schema::create_tables(&client, &tables).await?;
    let store = DynamoStore::new(client, tables);
    let mut err = std::io::stderr().lock();
    let verdict = assistant_cli::drill::run(&store, orders, sweeps, now_millis(), &mut err).await?;
    println!("{verdict}");
    let clean =
        verdict.double == 0 && verdict.missed == 0 && verdict.wrongful == 0 && verdict.ledger_ok;
    if clean {
        Ok(())
    } else {
        Err("the drill found a payout error".into())
    }
}

async fn run_report(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if args.get(1).map(String::as_str) != Some("payouts") {
        return Err("usage: assistant report payouts --day YYYY-MM-DD --prefix P".into());
    }
    let day = flag(args, "--day").ok_or("--day is required (YYYY-MM-DD, Beijing time)")?;
    let prefix = flag(args, "--prefix").ok_or("--prefix is required (the tables' prefix)")?;
    let store = DynamoStore::new(local_client(&endpoint(args)?), Tables::prefixed(&prefix));
    let operator = assistant_domain::identity::Actor::from_claims(
        Some("cli-operator"),
        Some("platform"),
        None,
    )?;
    let report = assistant_domain::service::payout_report(&store, &operator, &day).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn run_bench(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if args.get(1).map(String::as_str) != Some("sweep") {
        return Err("usage: assistant bench sweep [--totals 10000,200000] [--due 500]".into());
    }
    let totals: Vec<usize> = flag(args, "--totals")
        .unwrap_or_else(|| "10000,200000".into())
        .split(',')
        .map(|t| {
            t.trim()
                .parse()
                .map_err(|_| format!("--totals takes numbers, got {t:?}"))
        })
        .collect::<Result<_, _>>()?;
    let due: usize =
        flag(args, "--due").map_or(Ok(500), |v| v.parse().map_err(|_| "--due takes a number"))?;
    let client = local_client(&endpoint(args)?);
    let mut base = None;
    println!("total_orders  due  load_s  sweep_s  payouts_per_s  sweep_time_vs_first");
    for total in totals {
        let tables = Tables::prefixed(&format!("bench{}-{total}", now_millis()));
        assistant_aws::schema::create_tables(&client, &tables).await?;
        let store = DynamoStore::new(client.clone(), tables);
        let f =
            assistant_cli::bench::sweep_figure(&store, total, due.min(total), now_millis()).await?;
        let first = *base.get_or_insert(f.sweep_secs);
        println!(
            "{:>12}  {:>3}  {:>6.1}  {:>7.2}  {:>13.0}  {:>19.2}",
            f.total_orders,
            f.due,
            f.load_secs,
            f.sweep_secs,
            f.payouts_per_sec(),
            f.sweep_secs / first
        );
    }
    Ok(())
}

async fn run_create_tables(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let prefix = flag(args, "--prefix").ok_or("--prefix is required")?;
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&prefix);
    assistant_aws::schema::create_tables(&client, &tables).await?;
    for (var, name) in tables.env() {
        println!("{var}={name}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result: Result<(), Box<dyn std::error::Error>> = match args.first().map(String::as_str) {
        Some("classify") => run_classify().map_err(Into::into),
        Some("demo") => run_demo(&args).await,
        Some("create-tables") => run_create_tables(&args).await,
        Some("drill") => run_drill(&args).await,
        Some("report") => run_report(&args).await,
        Some("bench") => run_bench(&args).await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assistant: {e}");
            ExitCode::FAILURE
        }
    }
}
