//! The real `intake` binary under `cargo lambda watch` (cargo-lambda from PyPI), invoked with an
//! event file by `cargo lambda invoke`, talking to DynamoDB Local.

use crate::support::*;
use assistant_domain::model::ids::ConversationId;
use assistant_domain::ports::ConversationStore;
use integration_tests::{endpoint, free_port, workspace_root};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the whole process group of `cargo lambda watch` (it starts cargo and the function),
/// then reaps the leader.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // SAFETY: signalling a process group we created.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        std::thread::sleep(Duration::from_millis(300));
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cargo_lambda_watch_runs_the_real_intake_binary() {
    let store = seeded().await;
    let port = free_port();
    let root = workspace_root();
    let mut watch = Command::new("cargo");
    watch
        .args([
            "lambda",
            "watch",
            "--quiet",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
        ])
        .arg(port.to_string())
        .current_dir(&root)
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .envs(store.tables().env())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let child = watch
        .spawn()
        .expect("cargo lambda is installed: run scripts/setup.sh");
    let _group = Group(child);

    // The first invoke compiles the function if needed: allow for it, bounded.
    let start = Instant::now();
    let output = loop {
        let out = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                "intake",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
            ])
            .arg(port.to_string())
            .args(["--data-file", "events/intake-open-conversation.json"])
            .current_dir(&root)
            .output()
            .expect("cargo lambda invoke runs");
        if out.status.success() {
            break String::from_utf8_lossy(&out.stdout).to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "intake did not answer under cargo lambda watch: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };

    let resp: serde_json::Value = serde_json::from_str(output.trim()).expect(&output);
    assert_eq!(resp["statusCode"], 201, "{resp}");
    let body: serde_json::Value = serde_json::from_str(resp["body"].as_str().unwrap()).unwrap();
    assert!(body["classification"].is_null(), "the buyer's view: {body}");
    let sent_by = body["card"]["sent_by"].as_str().unwrap_or_default();
    assert!(
        ["小鹿家居-小美", "小鹿家居-阿豪"].contains(&sent_by),
        "the serving agent's display name: {body}"
    );
    assert_eq!(body["card"]["guess"]["order_id"], "6930000000000000001");

    // It really wrote to DynamoDB Local.
    let minted = body["conversation_id"]
        .as_str()
        .expect("the id the binary minted");
    let conv = store
        .conversation(&ConversationId::parse(minted).unwrap())
        .await
        .unwrap()
        .expect("the conversation the binary stored");
    assert_eq!(conv.buyer_id.as_str(), MAIN_BUYER);
    assert!(conv.open_card.is_some());
}
