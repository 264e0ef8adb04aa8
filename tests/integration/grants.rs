//! Every IAM permission a function uses is granted to it by template.yaml. DynamoDB Local and
//! moto enforce no IAM, so the stores note the action and resource of every request they make,
//! filed under the function that made it ([`DynamoStore::acting_as`]), while the demo and every
//! fixture in events/ are played through the real handlers; each noted permission must be
//! allowed by a statement of that function's policy.

use crate::support::*;
use assistant_aws::config::TABLES;
use assistant_aws::dynamo::keys::{funds_pk, shop_pk};
use assistant_aws::http::response_json;
use assistant_aws::routes::Route;
use assistant_aws::s3::S3Blobs;
use assistant_aws::DynamoStore;
use assistant_domain::model::ids::ShopId;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use integration_tests::workspace_root;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// (function binary, IAM action, resource, partition key) with the resource written as the
/// template names it: `OrdersTable`, `OrdersTable/index/DueIndex`, `FeedbackBucket`,
/// `FeedbackBucket/feedback/…`; the partition key value the request reached, as IAM's
/// `dynamodb:LeadingKeys` sees it (None for a batch, an index query or S3).
type Permission = (String, String, String, Option<String>);

/// One `Allow` statement of a function's policy: its actions and resource patterns, and the
/// partition keys its `dynamodb:LeadingKeys` condition admits (None: no such condition).
#[derive(Debug, Clone)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
    leading_keys: Option<Vec<String>>,
}

impl Statement {
    /// Whether this statement lets `action` on `resource` reach the partition `key`.
    fn allows(&self, action: &str, resource: &str, key: Option<&str>) -> bool {
        self.actions.iter().any(|a| a == action)
            && self.resources.iter().any(|r| matches(r, resource))
            && match &self.leading_keys {
                None => true,
                Some(patterns) => key.is_some_and(|k| patterns.iter().any(|p| matches(p, k))),
            }
    }
}

/// The `dynamodb:LeadingKeys` patterns of a statement's condition, if it has one (every other
/// condition is refused: this test would not know what it means).
fn leading_keys(statement: &Value) -> Option<Vec<String>> {
    let condition = statement.get("Condition")?;
    let mut patterns = None;
    for (operator, keys) in condition.as_mapping().unwrap() {
        for (key, values) in keys.as_mapping().unwrap() {
            assert_eq!(
                (operator.as_str(), key.as_str()),
                (
                    Some("ForAllValues:StringLike"),
                    Some("dynamodb:LeadingKeys")
                ),
                "a condition this test does not evaluate: {statement:?}"
            );
            patterns = Some(strings(values));
        }
    }
    patterns
}

/// `!GetAtt X.Arn` -> `X`; `!Sub "${X.Arn}/index/I"` -> `X/index/I`.
fn resource_name(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().flat_map(resource_name).collect(),
        Value::Tagged(tagged) => {
            let text = tagged.value.as_str().unwrap_or_default();
            match tagged.tag.to_string().as_str() {
                "!GetAtt" => vec![text.trim_end_matches(".Arn").to_string()],
                "!Sub" => {
                    let (start, rest) = text.split_once("${").unwrap_or(("", text));
                    let (var, tail) = rest.split_once('}').unwrap_or((rest, ""));
                    vec![format!("{start}{}{tail}", var.trim_end_matches(".Arn"))]
                }
                other => panic!("a resource written as {other}: {text}"),
            }
        }
        Value::String(s) => vec![s.clone()],
        other => panic!("a resource written as {other:?}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        Value::String(s) => vec![s.clone()],
        other => panic!("expected strings, found {other:?}"),
    }
}

/// Every function's `Allow` statements, by its binary.
fn policies() -> BTreeMap<String, Vec<Statement>> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    for (_, resource) in doc["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap()
            .to_string();
        let mut statements = Vec::new();
        for policy in resource["Properties"]["Policies"].as_sequence().unwrap() {
            for s in policy["Statement"].as_sequence().unwrap() {
                assert_eq!(s["Effect"].as_str(), Some("Allow"), "{binary}: {s:?}");
                statements.push(Statement {
                    actions: strings(&s["Action"]),
                    resources: resource_name(&s["Resource"]),
                    leading_keys: leading_keys(s),
                });
            }
        }
        out.insert(binary, statements);
    }
    out
}

/// IAM's wildcard: `*` matches any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len())
                    .filter(|&i| name.is_char_boundary(head.len() + i))
                    .any(|i| matches(tail, &name[head.len() + i..]))
        }
    }
}

/// The permissions no statement of their function's policy allows.
fn ungranted(
    used: &BTreeSet<Permission>,
    policies: &BTreeMap<String, Vec<Statement>>,
) -> Vec<Permission> {
    used.iter()
        .filter(|(function, action, resource, key)| {
            !policies.get(function).is_some_and(|statements| {
                statements
                    .iter()
                    .any(|s| s.allows(action, resource, key.as_deref()))
            })
        })
        .cloned()
        .collect()
}

/// What the stores noted, with the template's names for tables and the bucket.
fn used(store: &DynamoStore, blobs: &S3Blobs) -> BTreeSet<Permission> {
    let t = store.tables();
    let logical: BTreeMap<&str, &str> = [&t.orders, &t.conversations, &t.shops]
        .into_iter()
        .zip(TABLES)
        .map(|(name, (id, _))| (name.as_str(), id))
        .collect();
    let mut used = BTreeSet::new();
    for (function, grant) in store.recorded_grants() {
        if function.is_empty() {
            continue; // the test's own seeding and reads
        }
        let table = logical
            .get(grant.table.as_str())
            .unwrap_or_else(|| panic!("{function} used a table of no other test: {grant:?}"));
        let resource = match &grant.index {
            Some(index) => format!("{table}/index/{index}"),
            None => table.to_string(),
        };
        used.insert((
            function,
            grant.action.to_string(),
            resource,
            grant.leading_key,
        ));
    }
    for (action, key) in blobs.recorded_grants() {
        // Only the feedback function is given the screenshot store.
        let resource = if action == "s3:ListBucket" {
            "FeedbackBucket".to_string()
        } else {
            format!("FeedbackBucket/{key}")
        };
        used.insert(("feedback".into(), action.to_string(), resource, None));
    }
    used
}

/// Plays the demo, then every fixture of events/ through its function, recording.
async fn play_everything() -> (DynamoStore, S3Blobs) {
    let store = fresh_store().await;
    let blobs = integration_tests::fresh_blobs().await;
    store.record_grants();
    blobs.record_grants();
    // Every function reads once at cold start to warm its connection.
    for function in Function::ALL
        .iter()
        .map(|f| f.binary())
        .chain(["compensate", "orders"])
    {
        store.acting_as(function).warm_up_read().await.unwrap();
    }
    let mut out = Vec::new();
    Box::pin(assistant_cli::demo::run(
        &store,
        Some(&blobs),
        NOW,
        &mut out,
    ))
    .await
    .expect("the demo plays");
    let mut files: Vec<_> = std::fs::read_dir(workspace_root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    // The conversation of the fixtures is opened first; the others name it by a placeholder.
    files.sort_by_key(|name| (name != "intake-open-conversation.json", name.clone()));
    let mut conv = String::new();
    for name in files {
        let text = std::fs::read_to_string(workspace_root().join("events").join(&name)).unwrap();
        let text = assistant_cli::coldstart::in_conversation(&text, &conv);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        if assistant_aws::websocket::is_socket_event(&json) {
            continue; // the WebSocket fixtures: played in order below, with a ticket of their own
        }
        if let Some(key) = json["routeKey"].as_str() {
            let event = event_file_in(&name, &conv);
            let function = Route::from_key(key).unwrap().function();
            if function == Function::Feedback {
                let store = store.acting_as("feedback");
                Box::pin(feedback::handle(&store, &blobs, event, NOW)).await;
            } else {
                let (_, v) = Box::pin(invoke(&store, function, event, NOW)).await;
                if let Some(id) = v["conversation_id"].as_str().filter(|_| conv.is_empty()) {
                    conv = id.to_string();
                }
            }
        } else if json["source"] == orders::SOURCE {
            let known = assistant_domain::usecases::KnownShops::default();
            orders::handle(&store.acting_as("orders"), &known, json, NOW)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        } else {
            let event: EventBridgeEvent<serde_json::Value> = serde_json::from_str(&text).unwrap();
            compensate::handle(&store.acting_as("compensate"), &event, NOW + 3_600_000)
                .await
                .unwrap();
        }
    }
    // The push fixtures: a ticket, $connect with it, subscribes, $disconnect (their conversation
    // was opened by intake-open-conversation.json above).
    crate::push::play_push_fixtures(&store, &conv).await;
    play_fan_out(&store, &conv).await;
    // A screenshot the demo's feedback attached, read back by the platform.
    let feedback = store.acting_as("feedback");
    let platform = [("sub", "ops-1"), ("role", "platform")];
    let list = local_event("GET /feedback", &[], &platform, None);
    let listed = response_json(&Box::pin(feedback::handle(&feedback, &blobs, list, NOW)).await);
    // The bucket's keys are the platform's business: no answer names one.
    assert!(!listed.to_string().contains("feedback/"), "{listed}");
    let id = listed["items"][0]["feedback_id"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo left feedback: {listed}"));
    let shot = local_event(
        "GET /feedback/{feedback_id}/screenshots/{index}",
        &[("feedback_id", id), ("index", "0")],
        &platform,
        None,
    );
    let resp = Box::pin(feedback::handle(&feedback, &blobs, shot, NOW)).await;
    assert_eq!(resp.status_code, 200);
    (store, blobs)
}

/// The push side of the writers and of `subscribe`: a buyer and an agent follow the fixtures'
/// conversation (the buyer catching up from a cursor), the buyer's socket is gone, and a buyer
/// message is pushed: the fan-out's reads, the posts and the gone connection's removal.
async fn play_fan_out(store: &DynamoStore, conv: &str) {
    use crate::push::{connect_and_follow, fake_connections, local_connections};
    let (url, seen) = fake_connections().await;
    let pushing = store
        .clone()
        .with_connections(Some(local_connections(&url)));
    for (connection, claims) in [
        ("GoneBuyer9", buyer(MAIN_BUYER)),
        ("Agent9", agent_of(SHOP)),
    ] {
        connect_and_follow(
            &pushing,
            connection,
            &claims,
            conv,
            Some("0000000000001.m0"),
        )
        .await;
    }
    let body = serde_json::json!({"text": "还没发货吗"});
    let event = local_event(
        POST_MESSAGE,
        &[("conversation_id", conv)],
        &buyer(MAIN_BUYER),
        Some(&body),
    );
    let (status, v) = Box::pin(invoke(&pushing, Function::Intake, event, NOW)).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "both followers were posted to"
    );
    // An order event that moves the order of a conversation an agent follows: the orders
    // function finds it (OrderIndex), commits its new panel and pushes it.
    let (moved, order) = crate::orders::wang_confirms(&pushing, "grants-order-moved").await;
    connect_and_follow(&pushing, "Agent8", &agent_of(SHOP), &moved, None).await;
    let known = assistant_domain::usecases::KnownShops::default();
    let applied = orders::handle(
        &pushing.acting_as("orders"),
        &known,
        crate::orders::wang_shipped(&order),
        NOW + 120_000,
    )
    .await
    .unwrap();
    assert_eq!(applied.panels_shown, vec![moved]);
}

#[tokio::test]
async fn every_permission_a_function_uses_is_granted_by_its_policy() {
    let (store, blobs) = play_everything().await;
    let used = used(&store, &blobs);
    let policies = policies();
    for function in policies.keys() {
        assert!(
            used.iter().any(|(f, ..)| f == function),
            "{function} made no request: the check would prove nothing for it"
        );
    }
    let shown: BTreeSet<_> = used.iter().map(|(f, a, r, _)| (f, a, r)).collect();
    for (function, action, resource) in shown {
        eprintln!("{function:<11} {action:<26} {resource}");
    }
    let missing = ungranted(&used, &policies);
    // Granted but not used on these paths: printed, for whoever tightens the policies next.
    for (function, statements) in &policies {
        for s in statements {
            for action in &s.actions {
                for resource in &s.resources {
                    let hit = used
                        .iter()
                        .any(|(f, a, r, _)| f == function && a == action && matches(resource, r));
                    if !hit {
                        eprintln!("granted, unused here: {function} {action} {resource}");
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "used but not granted by template.yaml (function, action, resource):\n{missing:#?}"
    );
    // The check can fail: without the BatchGetItem the platform's adoption figures need, the
    // suggest function is refused in AWS.
    let mut without = policies.clone();
    for s in without.get_mut("suggest").unwrap() {
        s.actions.retain(|a| a != "dynamodb:BatchGetItem");
    }
    assert_eq!(
        ungranted(&used, &without),
        vec![(
            "suggest".to_string(),
            "dynamodb:BatchGetItem".to_string(),
            "ShopsTable".to_string(),
            None
        )]
    );
    // And a partition the condition does not admit is refused: intake's allowance counters
    // (`LIMIT#…`) moved under another prefix would be.
    let mut narrowed = policies.clone();
    for s in narrowed.get_mut("intake").unwrap() {
        if let Some(keys) = &mut s.leading_keys {
            keys.iter_mut()
                .for_each(|k| *k = k.replace("LIMIT#", "NOLIMIT#"));
        }
    }
    let refused = ungranted(&used, &narrowed);
    assert!(
        !refused.is_empty(),
        "the LeadingKeys condition is evaluated"
    );
    assert!(refused.iter().all(|(f, _, r, k)| f == "intake"
        && r == "ConversationsTable"
        && k.as_deref().is_some_and(|k| k.starts_with("LIMIT#"))));
}

/// The functions (and write actions) whose policy admits a write to `table` in partition `key`.
fn writers(table: &str, key: &str) -> BTreeSet<(String, &'static str)> {
    let writes = [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ];
    let mut writers = BTreeSet::new();
    for (function, statements) in policies() {
        for s in statements {
            for action in writes {
                if s.allows(action, table, Some(key)) {
                    writers.insert((function.clone(), action));
                }
            }
        }
    }
    writers
}

/// Coupons (`BUYER#{buyer}` in the orders table) are money: only compensate's policy lets it
/// write one; every other function's writes to the table are held to other partitions by
/// `dynamodb:LeadingKeys`.
#[test]
fn only_compensate_may_write_a_coupon() {
    assert_eq!(
        writers("OrdersTable", "BUYER#buyer-zhang"),
        BTreeSet::from([
            ("compensate".to_string(), "dynamodb:PutItem"),
            ("compensate".to_string(), "dynamodb:UpdateItem"),
        ])
    );
}

/// A shop's money (its deposit, ledger and top-up markers, in `FUNDS#{shop}` of the shops table):
/// only compensate (payouts) and shops (the platform's onboarding and top-ups) may write it. Every
/// other function's writes to the table are held to `SHOP#{shop}` (counters, replies, the robot,
/// feedback), and compensate's to `FUNDS#…`.
#[test]
fn only_compensate_and_the_platform_may_write_a_shops_money() {
    let funds = funds_pk(&ShopId::parse("xiaolu-home").unwrap());
    let profile = shop_pk(&ShopId::parse("xiaolu-home").unwrap());
    assert_eq!(
        writers("ShopsTable", &funds),
        BTreeSet::from([
            ("compensate".to_string(), "dynamodb:PutItem"),
            ("compensate".to_string(), "dynamodb:UpdateItem"),
            ("shops".to_string(), "dynamodb:PutItem"),
            ("shops".to_string(), "dynamodb:UpdateItem"),
        ])
    );
    let profile_writers: BTreeSet<String> = writers("ShopsTable", &profile)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert!(
        !profile_writers.contains("compensate"),
        "compensate writes no shop profile, reply or counter: {profile_writers:?}"
    );
    for function in [
        "intake",
        "order-card",
        "suggest",
        "replies",
        "feedback",
        "shops",
    ] {
        assert!(
            profile_writers.contains(function),
            "{function} writes in SHOP#…: {profile_writers:?}"
        );
    }
}

#[test]
fn resource_patterns_match_as_iam_matches_them() {
    assert!(matches(
        "FeedbackBucket/feedback/*",
        "FeedbackBucket/feedback/f1/0.png"
    ));
    assert!(!matches(
        "FeedbackBucket/feedback/*",
        "FeedbackBucket/other/f1"
    ));
    assert!(matches("OrdersTable", "OrdersTable"));
    assert!(!matches("OrdersTable", "OrdersTable/index/DueIndex"));
    assert!(matches("a*c*e", "abcde"));
}
