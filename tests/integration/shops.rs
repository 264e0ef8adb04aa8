//! The shops function end to end on DynamoDB Local: the fixtures of events/shops-*.json, an
//! idempotent top-up sent many times at once, bad input as 4xx JSON that writes nothing, and who
//! may call what.

use crate::support::*;
use assistant_aws::http::response_json;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::money::Fen;
use assistant_domain::ports::{PlatformStore, ShopStore};
use serde_json::{json, Value};

const PLATFORM: [(&str, &str); 2] = [("sub", "platform-ops"), ("role", "platform")];

async fn call_shops(
    store: &assistant_aws::DynamoStore,
    route: &str,
    shop: &str,
    claims: &[(&str, &str)],
    body: Option<Value>,
    key: Option<&str>,
) -> (i64, Value) {
    let mut event = local_event(route, &[("shop_id", shop)], claims, body.as_ref());
    if let Some(key) = key {
        event
            .headers
            .insert("idempotency-key", key.parse().unwrap());
    }
    let resp = shops::handle(&store.acting_as("shops"), event, NOW).await;
    (resp.status_code, response_json(&resp))
}

async fn deposit_of(store: &assistant_aws::DynamoStore, shop: &str) -> Fen {
    let id = ShopId::parse(shop).unwrap();
    store
        .deposit(&id)
        .await
        .unwrap()
        .expect("the shop has a deposit")
}

#[tokio::test]
async fn the_fixtures_onboard_top_up_and_read_the_ledger() {
    let store = fresh_store().await;
    let put = shops::handle(&store, event_file("shops-put.json"), NOW).await;
    assert_eq!(put.status_code, 201, "{:?}", put.body);
    let body = response_json(&put);
    assert_eq!(body["shop"]["agents"][0]["display_name"], "小美");
    assert_eq!(body["shop"]["serving_rule"], json!({"serving": "by_buyer"}));
    let again = shops::handle(&store, event_file("shops-put.json"), NOW).await;
    assert_eq!(again.status_code, 200, "a second PUT changes, not creates");
    let first = shops::handle(&store, event_file("shops-deposit.json"), NOW).await;
    assert_eq!(first.status_code, 201, "{:?}", first.body);
    let replay = shops::handle(&store, event_file("shops-deposit.json"), NOW + 1000).await;
    assert_eq!(replay.status_code, 200);
    let (first, replay) = (response_json(&first), response_json(&replay));
    assert_eq!(replay["replayed"], true);
    assert_eq!(first["entry"], replay["entry"], "the same entry");
    assert_eq!(deposit_of(&store, SHOP).await, Fen(50_000));
    let ledger = shops::handle(&store, event_file("shops-ledger.json"), NOW).await;
    assert_eq!(ledger.status_code, 200, "{:?}", ledger.body);
    let ledger = response_json(&ledger);
    assert_eq!(ledger["items"].as_array().unwrap().len(), 1);
    assert_eq!(ledger["items"][0]["reason"], "top_up");
    assert_eq!(ledger["items"][0]["balance_after"], 50_000);
    assert_eq!(ledger["next_cursor"], Value::Null);
}

#[tokio::test]
async fn one_key_sent_many_times_at_once_is_one_entry() {
    let store = seeded().await;
    let before = deposit_of(&store, SHOP).await;
    let body = json!({"amount": 12_345});
    let sends = (0..8).map(|_| {
        call_shops(
            &store,
            "POST /shops/{shop_id}/deposit",
            SHOP,
            &PLATFORM,
            Some(body.clone()),
            Some("concurrent-1"),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(
        answers.iter().all(|(s, _)| *s == 201 || *s == 200),
        "{answers:?}"
    );
    let entries: std::collections::HashSet<String> = answers
        .iter()
        .map(|(_, v)| v["entry"].to_string())
        .collect();
    assert_eq!(entries.len(), 1, "every answer names the same entry");
    assert_eq!(deposit_of(&store, SHOP).await, Fen(before.0 + 12_345));
    let page = store
        .ledger_page(&ShopId::parse(SHOP).unwrap(), 50, None)
        .await
        .unwrap();
    let top_ups = page
        .items
        .iter()
        .filter(|e| {
            e.idempotency_key
                .as_ref()
                .is_some_and(|k| k.as_str() == "concurrent-1")
        })
        .count();
    assert_eq!(top_ups, 1);
    // The same key with another amount: 409, nothing moves.
    let other = call_shops(
        &store,
        "POST /shops/{shop_id}/deposit",
        SHOP,
        &PLATFORM,
        Some(json!({"amount": 1})),
        Some("concurrent-1"),
    )
    .await;
    assert_error(&other, 409);
    assert_eq!(deposit_of(&store, SHOP).await, Fen(before.0 + 12_345));
}

#[tokio::test]
async fn bad_input_is_a_4xx_json_error_and_writes_nothing() {
    let store = seeded().await;
    let shop = ShopId::parse(SHOP).unwrap();
    let before = store.shop(&shop).await.unwrap();
    let put = "PUT /shops/{shop_id}";
    let cases: Vec<(Option<Value>, &str)> = vec![
        (None, "body"),
        (Some(json!({"name": "店"})), "body"),
        (
            Some(json!({"name": "", "agents": [{"agent_id": "a"}]})),
            "name",
        ),
        (Some(json!({"name": "店", "agents": []})), "agents"),
        (
            Some(
                json!({"name": "店", "agents": [{"agent_id": "a"}], "serving_rule": {"serving": "fixed", "agent_id": "b"}}),
            ),
            "serving_rule.agent_id",
        ),
        (
            Some(json!({"name": "店", "agents": [{"agent_id": "a"}], "deposit": 100})),
            "body",
        ),
    ];
    for (body, field) in cases {
        let answer = call_shops(&store, put, SHOP, &PLATFORM, body.clone(), None).await;
        assert_error(&answer, 400);
        assert_eq!(answer.1["error"]["field"], field, "{body:?}: {}", answer.1);
    }
    let deposit = "POST /shops/{shop_id}/deposit";
    for (body, key, field) in [
        (json!({"amount": 100}), None, "Idempotency-Key"),
        (json!({"amount": 100}), Some("a b"), "Idempotency-Key"),
        (json!({"amount": 0}), Some("k"), "amount"),
        (json!({"amount": 1.5}), Some("k"), "amount"),
        (json!({"amount": "100"}), Some("k"), "amount"),
    ] {
        let answer = call_shops(&store, deposit, SHOP, &PLATFORM, Some(body), key).await;
        assert_error(&answer, 400);
        assert_eq!(answer.1["error"]["field"], field, "{}", answer.1);
    }
    let bad_shop = call_shops(&store, put, "a%20b", &PLATFORM, None, None).await;
    assert_error(&bad_shop, 400);
    let ledger = "GET /shops/{shop_id}/ledger";
    let forged = {
        let mut event = local_event(ledger, &[("shop_id", SHOP)], &PLATFORM, None);
        event.query_string_parameters = [("cursor".to_string(), "garbage".to_string())]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>()
            .into();
        let resp = shops::handle(&store, event, NOW).await;
        (resp.status_code, response_json(&resp))
    };
    assert_error(&forged, 400);
    assert_eq!(
        store.shop(&shop).await.unwrap(),
        before,
        "nothing was written"
    );
    // Unknown shops: 404.
    let nowhere = call_shops(
        &store,
        deposit,
        "nowhere",
        &PLATFORM,
        Some(json!({"amount": 1})),
        Some("k"),
    )
    .await;
    assert_error(&nowhere, 404);
    assert_error(
        &call_shops(&store, ledger, "nowhere", &PLATFORM, None, None).await,
        404,
    );
}

#[tokio::test]
async fn only_the_platform_onboards_and_tops_up_and_the_ledger_is_its_and_the_admins() {
    let store = seeded().await;
    let before = deposit_of(&store, SHOP).await;
    let admin = [
        ("sub", "admin-lin"),
        ("role", "shop_admin"),
        ("shop_id", SHOP),
    ];
    let other_admin = [
        ("sub", "admin-x"),
        ("role", "shop_admin"),
        ("shop_id", "dapeng-digital"),
    ];
    let zhang = buyer(MAIN_BUYER);
    let agent = agent_of(SHOP);
    let profile = json!({"name": "小鹿家居旗舰店", "agents": [{"agent_id": "agent-xiaomei"}]});
    for claims in [&zhang[..], &agent[..], &admin[..]] {
        let put = call_shops(
            &store,
            "PUT /shops/{shop_id}",
            SHOP,
            claims,
            Some(profile.clone()),
            None,
        )
        .await;
        assert_error(&put, 403);
        // Refused before the body is read: a bad body is still a 403.
        let garbage = call_shops(
            &store,
            "POST /shops/{shop_id}/deposit",
            SHOP,
            claims,
            Some(json!({"x": 1})),
            None,
        )
        .await;
        assert_error(&garbage, 403);
    }
    assert_eq!(deposit_of(&store, SHOP).await, before);
    let ledger = "GET /shops/{shop_id}/ledger";
    for (claims, status) in [
        (&zhang[..], 403),
        (&agent[..], 403),
        (&other_admin[..], 404),
    ] {
        assert_error(
            &call_shops(&store, ledger, SHOP, claims, None, None).await,
            status,
        );
    }
    let own = call_shops(&store, ledger, SHOP, &admin, None, None).await;
    assert_eq!(own.0, 200, "{}", own.1);
    assert_eq!(
        own.1["items"][0]["reason"], "top_up",
        "the seed's top-up: {}",
        own.1
    );
    let ops = call_shops(&store, ledger, SHOP, &PLATFORM, None, None).await;
    assert_eq!(ops, own);
}
