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

/// The template's resources, with CloudFormation's short tags (`!Ref X`, `!Sub "..."`) kept as
/// serde_yaml's tagged values.
fn resources() -> serde_yaml::Mapping {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    doc["Resources"].as_mapping().unwrap().clone()
}

fn of_type<'a>(
    resources: &'a serde_yaml::Mapping,
    kind: &'a str,
) -> impl Iterator<Item = (&'a str, &'a serde_yaml::Value)> + 'a {
    resources
        .iter()
        .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap(), r))
}

/// `!Ref X` / `!GetAtt X.Arn` / `!Sub "...${X}..."`: whether the value names resource `id`.
fn names(value: &serde_yaml::Value, id: &str) -> bool {
    match value {
        serde_yaml::Value::Tagged(tagged) => names(&tagged.value, id),
        serde_yaml::Value::String(s) => {
            s == id || s.starts_with(&format!("{id}.")) || s.contains(&format!("${{{id}"))
        }
        serde_yaml::Value::Sequence(items) => items.iter().any(|v| names(v, id)),
        _ => false,
    }
}

/// The ledger, coupons and deposits live in these tables: a stack deletion or a bad write must
/// not lose them.
#[test]
fn every_table_keeps_its_data_point_in_time_recovery_and_deletion_protection() {
    let resources = resources();
    let tables: Vec<_> = of_type(&resources, "AWS::DynamoDB::Table").collect();
    assert_eq!(tables.len(), 3);
    for (id, table) in tables {
        assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
        assert_eq!(
            table["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{id}"
        );
        let props = &table["Properties"];
        assert_eq!(
            props["DeletionProtectionEnabled"].as_bool(),
            Some(true),
            "{id}"
        );
        assert_eq!(
            props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
            Some(true),
            "{id}"
        );
    }
}

#[test]
fn the_screenshot_bucket_refuses_plain_http_and_expires_screenshots() {
    let resources = resources();
    let (bucket, props) = of_type(&resources, "AWS::S3::Bucket").next().unwrap();
    let rules = props["Properties"]["LifecycleConfiguration"]["Rules"]
        .as_sequence()
        .unwrap();
    assert!(rules.iter().any(|r| r["Status"].as_str() == Some("Enabled")
        && r["Prefix"].as_str() == Some("feedback/")
        && r["ExpirationInDays"].as_u64().is_some_and(|d| d > 0)));
    let policy = of_type(&resources, "AWS::S3::BucketPolicy")
        .find(|(_, p)| names(&p["Properties"]["Bucket"], bucket))
        .expect("a bucket policy for the screenshot bucket");
    let statements = policy.1["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    assert!(statements
        .iter()
        .any(|s| s["Effect"].as_str() == Some("Deny")
            && s["Action"].as_str() == Some("s3:*")
            && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
            && names(&s["Resource"], bucket)));
}

#[test]
fn every_function_has_reserved_concurrency_and_a_log_group_with_retention() {
    let resources = resources();
    let groups: Vec<_> = of_type(&resources, "AWS::Logs::LogGroup").collect();
    let functions: Vec<_> = of_type(&resources, "AWS::Serverless::Function").collect();
    assert_eq!(functions.len(), 6);
    for (id, function) in functions {
        let reserved = function["Properties"]["ReservedConcurrentExecutions"].as_u64();
        assert!(
            reserved.is_some_and(|n| n > 0),
            "{id} reserves its concurrency"
        );
        let group = groups
            .iter()
            .find(|(_, g)| names(&g["Properties"]["LogGroupName"], id))
            .unwrap_or_else(|| panic!("{id} has a log group"));
        assert!(
            group.1["Properties"]["RetentionInDays"].as_u64().is_some(),
            "{id}"
        );
    }
}

#[test]
fn the_http_api_is_throttled_and_logs_every_request() {
    let resources = resources();
    let (_, api) = of_type(&resources, "AWS::Serverless::HttpApi")
        .next()
        .unwrap();
    let props = &api["Properties"];
    let route = &props["DefaultRouteSettings"];
    assert!(route["ThrottlingRateLimit"].as_u64().is_some_and(|n| n > 0));
    assert!(route["ThrottlingBurstLimit"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let destination = &props["AccessLogSettings"]["DestinationArn"];
    let (_, group) = of_type(&resources, "AWS::Logs::LogGroup")
        .find(|(id, _)| names(destination, id))
        .expect("the access log goes to a log group of the template");
    assert!(group["Properties"]["RetentionInDays"].as_u64().is_some());
    let format = props["AccessLogSettings"]["Format"].as_str().unwrap();
    for field in ["$context.requestId", "$context.routeKey", "$context.status"] {
        assert!(format.contains(field), "{field}");
    }
}

/// A sweep that keeps failing is kept and heard of, not only logged.
#[test]
fn a_failing_sweep_goes_to_a_queue_and_raises_an_alarm() {
    let resources = resources();
    let compensate = &resources["CompensateFunction"]["Properties"];
    let failure = &compensate["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(failure["Type"].as_str(), Some("SQS"));
    let (queue, _) = of_type(&resources, "AWS::SQS::Queue")
        .find(|(id, _)| names(&failure["Destination"], id))
        .expect("the on-failure destination is a queue of the template");
    let alarms: Vec<_> = of_type(&resources, "AWS::CloudWatch::Alarm").collect();
    let watches = |namespace: &str, metric: &str, what: &str| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["Namespace"].as_str() == Some(namespace)
                && p["MetricName"].as_str() == Some(metric)
                && p["Dimensions"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|d| names(&d["Value"], what))
                && p["AlarmActions"]
                    .as_sequence()
                    .is_some_and(|a| !a.is_empty())
        })
    };
    assert!(watches("AWS/Lambda", "Errors", "CompensateFunction"));
    assert!(watches(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        queue
    ));
}
