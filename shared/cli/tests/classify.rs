//! The `assistant classify` interface: one JSON object per input line, with `intent` (one of the
//! ten ids) and `confidence`. Later engines must keep it.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn classify_prints_one_json_object_per_line() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_assistant"))
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = "什么时候发货\n不着急，慢慢发\n\n快递到哪了\r\n\u{1F600}??\n";
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "one line out per line in, empty ones too");
    let ids = [
        "urge_shipment",
        "logistics",
        "change_address",
        "cancel_order",
        "refund_return",
        "invoice",
        "product_question",
        "price_promotion",
        "complaint_quality",
        "other",
    ];
    for l in &lines {
        assert!(ids.contains(&l["intent"].as_str().unwrap()), "{l}");
        let c = l["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c), "{l}");
    }
    assert_eq!(lines[0]["intent"], "urge_shipment");
    assert_ne!(lines[1]["intent"], "urge_shipment");
    assert_eq!(lines[3]["intent"], "logistics");
}

#[test]
fn invalid_utf8_input_is_classified_not_fatal() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_assistant"))
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\xff\xfe\n\xe5\x8f\x91\xe8\xb4\xa7\xe4\xba\x86\xe5\x90\x97\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().nth(1).unwrap().contains("urge_shipment"));
}

#[test]
fn unknown_command_prints_usage_and_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_assistant"))
        .arg("nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

/// `payout_trigger` is printed in both forms, and is exactly the engine's payout decision.
#[test]
fn classify_prints_the_payout_decision() {
    for args in [vec!["classify"], vec!["classify", "--evidence"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_assistant"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all("什么时候发货\n能不能分开发货\n发票什么时候发\n".as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let triggers: Vec<bool> = lines
            .iter()
            .map(|l| l["payout_trigger"].as_bool().unwrap())
            .collect();
        assert_eq!(triggers, [true, false, false], "{args:?}: {lines:?}");
    }
}

/// `eval` with a peer prints both side by side; the gate fails the command below its figure.
#[test]
fn eval_prints_peers_side_by_side_and_the_gate_fails_below_its_figure() {
    let dir = std::env::temp_dir().join(format!("assistant-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let set = dir.join("set.tsv");
    std::fs::write(
        &set,
        "text\tintent\talso_ok\tnote\n什么时候发货\turge_shipment\t\tx\n能不能分开发货\tother\t\tx\n快递到哪了\tlogistics\t\tx\n",
    )
    .unwrap();
    let peer = dir.join("peer.txt");
    std::fs::write(
        &peer,
        "__label__urge_shipment\n__label__urge_shipment\nlogistics\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_assistant"))
            .arg("eval")
            .arg(&set)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--peer", &format!("echo={}", peer.display())]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("=== side by side"), "{text}");
    let echo = text.lines().find(|l| l.starts_with("echo ")).expect(&text);
    // The peer paid on the split line: precision 0.5, one wrongful payout.
    assert!(
        echo.contains("0.5000") && echo.trim_end().ends_with('1'),
        "{echo}"
    );
    let pass = run(&["--gate-payout-precision", "0.95"]);
    assert!(
        pass.status.success(),
        "{}",
        String::from_utf8_lossy(&pass.stdout)
    );
    let fail = run(&["--gate-payout-precision", "1.5"]);
    assert!(!fail.status.success());
    assert!(String::from_utf8(fail.stdout).unwrap().contains("FAIL"));
    std::fs::remove_dir_all(&dir).ok();
}
