//! Overdue-shipment compensation against DynamoDB Local: captured once per order when a confident
//! 催发货 question is linked to an order overdue at that moment; paid exactly once by the sweep
//! under duplicates, concurrency, a killed sweep, retries a day later, faults and lost answers.

use crate::support::*;
use assistant_aws::dynamo::keys::{
    compensation_sk, coupon_pk, coupon_sk, order_pk, paid_day_key, shop_pk, ARREARS, ARREARS_INDEX,
    ARREARS_KEY, LEDGER_PREFIX, PAID_DAY, PAID_INDEX, PK, PK_AND_SK_PREFIX, PROFILE, SK, STATUS,
};
use assistant_aws::DynamoStore;
use assistant_cli::drill::{self, Flaky, QuickBackoff};
use assistant_domain::model::compensation::{
    payout_notice, DueCompensation, PayOutcome, DUE_SHARDS,
};
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{ConversationId, MessageId, OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::{beijing_date, Millis, DAY, HOUR, MINUTE};
use assistant_domain::ports::{CompensationStore, ConversationStore, OrderStore, ShopStore};
use assistant_domain::usecases::{sweep, SweepError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

const OVERDUE: &str = "6930000000000000001";
const ON_TIME: &str = "6930000000000000002";

async fn ask_at(store: &DynamoStore, conv: &str, text: &str, now: Millis) -> serde_json::Value {
    let event = local_event(
        POST_MESSAGE,
        &[("conversation_id", conv)],
        &buyer(MAIN_BUYER),
        Some(&json!({"shop_id": SHOP, "text": text})),
    );
    let (status, v) = invoke(store, Function::Intake, event, now).await;
    assert_eq!(status, 201, "{v}");
    v
}

/// Every due compensation, over all shards.
async fn all_due(store: &impl CompensationStore) -> Vec<DueCompensation> {
    let mut out = Vec::new();
    for shard in 0..DUE_SHARDS {
        let mut after = None;
        loop {
            let page = store.due(shard, 100, after).await.unwrap();
            out.extend(page.items);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    out
}

async fn comp_status(store: &DynamoStore, order: &str) -> Option<String> {
    let item = store
        .client()
        .get_item()
        .table_name(&store.tables().orders)
        .key(
            PK,
            AttributeValue::S(order_pk(
                &ShopId::parse(SHOP).unwrap(),
                &UserId::parse(MAIN_BUYER).unwrap(),
            )),
        )
        .key(
            SK,
            AttributeValue::S(compensation_sk(&OrderId::parse(order).unwrap())),
        )
        .send()
        .await
        .unwrap()
        .item?;
    item.get(STATUS).and_then(|s| s.as_s().ok()).cloned()
}

async fn deposit(store: &DynamoStore, shop: &str) -> Fen {
    store
        .shop(&ShopId::parse(shop).unwrap())
        .await
        .unwrap()
        .unwrap()
        .deposit
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
    let me = buyer(MAIN_BUYER);
    // The order was overdue when asked; it ships a minute later; the buyer confirms afterwards.
    let v = ask_at(&store, "c1", "什么时候发货", NOW).await;
    let mut order = store
        .order(
            &ShopId::parse(SHOP).unwrap(),
            &UserId::parse(MAIN_BUYER).unwrap(),
            &OrderId::parse(OVERDUE).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    order.shipped_at = Some(NOW + MINUTE);
    store.put_order(&order).await.unwrap();
    let event = local_event(
        SELECT,
        &[("conversation_id", "c1")],
        &me,
        Some(&json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    );
    let (status, r) = invoke(&store, Function::OrderCard, event, NOW + 2 * MINUTE).await;
    assert_eq!(status, 200, "{r}");
    let due = all_due(&store).await;
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].message_id.as_str(),
        v["message"]["message_id"].as_str().unwrap()
    );

    // The other way round: on time when asked, overdue by the time the buyer answers: nothing.
    let store = seeded().await;
    let on_time = store
        .order(
            &ShopId::parse(SHOP).unwrap(),
            &UserId::parse(MAIN_BUYER).unwrap(),
            &OrderId::parse(ON_TIME).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let promise = on_time.promised_ship_by.unwrap();
    let v = ask_at(&store, "c1", "马克杯什么时候发", promise - MINUTE).await;
    assert_eq!(v["card"]["guess"]["order_id"], ON_TIME);
    let event = local_event(
        SELECT,
        &[("conversation_id", "c1")],
        &me,
        Some(&json!({"via": "confirm", "card_id": v["card"]["card_id"]})),
    );
    let (status, _) = invoke(&store, Function::OrderCard, event, promise + HOUR).await;
    assert_eq!(status, 200);
    assert!(all_due(&store).await.is_empty());
}

#[tokio::test]
async fn the_buyers_own_order_card_and_the_confirmed_order_link_questions_too() {
    let store = seeded().await;
    ask_at(&store, "c1", "你们什么时候发货啊", NOW).await;
    let event = local_event(
        SELECT,
        &[("conversation_id", "c1")],
        &buyer(MAIN_BUYER),
        Some(&json!({"via": "order_card", "order_id": OVERDUE})),
    );
    let (status, _) = invoke(&store, Function::OrderCard, event, NOW + MINUTE).await;
    assert_eq!(status, 200);
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

/// A fresh store with one due compensation (the overdue order, asked at NOW).
async fn with_one_due() -> DynamoStore {
    let store = seeded().await;
    ask_at(&store, "c1", &format!("{OVERDUE} 什么时候发货"), NOW).await;
    store
}

#[tokio::test]
async fn the_sweep_pays_coupon_deposit_ledger_and_notice_in_one_go() {
    let store = with_one_due().await;
    let before = deposit(&store, SHOP).await;
    let report = sweep(&store, &QuickBackoff, NOW + MINUTE, 0).await.unwrap();
    assert_eq!(
        (
            report.examined,
            report.paid,
            report.already_paid,
            report.fen_paid
        ),
        (1, 1, 0, 300)
    );
    assert_eq!(deposit(&store, SHOP).await, Fen(before.0 - 300));
    assert_eq!(comp_status(&store, OVERDUE).await.as_deref(), Some("paid"));
    assert!(
        all_due(&store).await.is_empty(),
        "a paid compensation leaves the due index"
    );

    let coupon = store
        .client()
        .get_item()
        .table_name(&store.tables().orders)
        .key(
            PK,
            AttributeValue::S(coupon_pk(&UserId::parse(MAIN_BUYER).unwrap())),
        )
        .key(
            SK,
            AttributeValue::S(coupon_sk(&OrderId::parse(OVERDUE).unwrap())),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the buyer's coupon");
    assert_eq!(coupon["amount"].as_n().unwrap(), "300");

    let ledger = store
        .client()
        .query()
        .table_name(&store.tables().shops)
        .key_condition_expression(PK_AND_SK_PREFIX)
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(shop_pk(&ShopId::parse(SHOP).unwrap())),
        )
        .expression_attribute_values(":prefix", AttributeValue::S(LEDGER_PREFIX.into()))
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    // The seed's top-up, then the payout.
    let ledger: Vec<_> = ledger
        .into_iter()
        .filter(|item| item["reason"].as_s().is_ok_and(|r| r == "overdue_coupon"))
        .collect();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0]["delta"].as_n().unwrap(), "-300");
    assert_eq!(
        ledger[0]["balance_after"].as_n().unwrap(),
        &(before.0 - 300).to_string()
    );

    // The platform's day view finds it by Beijing day.
    let day = beijing_date(NOW + MINUTE);
    let mut found = 0;
    for shard in 0..DUE_SHARDS {
        let out = store
            .client()
            .query()
            .table_name(&store.tables().orders)
            .index_name(PAID_INDEX)
            .key_condition_expression(format!("{PAID_DAY} = :d"))
            .expression_attribute_values(":d", AttributeValue::S(paid_day_key(&day, shard)))
            .send()
            .await
            .unwrap();
        found += out.items.unwrap().len();
    }
    assert_eq!(found, 1);

    // The buyer is told in the conversation.
    let (_, msgs) = call(&store, LIST_MESSAGES, "c1", &buyer(MAIN_BUYER), None).await;
    let notice = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"]["type"] == "coupon")
        .expect("a coupon notice");
    assert_eq!(notice["sender"]["role"], "system");
    assert!(notice["body"]["text"].as_str().unwrap().contains("3元"));

    // Delivered again, or a day later: nothing more.
    for later in [NOW + MINUTE, NOW + DAY, NOW + 30 * DAY] {
        let again = sweep(&store, &QuickBackoff, later, 5).await.unwrap();
        assert_eq!((again.examined, again.paid), (0, 0));
    }
    assert_eq!(deposit(&store, SHOP).await, Fen(before.0 - 300));
}

#[tokio::test]
async fn a_cancelled_condition_is_counted_not_failed() {
    let store = with_one_due().await;
    let due = all_due(&store).await.remove(0);
    let dep = deposit(&store, SHOP).await;
    // A stale deposit: the transaction is cancelled by the shop's condition, nothing written.
    assert_eq!(
        store
            .pay(&due, Fen(dep.0 + 1), &payout_notice(&due, NOW), NOW)
            .await
            .unwrap(),
        PayOutcome::DepositMoved
    );
    assert_eq!(comp_status(&store, OVERDUE).await.as_deref(), Some("due"));
    assert_eq!(
        store
            .pay(&due, dep, &payout_notice(&due, NOW), NOW)
            .await
            .unwrap(),
        PayOutcome::Paid {
            balance_after: Fen(dep.0 - 300)
        }
    );
    // Already paid: cancelled by the compensation's condition, even with the right deposit.
    let dep = deposit(&store, SHOP).await;
    assert_eq!(
        store
            .pay(&due, dep, &payout_notice(&due, NOW + DAY), NOW + DAY)
            .await
            .unwrap(),
        PayOutcome::AlreadyPaid
    );
    assert_eq!(deposit(&store, SHOP).await, dep);
}

#[tokio::test]
async fn faults_before_and_after_the_write_are_absorbed_exactly_once() {
    let store = seeded().await;
    for conv in ["a", "b", "c"] {
        ask_at(&store, conv, &format!("{OVERDUE} 什么时候发货"), NOW).await;
    }
    // Other buyers' overdue orders too.
    for (node, order) in assistant_cli::seed::node_buyers(NOW - HOUR) {
        if node == OrderNode::Overdue {
            let event = local_event(
                POST_MESSAGE,
                &[("conversation_id", "z1")],
                &buyer(order.buyer_id.as_str()),
                Some(&json!({"shop_id": SHOP, "text": format!("{} 发货了吗", order.order_id)})),
            );
            invoke(&store, Function::Intake, event, NOW).await;
        }
    }
    assert_eq!(all_due(&store).await.len(), 2);
    let before = deposit(&store, SHOP).await;
    // Every call fails once before writing, and every second one loses its answer after writing.
    let flaky = Flaky::new(store.clone(), 2, 3);
    let report = sweep(&flaky, &QuickBackoff, NOW + MINUTE, 0).await.unwrap();
    assert!(report.retries > 0, "{report:?}");
    assert_eq!(report.paid + report.already_paid, 2, "{report:?}");
    assert!(flaky.injected.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert_eq!(deposit(&store, SHOP).await, Fen(before.0 - 600));
    assert!(all_due(&store).await.is_empty());
}

#[tokio::test]
async fn a_killed_sweep_leaves_nothing_half_paid() {
    let store = fresh_store().await;
    let orders = drill::drill_orders(60, 3, NOW);
    for s in 0..3 {
        store
            .put_shop(&Shop {
                shop_id: ShopId::parse(format!("drill-shop-{s}")).unwrap(),
                name: "s".into(),
                agents: vec![],
                serving_rule: Default::default(),
                robot_on: false,
                deposit: Fen(100_000),
            })
            .await
            .unwrap();
    }
    let conv = ConversationId::parse("drill-c").unwrap();
    for d in orders.iter().filter(|d| d.case == drill::Case::Eligible) {
        store.put_order(&d.order).await.unwrap();
        let due = DueCompensation::new(&d.order, &conv, &MessageId::parse("m1").unwrap(), NOW);
        let mut c = assistant_domain::model::conversation::Conversation::open(
            &ConversationId::parse(format!("k{}", d.order.order_id)).unwrap(),
            &store.shop(&d.order.shop_id).await.unwrap().unwrap(),
            &d.order.buyer_id,
            NOW,
        );
        c.version = 1;
        store
            .commit(assistant_domain::ports::ConversationChange {
                conversation: c,
                expected_version: None,
                messages: vec![],
                stats: vec![],
                compensations: vec![due],
            })
            .await
            .unwrap();
    }
    let s2 = store.clone();
    let killed = tokio::spawn(async move { sweep(&s2, &QuickBackoff, NOW, 0).await });
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    killed.abort();
    let _ = killed.await;
    let deposits: std::collections::HashMap<_, _> = (0..3)
        .map(|s| {
            (
                ShopId::parse(format!("drill-shop-{s}")).unwrap(),
                Fen(100_000),
            )
        })
        .collect();
    // Whatever the killed sweep managed is whole: paid ⇔ coupon ⇔ ledger entry.
    let partial = drill::verify(&store, &orders, &deposits).await;
    assert!(
        partial.ledger_ok && partial.double == 0 && partial.wrongful == 0,
        "{partial}"
    );
    assert!(
        partial.paid < 60,
        "the sweep was killed part-way: {partial}"
    );
    // The next sweep finishes the job.
    sweep(&store, &QuickBackoff, NOW + MINUTE, 7).await.unwrap();
    let done = drill::verify(&store, &orders, &deposits).await;
    assert_eq!(
        done.to_string(),
        "paid=60 double=0 missed=0 wrongful=0 ledger_ok=true"
    );
}

#[tokio::test]
async fn a_small_drill_with_concurrent_duplicate_and_killed_sweeps_is_exact() {
    let store = fresh_store().await;
    let mut log = Vec::new();
    let verdict = drill::run(&store, 80, 4, NOW, &mut log).await.unwrap();
    assert_eq!(
        verdict.to_string(),
        "paid=80 double=0 missed=0 wrongful=0 ledger_ok=true",
        "{}",
        String::from_utf8_lossy(&log)
    );
}

#[tokio::test]
async fn a_shop_in_arrears_still_pays_and_is_flagged() {
    let store = with_one_due().await;
    let mut shop = store
        .shop(&ShopId::parse(SHOP).unwrap())
        .await
        .unwrap()
        .unwrap();
    shop.deposit = Fen(100);
    store.put_shop(&shop).await.unwrap();
    let report = sweep(&store, &QuickBackoff, NOW, 0).await.unwrap();
    assert_eq!(report.paid, 1);
    assert_eq!(deposit(&store, SHOP).await, Fen(-200));
    let out = store
        .client()
        .query()
        .table_name(&store.tables().shops)
        .index_name(ARREARS_INDEX)
        .key_condition_expression(format!("{ARREARS_KEY} = :a"))
        .expression_attribute_values(":a", AttributeValue::S(ARREARS.into()))
        .send()
        .await
        .unwrap();
    let items = out.items.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["deposit"].as_n().unwrap(), "-200");
}

#[tokio::test]
async fn a_compensation_that_cannot_be_paid_is_reported_and_stays_due() {
    let store = with_one_due().await;
    // The shop record is gone (a data fault): the sweep must say so, pay nothing, keep it due.
    store
        .client()
        .delete_item()
        .table_name(&store.tables().shops)
        .key(
            PK,
            AttributeValue::S(shop_pk(&ShopId::parse(SHOP).unwrap())),
        )
        .key(SK, AttributeValue::S(PROFILE.into()))
        .send()
        .await
        .unwrap();
    match sweep(&store, &QuickBackoff, NOW, 0).await {
        Err(SweepError::Incomplete { failed, report }) => {
            assert_eq!((failed, report.paid), (1, 0));
        }
        other => panic!("expected an incomplete sweep, got {other:?}"),
    }
    assert_eq!(all_due(&store).await.len(), 1);
}

#[tokio::test]
async fn the_platform_report_shows_the_days_payouts_and_shops_in_arrears() {
    use assistant_domain::model::identity::Actor;
    use assistant_domain::usecases::payout_report;
    let store = with_one_due().await;
    let mut shop = store
        .shop(&ShopId::parse(SHOP).unwrap())
        .await
        .unwrap()
        .unwrap();
    shop.deposit = Fen(200);
    store.put_shop(&shop).await.unwrap();
    sweep(&store, &QuickBackoff, NOW, 0).await.unwrap();

    let platform = Actor::Platform(UserId::parse("ops").unwrap());
    let report = payout_report(&store, &platform, &beijing_date(NOW))
        .await
        .unwrap();
    assert_eq!((report.payouts, report.total), (1, Fen(300)));
    assert_eq!(
        report.by_shop,
        vec![(ShopId::parse(SHOP).unwrap(), 1, Fen(300))]
    );
    assert_eq!(report.in_arrears.len(), 1);
    assert_eq!(report.in_arrears[0].deposit, Fen(-100));
    assert_eq!(report.in_arrears[0].name, "小鹿家居旗舰店");

    // Another day is empty; only the platform may ask; the day must be a date.
    let other = payout_report(&store, &platform, &beijing_date(NOW + 2 * DAY))
        .await
        .unwrap();
    assert_eq!(other.payouts, 0);
    let admin = Actor::ShopAdmin {
        user: UserId::parse("admin-lin").unwrap(),
        shop: ShopId::parse(SHOP).unwrap(),
    };
    assert_eq!(
        payout_report(&store, &admin, "2026-11-23")
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    assert_eq!(
        payout_report(&store, &platform, "2026-13-45")
            .await
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}
