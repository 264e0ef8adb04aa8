//! The `orders` function against DynamoDB Local: the events/ fixtures (each valid by
//! events/schema/order-event.json, and parsed by the same Rust the handler runs), delivered out of
//! order and twice, make one order; bad events change nothing and are refused for the dead-letter
//! queue; one conditional write per event (and past "created" one query of the order's
//! conversations); the shuffle / duplicate property, smaller than the in-memory one
//! (shared/domain/tests/order_events.rs); and an event that moves an order pushes the new panel
//! of the conversation about it to the agent following it.

use crate::support::NOW;
use assistant_aws::DynamoStore;
use assistant_domain::model::ids::{ConversationId, OrderId};
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::order_facts::OrderEvent;
use assistant_domain::model::time::HOUR;
use assistant_domain::ports::OrderStore;
use assistant_domain::usecases::KnownShops;
use assistant_testkit::builders::{order_id, seed_shop, shop, shop_id, user_id};
use assistant_testkit::order_day::{merged, order_day, DAY_SHOPS};
use integration_tests::{fresh_store, workspace_root};
use serde_json::{json, Value};

const KINDS: [&str; 7] = [
    "created",
    "paid",
    "shipped",
    "delivered",
    "after-sale-opened",
    "after-sale-ended",
    "closed",
];

fn fixture(kind: &str) -> Value {
    let path = workspace_root().join(format!("events/order-{kind}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("JSON")
}

fn schema() -> jsonschema::Validator {
    let path = workspace_root().join("events/schema/order-event.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Events the schema and the parser both refuse.
fn bad_events() -> Vec<(&'static str, Value)> {
    let paid = fixture("paid");
    let mut unknown_kind = paid.clone();
    unknown_kind["detail-type"] = json!("order.teleported");
    let mut missing = paid.clone();
    missing["detail"]
        .as_object_mut()
        .unwrap()
        .remove("promised_ship_by");
    let mut extra = paid.clone();
    extra["detail"]["discount"] = json!(100);
    let mut bad_id = paid.clone();
    bad_id["detail"]["order_id"] = json!("69#31");
    let mut as_text = paid.clone();
    as_text["detail"] = json!("{\"order_id\": \"6931000000000000001\",");
    let mut no_items = fixture("created");
    no_items["detail"]["items"] = json!([]);
    let mut negative = fixture("created");
    negative["detail"]["total"] = json!(-1);
    let mut bad_reason = fixture("closed");
    bad_reason["detail"]["reason"] = json!("lost");
    vec![
        ("unknown kind", unknown_kind),
        ("missing field", missing),
        ("unknown field", extra),
        ("bad order id", bad_id),
        ("detail is broken JSON text", as_text),
        ("no items", no_items),
        ("negative total", negative),
        ("unknown close reason", bad_reason),
        ("not an EventBridge event", json!({"hello": "world"})),
    ]
}

#[test]
fn every_fixture_is_valid_by_the_schema_and_parses_the_same() {
    let schema = schema();
    for kind in KINDS {
        let event = fixture(kind);
        let errors: Vec<String> = schema.iter_errors(&event).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "order-{kind}.json: {errors:?}");
        let parsed = orders::parse(event.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(parsed.detail(), event["detail"], "{kind}");
        assert_eq!(
            orders::envelope(&parsed)["detail-type"],
            event["detail-type"]
        );
        assert!(schema.is_valid(&orders::envelope(&parsed)), "{kind}");
    }
    for (what, event) in bad_events() {
        assert!(!schema.is_valid(&event), "the schema takes {what}");
        let err = orders::parse(event).expect_err(what);
        assert!(err.is_refused(), "{what}");
    }
}

async fn with_demo_shop() -> DynamoStore {
    let store = fresh_store().await;
    seed_shop(&store, &shop("xiaolu-home")).await;
    store
}

#[tokio::test]
async fn the_fixtures_in_any_order_and_twice_make_one_order() {
    let store = with_demo_shop().await;
    let known = KnownShops::default();
    let mut order = KINDS.map(fixture).to_vec();
    order.reverse();
    order.extend(KINDS.map(fixture));
    let before = store.requests();
    let mut outcomes = Vec::new();
    for event in order {
        outcomes.push(
            orders::handle(&store, &known, event, NOW)
                .await
                .unwrap()
                .outcome,
        );
    }
    assert_eq!(outcomes.iter().filter(|o| **o == "changed").count(), 7);
    // One read of the shop (then known), one write per event, one read per redelivery, and one
    // query of the order's conversations per change past "created" (there are none).
    assert_eq!(store.requests() - before, 1 + 14 + 7 + 6);

    let (shop, buyer, id) = (
        shop_id("xiaolu-home"),
        user_id("buyer-zhang"),
        order_id("6931000000000000001"),
    );
    let o = store
        .order(&shop, &buyer, &id)
        .await
        .unwrap()
        .expect("the order");
    assert_eq!(o.total.0, 39700);
    assert_eq!(o.courier.as_deref(), Some("中通快递"));
    let created = o.created_at;
    assert_eq!(o.node_at(created + 5 * HOUR), OrderNode::AwaitingShipment);
    assert_eq!(o.node_at(created + 49 * HOUR), OrderNode::Shipped);
    assert_eq!(o.node_at(created + 61 * HOUR), OrderNode::Delivered);
    assert_eq!(o.node_at(created + 71 * HOUR), OrderNode::AfterSale);
    assert_eq!(o.node_at(created + 91 * HOUR), OrderNode::Closed);
    assert_eq!(
        store.recent_orders(&shop, &buyer, 50).await.unwrap(),
        vec![o]
    );
}

#[tokio::test]
async fn one_conditional_write_per_event_of_at_most_two_units_and_one_keys_only_query() {
    let store = with_demo_shop().await;
    let known = KnownShops::default();
    orders::handle(&store, &known, fixture("created"), NOW)
        .await
        .unwrap();
    for kind in &KINDS[1..] {
        let (requests, units) = (store.requests(), store.capacity_units());
        orders::handle(&store, &known, fixture(kind), NOW)
            .await
            .unwrap();
        // The write, and the OrderIndex query that finds no conversation about the order.
        assert_eq!(store.requests() - requests, 2, "{kind}");
        let used = store.capacity_units() - units;
        assert!(used > 0.0 && used <= 2.5, "{kind}: {used} units");
    }
}

#[tokio::test]
async fn a_bad_event_changes_nothing_and_is_refused_for_the_dead_letter_queue() {
    let store = with_demo_shop().await;
    let known = KnownShops::default();
    orders::handle(&store, &known, fixture("created"), NOW)
        .await
        .unwrap();
    let id = order_id("6931000000000000001");
    let stored = store.order_facts(&id).await.unwrap();
    let mut unknown_shop = fixture("paid");
    unknown_shop["detail"]["shop_id"] = json!("nobody-shop");
    let mut other_shop = fixture("paid");
    other_shop["detail"]["shop_id"] = json!("shop2");
    seed_shop(&store, &shop("shop2")).await;
    let mut other_buyer = fixture("shipped");
    other_buyer["detail"]["buyer_id"] = json!("buyer-li");
    let mut events = bad_events();
    events.push(("unknown shop", unknown_shop));
    events.push(("another shop's order id", other_shop));
    events.push(("another buyer's order id", other_buyer));
    for (what, event) in events {
        let err = orders::handle(&store, &known, event, NOW)
            .await
            .expect_err(what);
        assert!(err.is_refused(), "{what}: {err}");
        assert_eq!(store.order_facts(&id).await.unwrap(), stored, "{what}");
    }
    assert_eq!(
        store
            .order(&shop_id("shop2"), &user_id("buyer-zhang"), &id)
            .await
            .unwrap(),
        None
    );
}

/// The day's events in an order of the seed's making (a Fisher–Yates shuffle of the day plus
/// every `dup_every`-th event again).
fn shuffled(day: &[OrderEvent], seed: u64, dup_every: usize) -> Vec<OrderEvent> {
    let mut all: Vec<OrderEvent> = day.to_vec();
    all.extend(day.iter().step_by(dup_every).cloned());
    let mut x = seed | 1;
    for i in (1..all.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        all.swap(i, (x % (i as u64 + 1)) as usize);
    }
    all
}

#[tokio::test]
async fn a_day_shuffled_and_duplicated_gives_one_final_state_on_dynamodb() {
    let day = order_day(60, 7);
    let expected = merged(&day);
    for (seed, dup_every) in [(1, 2), (2, 3), (3, 5), (4, 1)] {
        let store = fresh_store().await;
        for s in DAY_SHOPS {
            seed_shop(&store, &shop(s)).await;
        }
        let known = KnownShops::default();
        for e in shuffled(&day, seed, dup_every) {
            orders::handle(&store, &known, orders::envelope(&e), NOW)
                .await
                .unwrap();
        }
        for (id, facts) in &expected {
            let stored = store.order_facts(&order_id(id)).await.unwrap();
            assert_eq!(stored.as_ref(), Some(facts), "seed {seed}: order {id}");
        }
    }
}

/// buyer-wang (whose seeded order awaits shipment) asks when it ships in a new conversation the
/// test names `name`, and confirms the card: the conversation's id and the order.
pub async fn wang_confirms(store: &DynamoStore, name: &str) -> (String, OrderId) {
    use crate::support::{buyer, call, conversation_id, open_at, SELECT};
    use assistant_domain::ports::ConversationStore;
    let wang = buyer("buyer-wang");
    let (status, asked) = open_at(store, name, &wang, "我的订单什么时候发货", NOW).await;
    assert_eq!(status, 201, "{asked}");
    let confirm = json!({"via": "confirm", "card_id": asked["card"]["card_id"]});
    let (status, chosen) = call(store, SELECT, name, &wang, Some(confirm)).await;
    assert_eq!(status, 200, "{chosen}");
    let conv = conversation_id(store, name);
    let stored = store
        .conversation(&ConversationId::parse(&conv).unwrap())
        .await
        .unwrap()
        .unwrap();
    (
        conv,
        stored.confirmed_order.expect("the order is confirmed"),
    )
}

/// The order system's "shipped" event of buyer-wang's `order`, a minute after NOW.
pub fn wang_shipped(order: &OrderId) -> Value {
    use assistant_domain::model::order_facts::{OrderStep, Shipped};
    orders::envelope(&OrderEvent {
        event_id: "evt-wang-shipped".into(),
        order_id: order.clone(),
        shop_id: shop_id(crate::support::SHOP),
        buyer_id: user_id("buyer-wang"),
        occurred_at: NOW + 60_000,
        step: OrderStep::Shipped(Shipped {
            courier: "顺丰速运".into(),
            tracking_no: "SF1234567890".into(),
        }),
    })
}

/// An order event that moves its order to another node (shipped) finds the conversation about the
/// order through OrderIndex, and the agent following it is posted the new panel (a conversation
/// about it that no agent follows is not written); a redelivery posts nothing more.
#[tokio::test]
async fn a_shipped_event_pushes_the_new_panel_to_the_agent_following_its_conversation() {
    use crate::push::{connect_and_follow, fake_connections, local_connections};
    use crate::support::{agent_of, seeded, SHOP};
    use assistant_domain::ports::ConversationStore;
    let (url, seen) = fake_connections().await;
    let store = seeded()
        .await
        .with_connections(Some(local_connections(&url)));
    let (conv, order) = wang_confirms(&store, "order-moved").await;
    let (quiet, same) = wang_confirms(&store, "order-quiet").await;
    assert_eq!(order, same);
    let (id, quiet_id) = (
        ConversationId::parse(&conv).unwrap(),
        ConversationId::parse(&quiet).unwrap(),
    );
    let mut about = store
        .conversations_about(&shop_id(SHOP), &order, 20)
        .await
        .unwrap();
    about.sort();
    let mut both = vec![id.clone(), quiet_id.clone()];
    both.sort();
    assert_eq!(
        about, both,
        "OrderIndex finds the conversations about the order"
    );
    connect_and_follow(&store, "AgentShip1", &agent_of(SHOP), &conv, None).await;
    let before = store.conversation(&id).await.unwrap().unwrap();
    let quiet_before = store.conversation(&quiet_id).await.unwrap().unwrap();
    seen.lock().unwrap().clear();

    let known = KnownShops::default();
    let applied = orders::handle(&store, &known, wang_shipped(&order), NOW + 120_000)
        .await
        .unwrap();
    assert_eq!(applied.outcome, "changed");
    assert_eq!(applied.panels_shown, vec![conv.clone()]);
    let posts = seen.lock().unwrap().clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0]
            .0
            .starts_with("POST /live/@connections/AgentShip1 "),
        "{posts:?}"
    );
    let pushed = &posts[0].1;
    assert_eq!(pushed["conversation_id"], conv.as_str());
    assert_eq!(pushed["messages"], json!([]));
    assert_eq!(
        pushed["panel"]["solution"]["solution_id"],
        "urge_shipment.shipped"
    );
    let after = store.conversation(&id).await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(pushed["panel_version"], after.version);
    let quiet_after = store.conversation(&quiet_id).await.unwrap().unwrap();
    assert_eq!(
        quiet_after.version, quiet_before.version,
        "no agent follows it"
    );

    // Redelivered: unchanged, nothing posted.
    let again = orders::handle(&store, &known, wang_shipped(&order), NOW + 180_000)
        .await
        .unwrap();
    assert_eq!(again.outcome, "unchanged");
    assert_eq!(seen.lock().unwrap().len(), 1);
}
