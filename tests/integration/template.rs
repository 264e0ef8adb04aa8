//! template.yaml passes `sam validate --lint` (aws-sam-cli from PyPI; scripts/setup.sh installs it).

use integration_tests::workspace_root;
use std::process::Command;

#[test]
fn sam_validate_lint_passes() {
    let out = Command::new("sam")
        .args(["validate", "--lint", "--template-file", "template.yaml"])
        .current_dir(workspace_root())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .expect("sam is installed: run scripts/setup.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "sam validate --lint failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("is a valid SAM Template"), "{stdout}");
}

#[test]
fn every_function_builds_with_cargo_lambda_from_the_workspace() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    for binary in [
        "intake",
        "order-card",
        "suggest",
        "replies",
        "feedback",
        "compensate",
    ] {
        assert!(
            text.contains(&format!("Binary: {binary}")),
            "{binary} has a template entry"
        );
        assert!(workspace_root()
            .join("functions")
            .join(binary)
            .join("src/main.rs")
            .exists());
    }
    assert_eq!(text.matches("BuildMethod: rust-cargolambda").count(), 6);
    assert!(text.contains("Type: Schedule"));
}
