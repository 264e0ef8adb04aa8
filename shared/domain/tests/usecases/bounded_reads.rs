//! What one question may read, whatever the buyer's history: the card ranks the buyer's newest
//! [`CARD_CANDIDATES`] orders only, and an older order is still found by its number in the text.

use assistant_domain::model::card::CARD_CANDIDATES;
use assistant_domain::model::order::{OrderItem, OrderNode};
use assistant_domain::model::time::{Millis, DAY};
use assistant_domain::ports::OrderStore;
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::Value;

const MANY: &str = "buyer-many";

/// The order number of the buyer's `i`-th order, 0 the oldest.
fn number(i: usize) -> String {
    format!("69400000000000{i:05}")
}

/// A buyer with 60 orders in the demo shop: the oldest is overdue (read whole, it would be the
/// card's guess), the 59 after it delivered, one a day.
async fn store_with_many_orders() -> MemoryStore {
    let store = seeded().await;
    let count = CARD_CANDIDATES + 10;
    for i in 0..count {
        let (node, age): (OrderNode, Millis) = if i == 0 {
            (OrderNode::Overdue, (count + 30) as Millis * DAY)
        } else {
            (OrderNode::Delivered, (count + 3 - i) as Millis * DAY)
        };
        let items = vec![OrderItem::new("亚麻抱枕套", 1, 3900)];
        let order = order_in(SHOP, MANY, &number(i), items, node, age, NOW);
        store.put_order(&order).await.unwrap();
    }
    store
}

async fn ask_as_many(store: &MemoryStore, conversation: &str, text: &str) -> Value {
    ok(buyer_says(store, &buyer(MANY), &id_of(conversation), ask(text), NOW).await)
}

/// Every order number a card lists.
fn listed(card: &Value) -> Vec<String> {
    std::iter::once(&card["guess"])
        .chain(card["others"].as_array().unwrap())
        .map(|o| o["order_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_card_ranks_only_the_newest_orders() {
    let store = store_with_many_orders().await;
    let v = ask_as_many(&store, "c-many-1", "我的东西什么时候发货").await;
    let card = &v["card"];
    let newest: Vec<String> = (10..CARD_CANDIDATES + 10).map(number).collect();
    for order in listed(card) {
        assert!(
            newest.contains(&order),
            "{order} is not among the newest: {card}"
        );
    }
    assert_eq!(
        card["guess"]["order_id"],
        number(CARD_CANDIDATES + 9),
        "the most recent"
    );
    assert_eq!(card["reason"], "recency");
}

#[tokio::test]
async fn an_older_order_named_in_the_text_is_found_by_its_number() {
    let store = store_with_many_orders().await;
    let oldest = number(0);
    let v = ask_as_many(&store, "c-many-2", &format!("订单{oldest}怎么还没发货")).await;
    assert_eq!(v["card"]["guess"]["order_id"], oldest.as_str());
    assert_eq!(v["card"]["reason"], "order_number_in_text");
    assert_eq!(v["card"]["guess"]["node"], "overdue");
    // The question is settled against it: overdue when asked, so its compensation is due.
    let due = all_due(&store).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].order_id.as_str(), oldest);
}

#[tokio::test]
async fn another_buyers_order_number_links_nothing() {
    let store = store_with_many_orders().await;
    let mine = number(0);
    let v = ok(buyer_says(
        &store,
        &buyer(MAIN_BUYER),
        &id_of("c-many-3"),
        ask(&format!("订单{mine}怎么还没发货")),
        NOW,
    )
    .await);
    let card = &v["card"];
    assert!(!listed(card).contains(&mine), "{card}");
    assert_ne!(card["reason"], "order_number_in_text");
}
