//! The cold-start bench (`assistant bench coldstart`): a local Lambda Runtime API on 127.0.0.1 that
//! starts a function's release binary as Lambda would (`AWS_LAMBDA_RUNTIME_API` and the function's
//! environment), hands it one event on `GET /2018-06-01/runtime/invocation/next`, and times process
//! start → `POST /2018-06-01/runtime/invocation/{id}/response`. That span holds everything a cold
//! start costs here: loading the binary, config, the SDK client and its warm-up call, the runtime's
//! first poll and the first invocation handled against DynamoDB Local.
//!
//! The same harness measures a hello-world `lambda_runtime` binary, the floor the functions are
//! compared with, and `hello-dynamodb`, the floor of any function that reads DynamoDB before it
//! answers (one GetItem per event, nothing else).
//!
//! With `--bootstrap NAME=PATH` (the arm64 `bootstrap`s of `sam build`) and `--runner CMD` (e.g.
//! `qemu-aarch64-static`), it times nothing: each function answers its fixture once as the host's
//! build and once as the given bootstrap started through the runner, each on freshly seeded
//! tables, and the two answers must be the same (`scripts/deploy-check.sh`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One binary to measure and the event it is given.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: String,
    pub binary: PathBuf,
    /// The event, as JSON text (an `events/*.json` file).
    pub event: String,
    /// A command the binary is started through (an emulator and its options), or none.
    pub runner: Vec<String>,
}

/// What one cold start produced.
#[derive(Debug, Clone)]
pub struct ColdStart {
    /// Process spawn → the runtime's first `GET .../invocation/next`: the init phase (config,
    /// client, warm-up call), what Lambda reports as "Init Duration".
    pub init: Duration,
    /// Process spawn → the first response posted to the runtime API.
    pub elapsed: Duration,
    /// CPU time the process (all its threads) had used by then, when the platform tells
    /// (Linux: `/proc/<pid>/task/*/schedstat`); the rest of `elapsed` is waiting (DynamoDB Local).
    pub cpu: Option<Duration>,
    /// The response body the function posted.
    pub response: String,
}

/// CPU time a live process has used so far, summed over its threads (Linux only).
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}

/// What the runtime API saw from the child.
enum Outcome {
    /// The first poll for work: init is done.
    Ready(Instant),
    Response(String),
    Error(String),
}

/// A request read off the connection: method, path, body.
struct RuntimeRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn read_request(
    reader: &mut BufReader<TcpStream>,
) -> std::io::Result<Option<RuntimeRequest>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut content_length = 0usize;
    let mut chunked = false;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 {
            return Ok(None);
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                content_length = value.parse().unwrap_or(0);
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(content_length, 0);
        reader.read_exact(&mut body).await?;
    }
    Ok(Some(RuntimeRequest { method, path, body }))
}

async fn write_response(
    stream: &mut BufReader<TcpStream>,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let stream = stream.get_mut();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

/// Serves one connection of the runtime client: the first `next` gets the event, later ones are
/// held open (the process is killed once the response is in).
async fn serve_connection(
    stream: TcpStream,
    event: std::sync::Arc<String>,
    given: std::sync::Arc<std::sync::atomic::AtomicBool>,
    tx: mpsc::UnboundedSender<Outcome>,
) -> std::io::Result<()> {
    const REQUEST_ID: &str = "coldstart-0001";
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader).await? {
        let path = req.path.as_str();
        if req.method == "GET" && path.ends_with("/runtime/invocation/next") {
            let _ = tx.send(Outcome::Ready(Instant::now()));
            if given.swap(true, std::sync::atomic::Ordering::SeqCst) {
                // One invocation per cold start: hold the poll until the process is stopped.
                let mut byte = [0u8; 1];
                let _ = reader.read(&mut byte).await;
                return Ok(());
            }
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 30_000;
            let headers = [
                ("content-type", "application/json".to_string()),
                ("lambda-runtime-aws-request-id", REQUEST_ID.to_string()),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:coldstart".to_string(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
                ),
            ];
            write_response(&mut reader, "200 OK", &headers, event.as_bytes()).await?;
        } else if req.method == "POST" && path.ends_with("/response") {
            let _ = tx.send(Outcome::Response(
                String::from_utf8_lossy(&req.body).into_owned(),
            ));
            write_response(&mut reader, "202 Accepted", &[], b"{}").await?;
        } else if req.method == "POST" && path.ends_with("/error") {
            let _ = tx.send(Outcome::Error(format!(
                "{path}: {}",
                String::from_utf8_lossy(&req.body)
            )));
            write_response(&mut reader, "202 Accepted", &[], b"{}").await?;
        } else {
            write_response(&mut reader, "404 Not Found", &[], b"{}").await?;
        }
    }
    Ok(())
}

/// One cold start of `subject`: a fresh runtime API, a fresh process, one event.
pub async fn cold_start(
    subject: &Subject,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<ColdStart, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("runtime API listener: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("runtime API address: {e}"))?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let event = std::sync::Arc::new(subject.event.clone());
    let given = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve_connection(
                stream,
                event.clone(),
                given.clone(),
                tx.clone(),
            ));
        }
    });

    let mut command = match subject.runner.split_first() {
        Some((program, options)) => {
            let mut command = tokio::process::Command::new(program);
            command.args(options).arg(&subject.binary);
            command
        }
        None => tokio::process::Command::new(&subject.binary),
    };
    command
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &subject.name)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", subject.binary.display()))?;
    let mut init = None;
    let outcome = tokio::time::timeout(timeout, async {
        loop {
            tokio::select! {
                // What the runtime API heard comes first: a child posts before it exits.
                biased;
                message = rx.recv() => match message {
                    Some(Outcome::Ready(at)) => {
                        init.get_or_insert(at.duration_since(started));
                    }
                    other => return other,
                },
                // A process that dies (a bad binary, SIGILL, a panic in init) fails at once
                // instead of at the timeout.
                _ = child.wait() => return rx.try_recv().ok(),
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    let cpu = child.id().and_then(cpu_time);
    let _ = child.start_kill();
    let status = child.wait().await;
    server.abort();
    match outcome {
        Ok(Some(Outcome::Response(response))) => Ok(ColdStart {
            init: init.unwrap_or(elapsed),
            elapsed,
            cpu,
            response,
        }),
        Ok(Some(Outcome::Error(e))) => Err(format!("{} reported an error: {e}", subject.name)),
        Ok(Some(Outcome::Ready(_))) | Ok(None) | Err(_) => {
            let mut stderr = String::new();
            if let Some(mut err) = child.stderr.take() {
                let _ = err.read_to_string(&mut stderr).await;
            }
            let how = match outcome {
                Err(_) => format!("within {timeout:?}"),
                _ => "before it exited".to_string(),
            };
            Err(format!(
                "{} answered nothing {how} (exit {status:?}): {}",
                subject.name,
                stderr.trim()
            ))
        }
    }
}

/// The figures of one subject over all runs.
#[derive(Debug, Clone)]
pub struct Figures {
    pub name: String,
    pub size_bytes: u64,
    /// Spawn → first response, per run.
    pub samples: Vec<Duration>,
    /// Spawn → first poll (init), per run.
    pub init_samples: Vec<Duration>,
    /// CPU time used by the first response, per run (where the platform tells).
    pub cpu_samples: Vec<Duration>,
    /// The HTTP status of the last response (API Gateway functions), if it had one.
    pub last_status: Option<i64>,
}

impl Figures {
    /// The q-quantile (nearest rank) of spawn → first response, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.samples, q)
    }

    /// The q-quantile (nearest rank) of spawn → first poll, in milliseconds.
    pub fn init_quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.init_samples, q)
    }

    /// The q-quantile (nearest rank) of the CPU time to the first response, in milliseconds.
    pub fn cpu_quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.cpu_samples, q)
    }
}

fn quantile_ms(samples: &[Duration], q: f64) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    if ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
    ms[rank - 1]
}

/// The status code in an API Gateway response body, if it is one.
pub fn response_status(body: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("statusCode")?
        .as_i64()
}

/// Runs `runs` rounds; each round cold-starts every subject once, in turn, so that machine load
/// drifts over all of them alike. A response that is a server fault (500, 503) fails the bench:
/// a figure from a broken start would mean nothing. 501 is a function that is not built yet.
pub async fn measure(
    subjects: &[Subject],
    env: &[(String, String)],
    runs: usize,
) -> Result<Vec<Figures>, String> {
    let mut figures: Vec<Figures> = subjects
        .iter()
        .map(|s| {
            Ok(Figures {
                name: s.name.clone(),
                size_bytes: std::fs::metadata(&s.binary)
                    .map_err(|e| format!("{}: {e}", s.binary.display()))?
                    .len(),
                samples: Vec::with_capacity(runs),
                init_samples: Vec::with_capacity(runs),
                cpu_samples: Vec::with_capacity(runs),
                last_status: None,
            })
        })
        .collect::<Result<_, String>>()?;
    for _ in 0..runs {
        for (subject, fig) in subjects.iter().zip(figures.iter_mut()) {
            let start = cold_start(subject, env, Duration::from_secs(30)).await?;
            let status = response_status(&start.response);
            if let Some(code @ (500 | 502 | 503 | 504)) = status {
                return Err(format!(
                    "{} answered {code}: {}",
                    subject.name, start.response
                ));
            }
            fig.last_status = status;
            fig.samples.push(start.elapsed);
            fig.init_samples.push(start.init);
            fig.cpu_samples.extend(start.cpu);
        }
    }
    Ok(figures)
}

/// The release binary of a package: `<target>/release/<name>`.
pub fn release_binary(target_dir: &Path, name: &str) -> PathBuf {
    target_dir.join("release").join(name)
}

/// The conversation id the fixtures in events/ are written with. The server mints every
/// conversation's id (`POST /conversations`), so a run opens one with
/// `intake-open-conversation.json` and puts its id in the others ([`in_conversation`]).
pub const FIXTURE_CONVERSATION: &str = "conv-fixture-001";

/// A fixture event's text with the placeholder conversation id replaced by `id` (left as it is
/// when `id` is empty: nothing opened yet).
pub fn in_conversation(event: &str, id: &str) -> String {
    if id.is_empty() {
        event.to_string()
    } else {
        event.replace(FIXTURE_CONVERSATION, id)
    }
}

/// Each measured function and the event it is given (intake: a follow-up message in the opened
/// conversation); then the two reference binaries: the
/// DynamoDB floor and the hello-world baseline (last).
pub const FUNCTIONS: [(&str, &str); 9] = [
    ("intake", "intake-post-message.json"),
    ("order-card", "order-card-select.json"),
    ("suggest", "suggest-get-panel.json"),
    ("replies", "replies-get.json"),
    // The feedback listing: the function's whole init (DynamoDB and S3 clients) and a DynamoDB
    // read, without needing an S3 server beside the harness.
    ("feedback", "feedback-list.json"),
    ("compensate", "compensate-schedule.json"),
    // An order event of the demo shop (seeded): one shop read, one conditional write.
    ("orders", "order-paid.json"),
    // The platform reads a shop's ledger: one Query of the Shops table.
    ("shops", "shops-ledger.json"),
    // An agent's push ticket: one conditional PutItem.
    ("push", "push-ticket.json"),
];
pub const BASELINE: &str = "hello-lambda";
/// One GetItem per event and nothing else: what reading DynamoDB costs a first invocation.
pub const DYNAMODB_FLOOR: &str = "hello-dynamodb";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Fresh tables in DynamoDB Local seeded with the demo shop and the fixture flow played up to a
/// confirmed order (so every event finds its data); returns the functions' environment for them
/// and the id of the conversation the fixture opened (the events name it by a placeholder).
async fn prepare(
    endpoint: &str,
    read_event: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(Vec<(String, String)>, String), Box<dyn std::error::Error>> {
    use assistant_aws::{local_client, DynamoStore, Tables};
    use assistant_domain::model::time::{now_millis, HOUR};

    let client = local_client(endpoint);
    // A busy machine can time a CreateTable out after it took effect, and the SDK's retry then
    // finds the table: start again under a fresh prefix, a few times at most.
    let mut attempt = 0;
    let tables = loop {
        let tables = Tables::prefixed(&format!("cold{}-{attempt}", now_millis()));
        match assistant_aws::schema::create_tables(&client, &tables).await {
            Ok(()) => break tables,
            Err(_) if attempt < 2 => attempt += 1,
            Err(e) => return Err(e.into()),
        }
    };
    let store = DynamoStore::new(client, tables.clone());
    let now = now_millis();
    crate::seed::seed(&store, now - HOUR).await?;
    let mut conversation = String::new();
    for (function, file) in [
        (
            crate::demo::Function::Intake,
            "intake-open-conversation.json",
        ),
        (crate::demo::Function::OrderCard, "order-card-select.json"),
    ] {
        let event = in_conversation(&read_event(file)?, &conversation);
        let event = serde_json::from_str(&event)?;
        let (status, body) = crate::demo::invoke(&store, function, event, now).await;
        if !(200..300).contains(&status) {
            return Err(format!("priming with {file} answered {status}: {body}").into());
        }
        if let Some(id) = body["conversation_id"].as_str() {
            conversation = id.to_string();
        }
    }

    let mut env: Vec<(String, String)> = tables
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    for (k, v) in [
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/coldstart"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "coldstart"),
        ("RUST_LOG", "info"),
        ("FEEDBACK_BUCKET", "coldstart-feedback"),
    ] {
        env.push((k.into(), v.into()));
    }
    // An `https` endpoint (scripts/tls-front.sh) is trusted through the certificate file named
    // here; the functions then add the system store (SSL_CERT_FILE) to the Amazon roots.
    if let Ok(file) = std::env::var("SSL_CERT_FILE") {
        env.push(("SSL_CERT_FILE".into(), file));
    }
    Ok((env, conversation))
}

/// What a function answered, as far as two builds of it must agree: the HTTP status of an API
/// Gateway response, otherwise the whole body (the sweep's report on the same data).
fn answer(body: &str) -> String {
    match response_status(body) {
        Some(status) => format!("status {status}"),
        None => body.to_string(),
    }
}

/// Every value of a repeated flag.
fn flags(args: &[String], name: &str) -> Vec<String> {
    args.windows(2)
        .filter(|w| w[0] == name)
        .map(|w| w[1].clone())
        .collect()
}

/// `assistant bench coldstart --bootstrap NAME=PATH ... [--runner CMD] [--profile debug|release]
/// [--target-dir DIR]`: each function once as the host's build (`<target>/<profile>/<name>`; by
/// default the debug build the tests run) and once as the given bootstrap (started through the
/// runner), each on freshly seeded tables; prints both answers and fails unless every function is
/// given and every pair agrees with no server fault. No timings: an emulator's mean nothing.
async fn compare(
    args: &[String],
    endpoint: &str,
    target_dir: &Path,
    read_event: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut given = std::collections::BTreeMap::new();
    for pair in flags(args, "--bootstrap") {
        let (name, path) = pair
            .split_once('=')
            .ok_or_else(|| format!("--bootstrap takes NAME=PATH, not {pair}"))?;
        if !FUNCTIONS.iter().any(|(f, _)| *f == name) {
            return Err(format!("--bootstrap {name}: no such function (no fixture for it)").into());
        }
        given.insert(name.to_string(), PathBuf::from(path));
    }
    // The build the host's tests ran (debug) by default, or `--profile release`.
    let profile = flag(args, "--profile").unwrap_or_else(|| "debug".into());
    let runner: Vec<String> = flag(args, "--runner")
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let mut bootstraps = Vec::new();
    for (name, _) in FUNCTIONS {
        bootstraps.push(
            given
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no --bootstrap {name}=PATH given"))?,
        );
    }
    // An emulated start is slow; this bounds a hung one.
    let timeout = Duration::from_secs(180);
    let mut rounds = Vec::new();
    for on_host in [true, false] {
        let (env, conversation) = prepare(endpoint, read_event).await?;
        let mut answers = Vec::new();
        for ((name, file), bootstrap) in FUNCTIONS.iter().zip(&bootstraps) {
            let subject = Subject {
                name: name.to_string(),
                binary: if on_host {
                    target_dir.join(&profile).join(name)
                } else {
                    bootstrap.clone()
                },
                event: in_conversation(&read_event(file)?, &conversation),
                runner: if on_host { Vec::new() } else { runner.clone() },
            };
            let start = cold_start(&subject, &env, timeout)
                .await
                .map_err(|e| format!("{}: {e}", subject.binary.display()))?;
            answers.push(answer(&start.response));
        }
        rounds.push(answers);
    }
    println!(
        "each function's fixture answered by the host's build ({}) and by the given \
         bootstrap{}, each on freshly seeded tables",
        target_dir.join(&profile).display(),
        if runner.is_empty() {
            String::new()
        } else {
            format!(" under `{}`", runner.join(" "))
        }
    );
    println!("{:<12} {:<12} {:<12} same", "function", "host", "bootstrap");
    let mut failures = Vec::new();
    for (i, (name, _)) in FUNCTIONS.iter().enumerate() {
        let (host, other) = (&rounds[0][i], &rounds[1][i]);
        let fault = [host, other].iter().any(|a| a.starts_with("status 5"));
        let same = host == other;
        println!("{name:<12} {host:<12} {other:<12} {same}");
        if !same || fault {
            failures.push(format!("{name}: host {host}, bootstrap {other}"));
        }
    }
    if !failures.is_empty() {
        return Err(format!("the builds disagree or fail: {}", failures.join("; ")).into());
    }
    println!("all {} functions: the same answers", FUNCTIONS.len());
    Ok(())
}

/// `assistant bench coldstart [--runs N] [--target-dir DIR] [--events DIR]`: fresh tables in
/// DynamoDB Local seeded with the demo shop, the fixture flow played up to a confirmed order (so
/// every event finds its data), then `runs` rounds of cold starts; prints one row per binary.
/// With `--bootstrap NAME=PATH` (and `--runner CMD`), compares answers instead ([`compare`]).
pub async fn run(args: &[String], endpoint: &str) -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize =
        flag(args, "--runs").map_or(Ok(10), |v| v.parse().map_err(|_| "--runs takes a number"))?;
    let target_dir = PathBuf::from(
        flag(args, "--target-dir")
            .or_else(|| std::env::var("CARGO_TARGET_DIR").ok())
            .unwrap_or_else(|| "target".into()),
    );
    let events_dir = PathBuf::from(flag(args, "--events").unwrap_or_else(|| "events".into()));
    let read_event = |file: &str| {
        std::fs::read_to_string(events_dir.join(file))
            .map_err(|e| format!("{}: {e}", events_dir.join(file).display()))
    };
    if args.iter().any(|a| a == "--bootstrap") {
        return compare(args, endpoint, &target_dir, &read_event).await;
    }

    let (env, conversation) = prepare(endpoint, &read_event).await?;
    let mut subjects = Vec::new();
    for (name, file) in FUNCTIONS {
        subjects.push(Subject {
            name: name.into(),
            binary: release_binary(&target_dir, name),
            event: in_conversation(&read_event(file)?, &conversation),
            runner: Vec::new(),
        });
    }
    for name in [DYNAMODB_FLOOR, BASELINE] {
        subjects.push(Subject {
            name: name.into(),
            binary: release_binary(&target_dir, name),
            event: read_event("compensate-schedule.json")?,
            runner: Vec::new(),
        });
    }

    let figures = measure(&subjects, &env, runs).await?;
    // The medians of the last subject, the hello-world floor.
    let hello =
        |median: fn(&Figures, f64) -> f64| figures.last().map_or(f64::NAN, |f| median(f, 0.5));
    let hello_median = hello(Figures::quantile_ms);
    println!(
        "cold start: spawn -> first response posted, {runs} runs each, release binaries in {}",
        target_dir.join("release").display()
    );
    let floor_median = figures[figures.len() - 2].quantile_ms(0.5);
    let hello_init = hello(Figures::init_quantile_ms);
    let hello_cpu = hello(Figures::cpu_quantile_ms);
    println!(
        "{:<14} {:>15} {:>6} {:>8} {:>8} {:>10} {:>10} {:>8} {:>8} {:>10} {:>7} {:>6} {:>6}",
        "binary",
        "bootstrap_bytes",
        "MB",
        "init_ms",
        "init_x",
        "first_ms",
        "first_p90",
        "first_x",
        "floor_x",
        "invoke_ms",
        "cpu_ms",
        "cpu_x",
        "status"
    );
    for f in &figures {
        println!(
            "{:<14} {:>15} {:>6.2} {:>8.1} {:>8.2} {:>10.1} {:>10.1} {:>8.2} {:>8.2} {:>10.1} {:>7.1} {:>6.2} {:>6}",
            f.name,
            f.size_bytes,
            f.size_bytes as f64 / 1e6,
            f.init_quantile_ms(0.5),
            f.init_quantile_ms(0.5) / hello_init,
            f.quantile_ms(0.5),
            f.quantile_ms(0.9),
            f.quantile_ms(0.5) / hello_median,
            f.quantile_ms(0.5) / floor_median,
            f.quantile_ms(0.5) - f.init_quantile_ms(0.5),
            f.cpu_quantile_ms(0.5),
            f.cpu_quantile_ms(0.5) / hello_cpu,
            f.last_status.map_or("-".into(), |s| s.to_string())
        );
    }
    println!(
        "MB: 10^6 bytes; init_ms: spawn -> first poll (medians); first_ms: spawn -> first response; \
         *_x: over hello-lambda; floor_x: first_ms over hello-dynamodb's (one GetItem, nothing \
         else); invoke_ms: first_ms - init_ms, the first invocation's own work; \
         cpu_ms: CPU time (all threads) used by the first response, the rest being waits"
    );
    let functions = &figures[..figures.len() - 2];
    let max_mb = functions
        .iter()
        .map(|f| f.size_bytes as f64 / 1e6)
        .fold(0.0, f64::max);
    let max_ratio = functions
        .iter()
        .map(|f| f.quantile_ms(0.5) / hello_median)
        .fold(0.0, f64::max);
    let max_init_ratio = functions
        .iter()
        .map(|f| f.init_quantile_ms(0.5) / hello_init)
        .fold(0.0, f64::max);
    let max_floor_ratio = functions
        .iter()
        .map(|f| f.quantile_ms(0.5) / floor_median)
        .fold(0.0, f64::max);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "largest bootstrap {max_mb:.2} MB (target <= 8): {}; worst first-response ratio \
         {max_ratio:.2} (target <= 1.5): {}; worst init ratio {max_init_ratio:.2}: {}",
        verdict(max_mb <= 8.0),
        verdict(max_ratio <= 1.5),
        verdict(max_init_ratio <= 1.5)
    );
    println!(
        "hello-dynamodb (one GetItem) over hello-lambda: {:.2}; worst function over \
         hello-dynamodb: {max_floor_ratio:.2}",
        floor_median / hello_median
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let f = Figures {
            name: "x".into(),
            size_bytes: 0,
            samples: (1..=10).map(Duration::from_millis).collect(),
            init_samples: vec![Duration::from_millis(3)],
            cpu_samples: vec![],
            last_status: None,
        };
        assert_eq!(f.quantile_ms(0.5), 5.0);
        assert_eq!(f.quantile_ms(0.9), 9.0);
        assert_eq!(f.quantile_ms(1.0), 10.0);
        assert_eq!(f.init_quantile_ms(0.5), 3.0);
        assert!(f.cpu_quantile_ms(0.5).is_nan(), "no samples: no figure");
    }

    #[test]
    fn the_status_is_read_from_an_api_gateway_response_only() {
        assert_eq!(
            response_status(r#"{"statusCode":201,"body":"{}"}"#),
            Some(201)
        );
        assert_eq!(response_status(r#"{"paid":0}"#), None);
        assert_eq!(response_status("not json"), None);
    }

    #[test]
    fn two_builds_agree_on_the_status_or_on_the_whole_report() {
        assert_eq!(
            answer(r#"{"statusCode":201,"body":"{\"id\":\"a\"}"}"#),
            "status 201"
        );
        assert_eq!(
            answer(r#"{"statusCode":201,"body":"{\"id\":\"b\"}"}"#),
            answer(r#"{"statusCode":201,"body":"{\"id\":\"a\"}"}"#),
            "an API answer is compared by its status only"
        );
        assert_ne!(answer(r#"{"paid":1}"#), answer(r#"{"paid":0}"#));
    }

    #[test]
    fn a_repeated_flag_yields_every_value() {
        let args: Vec<String> = [
            "bench",
            "coldstart",
            "--bootstrap",
            "a=x",
            "--runs",
            "1",
            "--bootstrap",
            "b=y",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(flags(&args, "--bootstrap"), ["a=x", "b=y"]);
        assert!(flags(&args, "--runner").is_empty());
    }
}
