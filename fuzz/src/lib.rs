//! What the fuzz targets share: the seeded in-memory store (so a handler gets past "no such shop"
//! and does its real work), the fixture events, and the checks every response must pass.
//!
//! The store is the testkit's `MemoryStore` (`shared/testkit/src/memory.rs`), compiled and tested
//! with the workspace, so it keeps up with the store traits the handlers need.

use assistant_aws::routes::{self, Served};
use assistant_domain::model::time::{Millis, HOUR};
pub use assistant_testkit::MemoryStore;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use std::sync::OnceLock;

/// The fixed "now" of every run: 2026-11-23T10:00:00Z, as the tests use.
pub const NOW: Millis = 1_795_428_000_000;

/// A fresh copy of the demo data (the shops, the main buyer's orders, a buyer in every node),
/// seeded once per process by the same code as `assistant seed`.
pub fn seeded() -> MemoryStore {
    static BASE: OnceLock<MemoryStore> = OnceLock::new();
    BASE.get_or_init(|| {
        let store = MemoryStore::default();
        block_on(assistant_cli::seed::seed(&store, NOW - HOUR)).expect("seed");
        store
    })
    .clone()
}

/// Runs a handler's future to completion on a current-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// The event to feed: input starting with `{` is a whole API Gateway event (mutated fixtures and
/// anything else); other input is the body of the fixture event, so that mutations reach the
/// handler's own parsing behind the identity check.
pub fn http_event(data: &[u8], fixture: &str) -> Option<ApiGatewayV2httpRequest> {
    if data.first() == Some(&b'{') {
        return serde_json::from_slice(data).ok();
    }
    let mut event: ApiGatewayV2httpRequest =
        serde_json::from_str(fixture).expect("the fixture is an API Gateway event");
    event.body = Some(String::from_utf8_lossy(data).into_owned());
    event.is_base64_encoded = false;
    Some(event)
}

/// What every answer must be: a status the error mapping can give, and a JSON body. A 500 or 503
/// is a fault in our code (the in-memory store never fails), so it fails the run like a panic.
pub fn check_response(resp: &ApiGatewayV2httpResponse) {
    let status = resp.status_code;
    assert!(
        matches!(
            status,
            200 | 201 | 400 | 401 | 403 | 404 | 409 | 413 | 415 | 501
        ),
        "unexpected status {status}: {:?}",
        resp.body
    );
    let Some(Body::Text(text)) = &resp.body else {
        panic!("a text body for {status}")
    };
    let body: serde_json::Value = serde_json::from_str(text).expect("a JSON body");
    if status >= 400 {
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "an error body: {text}"
        );
    }
}

/// Runs a handler of the function whose routes are `R` on the event and checks its answer: an
/// event for a route the function does not serve (a mutated `routeKey`) must be the logged 500 of
/// a misrouted event, saying nothing of its cause; any other answer must pass [`check_response`].
pub fn check_handled<R: Served>(
    event: ApiGatewayV2httpRequest,
    handle: impl FnOnce(ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse,
) {
    let served = routes::served::<R>(&event).is_ok();
    let resp = handle(event);
    if served {
        check_response(&resp);
        return;
    }
    assert_eq!(resp.status_code, 500, "a misrouted event: {:?}", resp.body);
    let Some(Body::Text(text)) = &resp.body else {
        panic!("a text body for a misrouted event")
    };
    let body: serde_json::Value = serde_json::from_str(text).expect("a JSON body");
    assert_eq!(body["error"]["code"], "internal", "{text}");
    assert_eq!(body["error"]["message"], "internal error", "{text}");
}

/// One HTTP fuzz run: `data` as an event (see [`http_event`]) built on `fixture`, handled by
/// `handle` on a fresh [`seeded`] store, its answer checked by [`check_handled`] against the
/// routes `R` of the function.
pub fn fuzz_http<R: Served>(
    data: &[u8],
    fixture: &str,
    handle: impl FnOnce(&MemoryStore, ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse,
) {
    let Some(event) = http_event(data, fixture) else {
        return;
    };
    let store = seeded();
    check_handled::<R>(event, |e| handle(&store, e));
}

/// The fixture events, compiled in (the seed corpora are copied from the same files).
pub mod fixtures {
    pub const INTAKE_POST: &str = include_str!("../../events/intake-post-message.json");
    pub const ORDER_CARD_SELECT: &str = include_str!("../../events/order-card-select.json");
    pub const SUGGEST_USE: &str = include_str!("../../events/suggest-use-solution.json");
    pub const REPLIES_PUT: &str = include_str!("../../events/replies-put.json");
    pub const FEEDBACK_POST: &str = include_str!("../../events/feedback-post.json");
    pub const SHOPS_PUT: &str = include_str!("../../events/shops-put.json");
    pub const PUSH_SUBSCRIBE: &str = include_str!("../../events/push-subscribe.json");
}
