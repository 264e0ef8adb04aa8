//! Test harness: one DynamoDB Local per test binary, a fresh set of tables per test.
//!
//! If `AWS_ENDPOINT_URL_DYNAMODB` is set (scripts/test.sh sets it), that DynamoDB Local is used.
//! Otherwise the harness starts its own from `.local/dynamodb-local` (scripts/setup.sh installs it)
//! and it dies with the test process.

pub mod fault_proxy;

use assistant_aws::{local_client, DynamoStore, Tables};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use assistant_aws::http::{local_event, response_json};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Starts a local server (`program args…`, its port chosen by `args(port)`) from a thread that
/// lives as long as the process, with PDEATHSIG set, so the server is killed when the test
/// process ends, however it ends. Returns its URL once it listens.
fn spawn_server(name: &str, program: &str, args: impl FnOnce(u16) -> Vec<String>) -> String {
    let port = free_port();
    let args = args(port);
    let program = program.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(program);
        cmd.args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only sets a flag on the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let _ = tx.send(child.is_ok());
        // Keep this thread (the child's "parent") alive for the life of the process.
        loop {
            std::thread::park();
        }
    });
    assert!(
        rx.recv().unwrap_or(false),
        "could not start {name}: run scripts/setup.sh"
    );
    assert!(
        wait_for_port(port, Duration::from_secs(30)),
        "{name} did not open port {port}"
    );
    format!("http://127.0.0.1:{port}")
}

/// DynamoDB Local, from `.local/dynamodb-local` (scripts/setup.sh installs it).
fn spawn_dynamodb_local() -> String {
    let dir = std::env::var("DYNAMODB_LOCAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join(".local/dynamodb-local"));
    let jar = dir.join("DynamoDBLocal.jar");
    assert!(
        jar.exists(),
        "DynamoDB Local is not installed at {}: run scripts/setup.sh",
        jar.display()
    );
    spawn_server("DynamoDB Local", "java", |port| {
        vec![
            format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ),
            "-jar".into(),
            jar.display().to_string(),
            "-inMemory".into(),
            "-port".into(),
            port.to_string(),
        ]
    })
}

/// The DynamoDB Local endpoint for this test binary.
pub fn endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(url) if !url.is_empty() => url,
        _ => spawn_dynamodb_local(),
    })
}

/// A store over a fresh set of tables, created from template.yaml, unique to the caller.
pub async fn fresh_store() -> DynamoStore {
    let endpoint = endpoint();
    let client = local_client(endpoint);
    let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let tables = Tables::prefixed(&prefix);
    assistant_aws::schema::create_tables(&client, &tables)
        .await
        .expect("tables from template.yaml");
    DynamoStore::new(client, tables)
}

/// Reads a fixture from events/.
pub fn event_file(name: &str) -> aws_lambda_events::apigw::ApiGatewayV2httpRequest {
    event_file_in(name, "")
}

/// A fixture of events/ in the conversation `id` (the server minted it): the fixtures name their
/// conversation by a placeholder ([`assistant_cli::coldstart::FIXTURE_CONVERSATION`]).
pub fn event_file_in(
    name: &str,
    conversation: &str,
) -> aws_lambda_events::apigw::ApiGatewayV2httpRequest {
    let path = workspace_root().join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = assistant_cli::coldstart::in_conversation(&text, conversation);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// moto's S3 server (PyPI `moto[server]`, installed by scripts/setup.sh).
fn spawn_moto() -> String {
    spawn_server("moto_server", "moto_server", |port| {
        vec![
            "-H".into(),
            "127.0.0.1".into(),
            "-p".into(),
            port.to_string(),
        ]
    })
}

/// The S3 endpoint (moto) for this test binary: `AWS_ENDPOINT_URL_S3` if set, else our own.
pub fn s3_endpoint() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| match std::env::var("AWS_ENDPOINT_URL_S3") {
        Ok(url) if !url.is_empty() => url,
        _ => spawn_moto(),
    })
}

/// A screenshot store over a fresh bucket, unique to the caller.
pub async fn fresh_blobs() -> assistant_aws::s3::S3Blobs {
    let client = assistant_aws::s3::local_s3_client(s3_endpoint());
    let bucket = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("a bucket in moto");
    assistant_aws::s3::S3Blobs::new(client, bucket)
}
