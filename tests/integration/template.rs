//! template.yaml passes `sam validate --lint` (aws-sam-cli from PyPI; scripts/setup.sh installs it);
//! its HttpApi events are the route registry's routes, each on the function that serves it; and
//! every handler serves exactly its registry routes.

use crate::support::*;
use assistant_aws::http::response_json;
use assistant_aws::routes::{Function, Route, ROUTES};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use integration_tests::workspace_root;
use serde_yaml::Value;
use std::collections::BTreeMap;
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
    let http = Function::ALL.iter().map(|f| f.binary());
    for binary in http.chain(["compensate", "orders"]) {
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
    assert_eq!(text.matches("BuildMethod: rust-cargolambda").count(), 9);
    assert!(text.contains("Type: Schedule"));
    assert!(text.contains("Type: EventBridgeRule"));
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
    assert_eq!(functions.len(), 9);
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

/// An order event that fails (refused or not stored) after Lambda's retries, and one EventBridge
/// cannot deliver, end in one dead-letter queue of the template, which an alarm watches; the rule
/// is on the order system's bus (declared here, named by a parameter) and lets every kind through.
#[test]
fn order_events_come_from_the_order_bus_and_failures_go_to_a_dead_letter_queue() {
    let resources = resources();
    let orders = &resources["OrdersFunction"]["Properties"];
    let invoke = &orders["EventInvokeConfig"];
    assert_eq!(invoke["MaximumRetryAttempts"].as_u64(), Some(2));
    let failure = &invoke["DestinationConfig"]["OnFailure"];
    assert_eq!(failure["Type"].as_str(), Some("SQS"));
    let (queue, _) = of_type(&resources, "AWS::SQS::Queue")
        .find(|(id, _)| names(&failure["Destination"], id))
        .expect("the on-failure destination is a queue of the template");
    let rule = &orders["Events"]["OrderEvents"];
    assert_eq!(rule["Type"].as_str(), Some("EventBridgeRule"));
    let rule = &rule["Properties"];
    assert!(names(&rule["DeadLetterConfig"]["Arn"], queue));
    let (bus, bus_def) = of_type(&resources, "AWS::Events::EventBus")
        .next()
        .expect("the order system's bus");
    assert!(names(&rule["EventBusName"], bus));
    assert!(names(&bus_def["Properties"]["Name"], "OrderEventBusName"));
    assert!(
        rule["Pattern"].get("detail-type").is_none(),
        "an unknown kind must reach the function to be dead-lettered"
    );
    assert!(orders["ReservedConcurrentExecutions"].as_u64().is_some());
    assert!(of_type(&resources, "AWS::CloudWatch::Alarm")
        .any(|(_, a)| { names(&a["Properties"]["Dimensions"][0]["Value"], queue) }));
    assert!(of_type(&resources, "AWS::Logs::LogGroup")
        .any(|(_, g)| { names(&g["Properties"]["LogGroupName"], "OrdersFunction") }));
}

/// One `HttpApi` event of template.yaml.
#[derive(Debug)]
pub struct TemplateRoute {
    /// The event's logical name (`PostMessage`).
    pub event: String,
    /// The function's `BuildProperties.Binary`.
    pub binary: String,
    /// `METHOD /path`, as API Gateway writes the route key.
    pub key: String,
}

/// Every `HttpApi` event of every function in template.yaml.
pub fn template_routes() -> Vec<TemplateRoute> {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    let template: Value = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    let mut routes = Vec::new();
    let resources = template["Resources"].as_mapping().expect("Resources");
    for (id, res) in resources {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let Some(events) = res["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (name, ev) in events {
            if ev["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let props = &ev["Properties"];
            let binary = res["Metadata"]["BuildProperties"]["Binary"].as_str();
            routes.push(TemplateRoute {
                event: name.as_str().expect("event name").to_string(),
                binary: binary
                    .unwrap_or_else(|| panic!("{id:?}: BuildProperties.Binary"))
                    .to_string(),
                key: format!(
                    "{} {}",
                    props["Method"].as_str().expect("Method").to_uppercase(),
                    props["Path"].as_str().expect("Path")
                ),
            });
        }
    }
    routes
}

#[test]
fn the_template_routes_are_the_registry_on_the_functions_that_serve_them() {
    let template = template_routes();
    let mut in_template = BTreeMap::new();
    for t in &template {
        assert!(
            in_template.insert(t.key.as_str(), t).is_none(),
            "{} is routed twice in template.yaml",
            t.key
        );
        let route = Route::from_key(&t.key).unwrap_or_else(|| {
            panic!(
                "template.yaml routes {} (event {}) to {}, but the route registry \
                 (shared/aws/src/routes.rs) does not declare it",
                t.key, t.event, t.binary
            )
        });
        assert_eq!(
            t.binary,
            route.function().binary(),
            "{}: template.yaml sends it to another function than the registry",
            t.key
        );
        assert_eq!(
            t.event,
            format!("{route:?}"),
            "{}: the template's event is named after the registry's route",
            t.key
        );
    }
    for spec in ROUTES {
        assert!(
            in_template.contains_key(spec.key),
            "the registry's {} ({}) has no HttpApi event in template.yaml",
            spec.key,
            spec.function.binary()
        );
    }
    assert_eq!(template.len(), ROUTES.len());
}

/// The event fixtures of events/ by route key: every registry route has one, and every HTTP
/// fixture is for a registry route.
fn fixture_per_route() -> BTreeMap<String, ApiGatewayV2httpRequest> {
    let mut by_route = BTreeMap::new();
    let dir = workspace_root().join("events");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).expect(&name);
        let Some(key) = json["routeKey"].as_str() else {
            continue; // the schedule event
        };
        assert!(
            Route::from_key(key).is_some(),
            "events/{name} is for {key}, which the registry does not declare"
        );
        by_route
            .entry(key.to_string())
            .or_insert_with(|| event_file(&name));
    }
    for spec in ROUTES {
        assert!(
            by_route.contains_key(spec.key),
            "events/ has no fixture for {}",
            spec.key
        );
    }
    by_route
}

async fn handle(
    store: &assistant_aws::DynamoStore,
    blobs: &assistant_aws::s3::S3Blobs,
    function: Function,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    match function {
        Function::Intake => intake::handle(store, event, NOW).await,
        Function::OrderCard => order_card::handle(store, event, NOW).await,
        Function::Suggest => suggest::handle(store, event, NOW).await,
        Function::Replies => replies::handle(store, event, NOW).await,
        Function::Feedback => feedback::handle(store, blobs, event, NOW).await,
        Function::Shops => shops::handle(store, event, NOW).await,
        Function::Push => push::handle_http(store, event, NOW).await,
    }
}

/// Each handler matches on its own route enum without a catch-all (the compiler proves it serves
/// all of them); this proves it takes nothing else: another function's route is a 500.
#[tokio::test]
async fn each_handler_serves_exactly_its_registry_routes() {
    let store = seeded().await;
    let blobs = integration_tests::fresh_blobs().await;
    let fixtures = fixture_per_route();
    for spec in ROUTES {
        for &function in Function::ALL {
            let event = fixtures[spec.key].clone();
            let resp = handle(&store, &blobs, function, event).await;
            let body = response_json(&resp);
            let who = format!("{} sent to {}", spec.key, function.binary());
            if function == spec.function {
                assert!(resp.status_code < 500, "{who}: {} {body}", resp.status_code);
            } else {
                assert_eq!(resp.status_code, 500, "{who}: {body}");
                assert_eq!(body["error"]["code"], "internal", "{who}: {body}");
                assert_eq!(body["error"]["message"], "internal error", "{who}: {body}");
            }
        }
    }
    // A key the API does not have at all is the same fault, before the caller is even read.
    let mut event = fixtures[Route::GetPanel.key()].clone();
    event.route_key = Some("DELETE /conversations/{conversation_id}/panel".into());
    event.request_context.route_key = event.route_key.clone();
    event.request_context.authorizer = None;
    let resp = handle(&store, &blobs, Function::Suggest, event).await;
    assert_eq!(resp.status_code, 500, "{:?}", resp.body);
}

/// The WebSocket API: exactly the routes of `assistant_aws::websocket::SOCKET_ROUTES`, each a
/// Lambda proxy integration on the push function (which API Gateway may invoke), the answering
/// routes with a route response, a throttled stage; the push function reaches no item of the
/// Conversations table outside `PUSH#` but the conversations it reads.
#[test]
fn the_websocket_api_routes_are_the_push_functions() {
    use assistant_aws::websocket::{SocketRoute, SOCKET_ROUTES};
    let resources = resources();
    let apis: Vec<_> = of_type(&resources, "AWS::ApiGatewayV2::Api").collect();
    assert_eq!(apis.len(), 1);
    let (api_id, api) = apis[0];
    assert_eq!(
        api["Properties"]["ProtocolType"].as_str(),
        Some("WEBSOCKET")
    );
    assert_eq!(
        api["Properties"]["RouteSelectionExpression"].as_str(),
        Some("$request.body.action")
    );
    let integrations: Vec<_> = of_type(&resources, "AWS::ApiGatewayV2::Integration").collect();
    assert_eq!(integrations.len(), 1);
    let (integration_id, integration) = integrations[0];
    assert_eq!(
        integration["Properties"]["IntegrationType"].as_str(),
        Some("AWS_PROXY")
    );
    assert!(names(
        &integration["Properties"]["IntegrationUri"],
        "PushFunction.Arn"
    ));
    assert_eq!(
        resources["PushFunction"]["Metadata"]["BuildProperties"]["Binary"].as_str(),
        Some("push")
    );
    let mut keys = Vec::new();
    for (id, route) in of_type(&resources, "AWS::ApiGatewayV2::Route") {
        let p = &route["Properties"];
        assert!(names(&p["ApiId"], api_id), "{id}");
        assert!(names(&p["Target"], integration_id), "{id}");
        let key = p["RouteKey"].as_str().unwrap().to_string();
        let route = SocketRoute::from_key(&key)
            .unwrap_or_else(|| panic!("{id}: {key} is not in SOCKET_ROUTES"));
        let answers = matches!(route, SocketRoute::Subscribe | SocketRoute::Default);
        let response = of_type(&resources, "AWS::ApiGatewayV2::RouteResponse")
            .any(|(_, r)| names(&r["Properties"]["RouteId"], id));
        assert_eq!(
            response, answers,
            "{key}: a route response exactly when it answers"
        );
        assert_eq!(
            p["RouteResponseSelectionExpression"].as_str().is_some(),
            answers,
            "{key}"
        );
        keys.push(key);
    }
    keys.sort();
    let mut expected: Vec<_> = SOCKET_ROUTES.iter().map(|(k, _)| k.to_string()).collect();
    expected.sort();
    assert_eq!(keys, expected);
    // API Gateway may invoke the function, from this API only.
    assert!(
        of_type(&resources, "AWS::Lambda::Permission").any(|(_, p)| {
            names(&p["Properties"]["FunctionName"], "PushFunction")
                && names(&p["Properties"]["SourceArn"], api_id)
                && p["Properties"]["Principal"].as_str() == Some("apigateway.amazonaws.com")
        })
    );
    let (_, stage) = of_type(&resources, "AWS::ApiGatewayV2::Stage")
        .next()
        .expect("a stage");
    let settings = &stage["Properties"]["DefaultRouteSettings"];
    assert!(settings["ThrottlingRateLimit"].as_u64().is_some());
    assert!(settings["ThrottlingBurstLimit"].as_u64().is_some());
    // The writes reach PUSH# items only; a query besides them only a conversation's messages
    // (a reconnecting client's catch-up).
    let policies = resources["PushFunction"]["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    for s in policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().unwrap())
    {
        let actions: Vec<_> = match &s["Action"] {
            Value::Sequence(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
            a => vec![a.as_str().unwrap()],
        };
        if actions.iter().any(|a| *a != "dynamodb:GetItem") {
            assert!(names(&s["Resource"], "ConversationsTable.Arn"), "{s:?}");
            let leading = &s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let reads_only = actions.iter().all(|a| *a == "dynamodb:Query");
            let allowed: &[&str] = if reads_only {
                &["PUSH#*", "CONV#*"]
            } else {
                &["PUSH#*"]
            };
            assert!(
                leading
                    .as_sequence()
                    .is_some_and(|l| l.iter().all(|k| allowed.contains(&k.as_str().unwrap()))),
                "{s:?}"
            );
        }
    }
    // Every function that commits a conversation change pushes it (the orders function: a panel
    // its event moved): the stage's @connections endpoint in its environment, leave to post
    // there, and to read and remove PUSH# items only.
    for function in [
        "IntakeFunction",
        "OrderCardFunction",
        "SuggestFunction",
        "CompensateFunction",
        "OrdersFunction",
    ] {
        let props = &resources[function]["Properties"];
        let url =
            &props["Environment"]["Variables"][assistant_aws::connections::CONNECTIONS_URL_VAR];
        assert!(
            names(url, api_id) && names(url, "PushStage"),
            "{function}: {url:?}"
        );
        let statements: Vec<&Value> = props["Policies"]
            .as_sequence()
            .unwrap()
            .iter()
            .flat_map(|p| p["Statement"].as_sequence().unwrap())
            .collect();
        assert!(
            statements.iter().any(|s| s["Action"].as_str()
                == Some("execute-api:ManageConnections")
                && names(&s["Resource"], api_id)
                && serde_yaml::to_string(&s["Resource"])
                    .unwrap()
                    .contains("/${PushStage}/POST/@connections/*")),
            "{function}"
        );
    }
}
