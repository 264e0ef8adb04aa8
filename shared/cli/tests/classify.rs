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
