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
    for binary in http.chain(["compensate"]) {
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
