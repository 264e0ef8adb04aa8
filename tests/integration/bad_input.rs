//! Bad input always gets a clear 4xx JSON error, nothing is written, never a panic or a 500:
//! what the handlers refuse before a use case runs (broken JSON, bad base64 or UTF-8, an
//! oversize body, any body on any route). The use cases' own checks run on the in-memory twin
//! (shared/domain/tests/usecases/bad_input.rs).

use crate::support::*;
use assistant_aws::http::MAX_BODY_BYTES;
use assistant_aws::routes::Route;
use serde_json::{json, Value};

/// A buyer's first message (`POST /conversations`) with the raw `body`.
async fn post_raw(store: &assistant_aws::DynamoStore, body: &str, b64: bool) -> (i64, Value) {
    let mut event = local_event(OPEN, &[], &buyer(MAIN_BUYER), None);
    event.body = Some(body.to_string());
    event.is_base64_encoded = b64;
    invoke(store, Function::Intake, event, NOW).await
}

#[tokio::test]
async fn malformed_or_mistyped_bodies_are_400_and_write_nothing() {
    let store = seeded().await;
    let cases: &[(&str, &str)] = &[
        (
            "{\"shop_id\": \"xiaolu-home\", \"text\": ",
            "is not valid JSON",
        ),
        ("", "JSON object is required"),
        ("[]", "must be a JSON object"),
        ("{\"shop_id\": \"xiaolu-home\"}", "missing field `text`"),
        ("{\"text\": \"发货了吗\"}", "missing field `shop_id`"),
        (
            "{\"shop_id\": \"xiaolu-home\", \"text\": 5}",
            "invalid type: integer `5`",
        ),
        ("{\"shop_id\": 7, \"text\": \"发货了吗\"}", "invalid type"),
        (
            "{\"shop_id\": \"xiaolu-home\", \"text\": \"发货了吗\", \"price\": 1}",
            "unknown field `price`",
        ),
        (
            "{\"shop_id\": \"bad shop!\", \"text\": \"发货了吗\"}",
            "shop_id: must be",
        ),
        (
            "{\"shop_id\": \"xiaolu-home\", \"text\": \"   \"}",
            "text: must not be empty",
        ),
        (
            "{\"shop_id\": \"xiaolu-home\", \"text\": null}",
            "invalid type: null",
        ),
        (
            "{\"shop_id\": null, \"text\": \"发货了吗\"}",
            "invalid type: null",
        ),
    ];
    for (body, expect) in cases {
        let r = post_raw(&store, body, false).await;
        let msg = assert_error(&r, 400);
        assert!(msg.contains(expect), "{body} -> {msg}");
    }
    let queue = local_event(
        "GET /shops/{shop_id}/queue",
        &[("shop_id", SHOP)],
        &agent_of(SHOP),
        None,
    );
    let (status, v) = invoke(&store, Function::Intake, queue, NOW).await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["items"].as_array().unwrap().is_empty(),
        "nothing opened: {v}"
    );
}

#[tokio::test]
async fn invalid_utf8_bad_base64_and_oversize_bodies_are_400() {
    use base64::Engine;
    let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let store = seeded().await;
    let mut invalid = br#"{"shop_id":"xiaolu-home","text":"#.to_vec();
    invalid.extend_from_slice(&[0xe5, 0x8f, b'"', b'}']);
    let r = post_raw(&store, &encode(&invalid), true).await;
    assert!(assert_error(&r, 400).contains("UTF-8"));
    let r = post_raw(&store, "not base64 at all!", true).await;
    assert!(assert_error(&r, 400).contains("base64"));
    let big = json!({"shop_id": SHOP, "text": "x".repeat(MAX_BODY_BYTES)}).to_string();
    let r = post_raw(&store, &big, false).await;
    assert!(assert_error(&r, 400).contains("at most 16384 bytes"));
    // A valid base64 body is accepted.
    let ok = json!({"shop_id": SHOP, "text": "发货了吗"}).to_string();
    let r = post_raw(&store, &encode(ok.as_bytes()), true).await;
    assert_eq!(r.0, 201, "{}", r.1);
}

#[tokio::test]
async fn no_body_on_any_route_yields_a_5xx_and_an_unknown_route_is_a_fault() {
    let store = seeded().await;
    urge(&store, "c1", "什么时候发货").await;
    let bodies = [
        "",
        "null",
        "{}",
        "[]",
        "\"str\"",
        "{\"a\":",
        "1e999",
        "{\"text\": \"\u{0}\"}",
        "{\"shop_id\": \"xiaolu-home\", \"text\": \"\\ud800\"}",
        "{\"via\": \"order_card\", \"order_id\": \"99999999999999999999999\"}",
        "{\"solution_id\": \"\", \"event\": \"copied\", \"reply_index\": 18446744073709551616}",
    ];
    let routes = [
        OPEN,
        POST_MESSAGE,
        LIST_MESSAGES,
        GET_CARD,
        SELECT,
        PANEL,
        USE,
        "DELETE /conversations/{conversation_id}",
    ];
    for route in routes {
        for claims in [buyer(MAIN_BUYER), agent_of(SHOP)] {
            for body in bodies {
                let c1 = conversation_id(&store, "c1");
                let mut event = local_event(route, &[("conversation_id", &c1)], &claims, None);
                event.body = Some(body.to_string());
                let Some(served) = Route::from_key(route) else {
                    // A route the API does not have reaches a function only if the gateway is
                    // misconfigured: a fault (logged, 500), whatever the body.
                    let (status, v) = invoke(&store, Function::Suggest, event, NOW).await;
                    assert_eq!(status, 500, "{route} {body}: {v}");
                    assert_eq!(v["error"]["code"], "internal", "{route} {body}: {v}");
                    continue;
                };
                let (status, v) = invoke(&store, served.function(), event, NOW).await;
                assert!((200..500).contains(&status), "{route} {body}: {status} {v}");
                if status >= 400 {
                    assert!(v["error"]["message"].is_string(), "{route} {body}: {v}");
                }
            }
        }
    }
}
