//! openapi.yaml describes exactly the HTTP API of template.yaml and the route registry: the same
//! routes (method and path), each with its path parameters, its auth, its request body and its
//! errors; its enums are the domain's ids.

use crate::template::template_routes as template_events;
use assistant_aws::routes::ROUTES;
use assistant_domain::intent::{learn, IntentId};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::solution;
use integration_tests::workspace_root;
use serde_yaml::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(file)).expect(file);
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// `(METHOD, path)` of every `HttpApi` event in the template.
fn template_routes() -> BTreeSet<(String, String)> {
    template_events()
        .into_iter()
        .map(|t| {
            let (method, path) = t.key.split_once(' ').expect("METHOD /path");
            (method.to_string(), path.to_string())
        })
        .collect()
}

/// `(METHOD, path)` of every operation in openapi.yaml.
fn openapi_routes(spec: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                routes.insert((m.to_uppercase(), path.as_str().unwrap().to_string()));
            }
        }
    }
    routes
}

fn path_params(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter(|s| s.starts_with('{') && s.ends_with('}'))
        .map(|s| s.trim_matches(['{', '}', '+']).to_string())
        .collect()
}

/// Follows a local `$ref` ("#/components/...") to what it names.
fn resolve<'a>(spec: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let mut at = spec;
            for part in r.trim_start_matches("#/").split('/') {
                at = &at[part];
            }
            assert!(!at.is_null(), "dangling $ref {r}");
            at
        }
        None => v,
    }
}

#[test]
fn openapi_and_template_list_the_same_routes() {
    let template = template_routes();
    let spec = openapi_routes(&yaml("openapi.yaml"));
    assert!(!template.is_empty());
    let only_template: Vec<_> = template.difference(&spec).collect();
    let only_spec: Vec<_> = spec.difference(&template).collect();
    assert!(
        only_template.is_empty() && only_spec.is_empty(),
        "routes in template.yaml but not openapi.yaml: {only_template:?}\n\
         routes in openapi.yaml but not template.yaml: {only_spec:?}"
    );
}

#[test]
fn every_operation_states_its_auth_inputs_and_errors() {
    let spec = yaml("openapi.yaml");
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let scheme = &spec["components"]["securitySchemes"]["jwt"];
    assert_eq!(scheme["type"].as_str(), Some("http"));
    assert_eq!(scheme["scheme"].as_str(), Some("bearer"));
    let global_auth = spec["security"]
        .as_sequence()
        .is_some_and(|s| !s.is_empty());
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let name = format!("{} {path}", m.to_uppercase());
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: operationId"));
            assert!(ids.insert(id.to_string()), "{name}: operationId {id} twice");
            // Auth: the JWT authorizer (no operation opts out), so a 401 is documented.
            assert!(
                global_auth && op.get("security").is_none(),
                "{name}: security"
            );
            let responses = op["responses"].as_mapping().expect("responses");
            let has = |code: &str| responses.contains_key(Value::from(code));
            assert!(has("401"), "{name}: documents 401");
            assert!(has("400"), "{name}: documents 400 (bad input)");
            assert!(
                responses
                    .keys()
                    .any(|k| k.as_str().is_some_and(|c| c.starts_with('2'))),
                "{name}: documents its success"
            );
            for (code, resp) in responses {
                let resp = resolve(&spec, resp);
                let code = code.as_str().unwrap();
                if code.starts_with('4') || code.starts_with('5') {
                    assert!(
                        resp["content"]["application/json"]["schema"].is_mapping(),
                        "{name} {code}: errors are JSON with a schema"
                    );
                }
            }
            // Inputs: every path parameter declared, required, with a schema; no extra ones.
            let declared: BTreeSet<String> = item
                .get("parameters")
                .into_iter()
                .chain(op.get("parameters"))
                .flat_map(|p| p.as_sequence().unwrap().iter())
                .map(|p| resolve(&spec, p))
                .filter(|p| p["in"].as_str() == Some("path"))
                .inspect(|p| {
                    assert_eq!(
                        p["required"].as_bool(),
                        Some(true),
                        "{name}: path params required"
                    );
                    assert!(p["schema"].is_mapping(), "{name}: path param schema");
                })
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(declared, path_params(path), "{name}: path parameters");
            if m == "post" || m == "put" {
                let body = resolve(&spec, &op["requestBody"]);
                assert!(body["content"].is_mapping(), "{name}: request body");
            }
        }
    }
}

#[test]
fn openapi_describes_exactly_the_registry_routes() {
    let spec = openapi_routes(&yaml("openapi.yaml"));
    let registry: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.route.method().to_string(), r.route.path().to_string()))
        .collect();
    assert_eq!(registry.len(), ROUTES.len());
    let only_registry: Vec<_> = registry.difference(&spec).collect();
    let only_spec: Vec<_> = spec.difference(&registry).collect();
    assert!(
        only_registry.is_empty() && only_spec.is_empty(),
        "routes in the registry but not openapi.yaml: {only_registry:?}\n\
         routes in openapi.yaml but not the registry: {only_spec:?}"
    );
}

/// The values of an `enum` in openapi.yaml, in their order.
fn enum_values(v: &Value, what: &str) -> Vec<String> {
    v["enum"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{what} is an enum in openapi.yaml"))
        .iter()
        .map(|x| x.as_str().expect("a string value").to_string())
        .collect()
}

#[test]
fn openapi_enums_are_the_domains_intent_node_and_action_ids() {
    let spec = yaml("openapi.yaml");
    let schemas = &spec["components"]["schemas"];
    let intents: Vec<&str> = IntentId::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(enum_values(&schemas["IntentId"], "IntentId"), intents);
    let nodes: Vec<&str> = OrderNode::ALL.iter().map(|n| n.as_str()).collect();
    assert_eq!(enum_values(&schemas["OrderNode"], "OrderNode"), nodes);
    let actions: BTreeSet<String> = solution::ActionKind::ALL
        .iter()
        .map(|a| a.id().to_string())
        .collect();
    let listed = enum_values(&schemas["ActionId"], "ActionId");
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(
        listed_set, actions,
        "ActionId lists the domain's action ids"
    );
    assert_eq!(listed.len(), actions.len(), "ActionId lists an id twice");
    // A robot answers only the intents the assistant does not cover.
    let robot = &spec["paths"]["/shops/{shop_id}/robot"]["put"]["requestBody"]["content"]
        ["application/json"]["schema"]["properties"]["answers"]["propertyNames"];
    let uncovered: Vec<&str> = IntentId::ALL
        .iter()
        .filter(|i| !solution::covers(**i))
        .map(|i| i.as_str())
        .collect();
    assert_eq!(enum_values(robot, "the robot's answers"), uncovered);
}

#[test]
fn the_classifiers_labels_are_the_intent_ids_in_order() {
    // The model's weight rows are indexed by label; IntentId::ALL[k] must name row k.
    let ids: Vec<&str> = IntentId::ALL.iter().map(|i| i.as_str()).collect();
    assert_eq!(learn::LABELS.to_vec(), ids);
    assert_eq!(learn::K, IntentId::ALL.len());
}
