//! Overdue-shipment compensation rules on the in-memory twin: captured once per order when a
//! confident 催发货 question is linked to an order overdue at that moment; paid once by the sweep;
//! the platform's day report. The sweep under faults, kills and concurrency, and what it writes in
//! DynamoDB, stay in tests/integration/compensation.rs.

use assistant_domain::model::compensation::COUPON;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::time::{beijing_date, Millis, DAY, HOUR, MINUTE};
use assistant_domain::ports::{OrderStore, ShopStore};
use assistant_domain::usecases::{payout_report, select_order, sweep};
use assistant_testkit::fixtures::*;
use assistant_testkit::MemoryStore;
use serde_json::{json, Value};

const OVERDUE: &str = "6930000000000000001";
const ON_TIME: &str = "6930000000000000002";

/// The main buyer asks `text` in `conv` at `now`; the outcome as JSON.
async fn ask_at(store: &MemoryStore, conv: &str, text: &str, now: Millis) -> Value {
    ok(buyer_says(store, &buyer(MAIN_BUYER), &id_of(conv), ask(text), now).await)
}

/// The main buyer answers the card or names an order in `conv` at `now`.
async fn select_at(store: &MemoryStore, conv: &str, input: Value, now: Millis) {
    ok(select_order(store, &buyer(MAIN_BUYER), &id_of(conv), body(input), now).await);
}

async fn deposit(store: &MemoryStore) -> Fen {
    let shop: ShopId = id_of(SHOP);
    store
        .deposit(&shop)
        .await
        .unwrap()
        .expect("the shop has a deposit")
}

async fn main_buyers_order(
    store: &MemoryStore,
    order: &str,
) -> assistant_domain::model::order::Order {
    let (shop, me, order): (ShopId, UserId, OrderId) =
        (id_of(SHOP), id_of(MAIN_BUYER), id_of(order));
    store.order(&shop, &me, &order).await.unwrap().unwrap()
}

#[tokio::test]
async fn asking_five_times_records_one_due_compensation_for_the_first_question() {
    let store = seeded().await;
    let first = ask_at(&store, "c1", &format!("{OVERDUE} 什么时候发货"), NOW).await;
    for i in 1..5 {
        ask_at(
            &store,
            "c1",
            &format!("{OVERDUE} 发货了吗？？"),
            NOW + i * MINUTE,
        )
        .await;
    }
    // A second conversation about the same order earns nothing more either.
    ask_at(
        &store,
        "c2",
        &format!("订单{OVERDUE}怎么还不发货"),
        NOW + HOUR,
    )
    .await;
    let due = all_due(&store).await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].order_id.as_str(), OVERDUE);
    assert_eq!(
        due[0].message_id.as_str(),
        first["message"]["message_id"].as_str().unwrap()
    );
    assert_eq!(due[0].asked_at, NOW);
    assert_eq!(due[0].amount, Fen(300));
}

#[tokio::test]
async fn the_card_confirmation_links_the_question_judged_at_the_questions_time() {
    let store = seeded().await;
    // The order was overdue when asked; it ships a minute later; the buyer confirms afterwards.
    let v = ask_at(&store, "c1", "什么时候发货", NOW).await;
    let mut order = main_buyers_order(&store, OVERDUE).await;
    order.shipped_at = Some(NOW + MINUTE);
    store.put_order(&order).await.unwrap();
    let confirm = json!({"via": "confirm", "card_id": v["card"]["card_id"]});
    select_at(&store, "c1", confirm, NOW + 2 * MINUTE).await;
    let due = all_due(&store).await;
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].message_id.as_str(),
        v["message"]["message_id"].as_str().unwrap()
    );

    // The other way round: on time when asked, overdue by the time the buyer answers: nothing.
    let store = seeded().await;
    let promise = main_buyers_order(&store, ON_TIME)
        .await
        .promised_ship_by
        .unwrap();
    let v = ask_at(&store, "c1", "马克杯什么时候发", promise - MINUTE).await;
    assert_eq!(v["card"]["guess"]["order_id"], ON_TIME);
    let confirm = json!({"via": "confirm", "card_id": v["card"]["card_id"]});
    select_at(&store, "c1", confirm, promise + HOUR).await;
    assert!(all_due(&store).await.is_empty());
}

#[tokio::test]
async fn the_buyers_own_order_card_and_the_confirmed_order_link_questions_too() {
    let store = seeded().await;
    ask_at(&store, "c1", "你们什么时候发货啊", NOW).await;
    let name = json!({"via": "order_card", "order_id": OVERDUE});
    select_at(&store, "c1", name, NOW + MINUTE).await;
    assert_eq!(all_due(&store).await.len(), 1);
}

#[tokio::test]
async fn unsure_other_or_ineligible_questions_earn_nothing() {
    let store = seeded().await;
    ask_at(&store, "c1", &format!("{OVERDUE} 不着急，慢慢发"), NOW).await;
    ask_at(&store, "c2", &format!("{OVERDUE} 快递到哪了"), NOW).await;
    ask_at(&store, "c3", &format!("{OVERDUE} 你好"), NOW).await;
    ask_at(&store, "c4", &format!("{ON_TIME} 什么时候发货"), NOW).await;
    ask_at(&store, "c5", "6930000000000000003 什么时候发货", NOW).await; // delivered
    ask_at(&store, "c6", "6930000000000000004 什么时候发货", NOW).await; // closed
    assert!(all_due(&store).await.is_empty());
}

/// A seeded twin with one due compensation (the overdue order, asked at NOW).
async fn with_one_due() -> MemoryStore {
    let store = seeded().await;
    ask_at(&store, "c1", &format!("{OVERDUE} 什么时候发货"), NOW).await;
    store
}

#[tokio::test]
async fn the_sweep_pays_coupon_deposit_and_notice_once() {
    let store = with_one_due().await;
    let before = deposit(&store).await;
    let report = sweep(&store, &NoWait, NOW + MINUTE, 0).await.unwrap();
    assert_eq!(
        (
            report.examined,
            report.paid,
            report.already_paid,
            report.fen_paid
        ),
        (1, 1, 0, 300)
    );
    assert_eq!(deposit(&store).await, Fen(before.0 - 300));
    assert!(
        all_due(&store).await.is_empty(),
        "a paid compensation leaves the due index"
    );
    assert_eq!(
        store.coupon(&id_of(MAIN_BUYER), &id_of(OVERDUE)),
        Some(COUPON),
        "the buyer's coupon"
    );

    // The buyer is told in the conversation.
    let msgs = messages_seen(&store, "c1", &buyer(MAIN_BUYER)).await;
    let notice = msgs
        .iter()
        .find(|m| m["body"]["type"] == "coupon")
        .expect("a coupon notice")
        .clone();
    assert_eq!(notice["sender"]["role"], "system");
    assert!(notice["body"]["text"].as_str().unwrap().contains("3元"));

    // Delivered again, or a day later: nothing more.
    for later in [NOW + MINUTE, NOW + DAY, NOW + 30 * DAY] {
        let again = sweep(&store, &NoWait, later, 5).await.unwrap();
        assert_eq!((again.examined, again.paid), (0, 0));
    }
    assert_eq!(deposit(&store).await, Fen(before.0 - 300));
}

#[tokio::test]
async fn the_platform_report_shows_the_days_payouts_and_shops_in_arrears() {
    let store = with_one_due().await;
    store.put_deposit(&id_of(SHOP), Fen(200)).await.unwrap();
    sweep(&store, &NoWait, NOW, 0).await.unwrap();

    let ops = Actor::Platform(id_of("ops"));
    let report = payout_report(&store, &ops, &beijing_date(NOW))
        .await
        .unwrap();
    assert_eq!((report.payouts, report.total), (1, Fen(300)));
    assert_eq!(report.by_shop, vec![(id_of(SHOP), 1, Fen(300))]);
    assert_eq!(report.in_arrears.len(), 1);
    assert_eq!(report.in_arrears[0].deposit, Fen(-100));
    assert_eq!(report.in_arrears[0].name, "小鹿家居旗舰店");

    // Another day is empty; only the platform may ask; the day must be a date.
    let other = payout_report(&store, &ops, &beijing_date(NOW + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(other.payouts, 0);
    refused(
        payout_report(&store, &admin_of(SHOP), "2026-11-23").await,
        "forbidden",
    );
    refused(
        payout_report(&store, &ops, "2026-13-45").await,
        "invalid_input",
    );
}
