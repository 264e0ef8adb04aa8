//! `assistant`: the project's command line.
//!
//! - `assistant classify`: one message per stdin line → one JSON object per line
//!   (`intent`, `confidence`, `confident`, `payout_trigger`, `evidence`)
//! - `assistant eval FILE.tsv [--peer NAME=LABELS.txt]... [--gate-payout-precision P]`: per-intent
//!   precision, recall, F1, the confusion matrix, macro-F1, accuracy, the payout decision's
//!   precision and recall and the confusions that cost most, for our engine and beside it every
//!   peer's predictions (one label a line; fastText's `__label__` prefix is accepted); with the
//!   gate, a payout precision below P fails the command
//! - `assistant eval-turns FILE.tsv`: the multi-turn set, with and without the buyer's last lines
//! - `assistant demo [--endpoint URL]`: creates tables in DynamoDB Local, seeds the demo shop and
//!   plays the scripted conversation through the real handlers
//! - `assistant drill compensation --orders N --sweeps K`: the exactly-once drill; its last line is
//!   `paid=N double=N missed=N wrongful=N ledger_ok=true|false`
//! - `assistant report payouts --day YYYY-MM-DD --prefix P`: the platform's payout report for a
//!   Beijing day (payouts, total fen, shops in arrears with their balance), as JSON
//! - `assistant bench sweep --totals 10000,200000 --due 500`: the sweep's time at each total
//!   number of orders with the same number due, and payouts per second
//! - `assistant bench coldstart --runs 10`: every function's release binary and a hello-world
//!   `lambda_runtime` one, cold-started on a local Runtime API: bootstrap size, spawn → first
//!   response median and p90, and the ratio to hello world; with `--bootstrap NAME=PATH` for every
//!   function (and `--runner CMD`, e.g. qemu), no timings: the given bootstraps' answers to the
//!   fixtures compared with the host's debug (or `--profile release`) build (scripts/deploy-check.sh)
//! - `assistant create-tables --prefix P [--endpoint URL]`: the tables of template.yaml, named `P-<LogicalId>`
//! - `assistant seed --prefix P [--order-events FILE] [--endpoint URL]`: creates those tables,
//!   writes the demo shops, publishes the demo orders as order events through the `orders`
//!   handler (or, with `--order-events`, writes those events to FILE for the local stack to
//!   invoke the function with), and prints one JSON object: `tables` (variable → name),
//!   `identities` (the claims of every seeded person) and `orders` (the demo orders), for the
//!   local stack

use assistant_aws::{local_client, DynamoStore, Tables};
use assistant_domain::intent::{classify, classify_light};
use assistant_domain::model::time::now_millis;
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

const USAGE: &str = "usage:
  assistant classify [--evidence]    < messages.txt   (one JSON object per line)
  assistant eval FILE.tsv [--peer NAME=LABELS.txt]... [--gate-payout-precision 0.95] [--show-errors N]
                                                      (ours beside peers' predictions, one label a line;
                                                       --predictions LABELS.txt scores one peer alone;
                                                       --train TRAIN.tsv over a model trained in the run;
                                                       --payout-errors lists the missed and wrongful payouts)
  assistant eval-turns FILE.tsv                       (the multi-turn set: with and without the buyer's last lines)
  assistant demo [--endpoint URL] [--s3-endpoint URL] (DynamoDB Local, moto S3; defaults $AWS_ENDPOINT_URL_DYNAMODB, $AWS_ENDPOINT_URL_S3)
  assistant create-tables --prefix P [--endpoint URL]
  assistant seed --prefix P [--order-events FILE] [--endpoint URL]  (tables + demo data; prints tables, identities and orders as JSON)
  assistant drill compensation [--orders 1000] [--sweeps 4] [--endpoint URL]
  assistant report payouts --day YYYY-MM-DD --prefix P [--endpoint URL]
  assistant bench sweep [--totals 10000,200000] [--due 500] [--endpoint URL]
  assistant bench flow [--messages 1000] [--due 500] [--endpoint URL]
  assistant bench orders [--orders 1000] [--concurrency 16] [--endpoint URL]
  assistant bench coldstart [--runs 10] [--target-dir target] [--endpoint URL]
                                                      (release binaries: cargo build --release)
  assistant bench coldstart --bootstrap NAME=PATH ... [--runner CMD] [--profile debug] [--target-dir target] [--endpoint URL]
                                                      (every function's bootstrap against the host's build: same answers)
  assistant bench intent [FILE.tsv] [--rounds 20]     (the engine's ready time in this fresh process,
                                                       then per message p50/p99/max, single thread)";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn endpoint(args: &[String]) -> Result<String, String> {
    flag(args, "--endpoint")
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok())
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
        .ok_or_else(|| {
            "no DynamoDB endpoint: pass --endpoint http://HOST:PORT or set \
             AWS_ENDPOINT_URL_DYNAMODB"
                .into()
        })
}

fn run_classify(args: &[String]) -> std::io::Result<()> {
    let with_evidence = args.iter().any(|a| a == "--evidence");
    let mut stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if with_evidence {
            serde_json::to_writer(&mut out, &classify(text))?;
            out.write_all(b"\n")?;
        } else {
            write_light(&mut out, &classify_light(text))?;
        }
    }
    out.flush()
}

/// The bulk form: `{"intent","confidence","confident","payout_trigger","secondary"}`, written
/// directly.
fn write_light(
    out: &mut impl Write,
    c: &assistant_domain::intent::Classification,
) -> std::io::Result<()> {
    let thousandths = (c.confidence * 1000.0).round() as u32;
    write!(
        out,
        "{{\"intent\":\"{}\",\"confidence\":{}.{:03},\"confident\":{},\"payout_trigger\":{},\"secondary\":",
        c.intent.as_str(),
        thousandths / 1000,
        thousandths % 1000,
        c.confident,
        c.pays()
    )?;
    match c.secondary {
        Some(s) => writeln!(out, "\"{}\"}}", s.as_str()),
        None => writeln!(out, "null}}"),
    }
}

async fn run_demo(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&format!("demo{}", now_millis()));
    assistant_aws::schema::create_tables(&client, &tables).await?;
    let store = DynamoStore::new(client, tables);
    // Screenshots go to a local S3 (moto) when one is given; the feedback step needs it.
    let s3 = flag(args, "--s3-endpoint").or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok());
    let blobs = match s3.filter(|e| !e.is_empty()) {
        Some(endpoint) => {
            let client = assistant_aws::s3::local_s3_client(&endpoint);
            let bucket = format!("demo-feedback-{}", now_millis());
            client.create_bucket().bucket(&bucket).send().await?;
            Some(assistant_aws::s3::S3Blobs::new(client, bucket))
        }
        None => None,
    };
    let mut out = std::io::stdout().lock();
    assistant_cli::demo::run(&store, blobs.as_ref(), now_millis(), &mut out).await?;
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
    let operator = assistant_domain::model::identity::Actor::from_claims(
        Some("cli-operator"),
        Some("platform"),
        None,
    )?;
    let report = assistant_domain::usecases::payout_report(&store, &operator, &day).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// `assistant bench flow`: requests and capacity units per step of the 催发货 flow, intake latency
/// against a bare GetItem + PutItem pair, and the sweep's payouts per second, in one run.
async fn run_bench_flow(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let number = |name: &str, default: usize| -> Result<usize, String> {
        flag(args, name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name} takes a whole number, got {v:?}"))
        })
    };
    let n = number("--messages", 1000)?;
    let due = number("--due", 500)?;
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&format!("flow{}", now_millis()));
    assistant_aws::schema::create_tables(&client, &tables).await?;
    // One buyer sends every timed message within a minute or two: the allowance is still taken
    // for each (its request and units are measured), only its ceiling is out of reach.
    let unlimited = assistant_domain::model::limits::Limits::new(u32::MAX, u32::MAX)?;
    let store = DynamoStore::new(client, tables).with_limits(unlimited);
    let met = assistant_cli::flow_bench::run(&store, n, due, now_millis()).await?;
    if !met {
        println!("(a missed target is reported, not hidden; see BENCHMARKS.md)");
    }
    Ok(())
}

/// `assistant bench orders`: order events through the `orders` handler against DynamoDB Local:
/// events/s, and requests and capacity units per event kind.
async fn run_bench_orders(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let number = |name: &str, default: usize| -> Result<usize, String> {
        flag(args, name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name} takes a whole number, got {v:?}"))
        })
    };
    let orders = number("--orders", 1000)?;
    let concurrency = number("--concurrency", 16)?;
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&format!("orders{}", now_millis()));
    assistant_aws::schema::create_tables(&client, &tables).await?;
    let store = DynamoStore::new(client, tables);
    let met = assistant_cli::orders_bench::run(&store, orders, concurrency, now_millis()).await?;
    if !met {
        println!("(a missed target is reported, not hidden; see BENCHMARKS.md)");
    }
    Ok(())
}

async fn run_bench(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    if args.get(1).map(String::as_str) == Some("orders") {
        return run_bench_orders(args).await;
    }
    if args.get(1).map(String::as_str) == Some("flow") {
        return run_bench_flow(args).await;
    }
    if args.get(1).map(String::as_str) == Some("coldstart") {
        return assistant_cli::coldstart::run(args, &endpoint(args)?).await;
    }
    if args.get(1).map(String::as_str) == Some("intent") {
        return assistant_cli::evaluate::run_speed(args);
    }
    if args.get(1).map(String::as_str) != Some("sweep") {
        return Err(
            "usage: assistant bench sweep [--totals 10000,200000] [--due 500]
       assistant bench flow [--messages 1000] [--due 500]
       assistant bench orders [--orders 1000] [--concurrency 16]
       assistant bench coldstart [--runs 10] [--target-dir target] [--endpoint URL]
       assistant bench coldstart --bootstrap NAME=PATH ... [--runner CMD] [--endpoint URL]
       assistant bench intent [FILE.tsv] [--rounds 20]"
                .into(),
        );
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

async fn run_seed(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let prefix = flag(args, "--prefix").ok_or("--prefix is required")?;
    let client = local_client(&endpoint(args)?);
    let tables = Tables::prefixed(&prefix);
    assistant_aws::schema::create_tables(&client, &tables).await?;
    let store = DynamoStore::new(client, tables.clone());
    let now = now_millis();
    match flag(args, "--order-events") {
        // The local stack publishes them itself, through the `orders` function as EventBridge
        // would invoke it.
        Some(file) => {
            assistant_cli::seed::onboard_shops(&store, now).await?;
            let events = assistant_cli::seed::demo_order_events(now);
            std::fs::write(&file, serde_json::to_vec(&events)?)?;
        }
        None => assistant_cli::seed::seed(&store, now).await?,
    }
    let orders: Vec<serde_json::Value> = assistant_cli::seed::demo_orders(now)
        .iter()
        .map(|o| {
            serde_json::json!({
                "order_id": o.order_id, "shop_id": o.shop_id, "buyer_id": o.buyer_id,
                "title": o.title(),
            })
        })
        .collect();
    let table_env: serde_json::Map<String, serde_json::Value> = tables
        .env()
        .into_iter()
        .map(|(var, name)| (var.to_string(), name.into()))
        .collect();
    let out = serde_json::json!({
        "tables": table_env,
        "identities": assistant_cli::seed::identities(),
        "orders": orders,
    });
    println!("{out}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result: Result<(), Box<dyn std::error::Error>> = match args.first().map(String::as_str) {
        Some("classify") => run_classify(&args).map_err(Into::into),
        Some("demo") => run_demo(&args).await,
        Some("eval") => match assistant_cli::evaluate::run_eval(&args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Some("eval-turns") => assistant_cli::evaluate::run_eval_turns(&args),
        Some("create-tables") => run_create_tables(&args).await,
        Some("seed") => run_seed(&args).await,
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
