//! Overdue-shipment compensation against DynamoDB Local: what a payout writes, its transaction's
//! conditions, and the sweep paying exactly once under duplicates, concurrency, a killed sweep,
//! faults and lost answers, a shop in arrears and a missing shop record. When a compensation is
//! earned, the sweep's payout and the day report are tested on the twin
//! (shared/domain/tests/usecases/compensation.rs).

use crate::support::*;
use assistant_aws::dynamo::keys::{
    compensation_sk, coupon_pk, coupon_sk, funds_pk, order_pk, paid_day_key, ARREARS,
    ARREARS_INDEX, ARREARS_KEY, BALANCE, LEDGER_PREFIX, PAID_DAY, PAID_INDEX, PK, PK_AND_SK_PREFIX,
    SK, STATUS,
};
use assistant_aws::DynamoStore;
use assistant_cli::drill::{self, Flaky, QuickBackoff};
use assistant_domain::model::compensation::{payout_notice, PayOutcome, DUE_SHARDS};
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::{beijing_date, Millis, DAY, HOUR, MINUTE};
use assistant_domain::ports::{CompensationStore, ShopStore};
use assistant_domain::usecases::{sweep, SweepError};
use assistant_testkit::fixtures::all_due;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

const OVERDUE: &str = "6930000000000000001";

async fn ask_at(store: &DynamoStore, conv: &str, text: &str, now: Millis) -> serde_json::Value {
    let body = json!({"shop_id": SHOP, "text": text});
    let (status, v) = buyer_writes(store, conv, &buyer(MAIN_BUYER), body, now).await;
    assert_eq!(status, 201, "{v}");
    v
}

/// An item of the orders table, read as it is stored.
async fn orders_item(
    store: &DynamoStore,
    pk: String,
    sk: String,
) -> Option<std::collections::HashMap<String, AttributeValue>> {
    store
        .client()
        .get_item()
        .table_name(&store.tables().orders)
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .send()
        .await
        .unwrap()
        .item
}

async fn comp_status(store: &DynamoStore, order: &str) -> Option<String> {
    let pk = order_pk(
        &ShopId::parse(SHOP).unwrap(),
        &UserId::parse(MAIN_BUYER).unwrap(),
    );
    let sk = compensation_sk(&OrderId::parse(order).unwrap());
    let item = orders_item(store, pk, sk).await?;
    item.get(STATUS).and_then(|s| s.as_s().ok()).cloned()
}

async fn deposit(store: &DynamoStore, shop: &str) -> Fen {
    store
        .deposit(&ShopId::parse(shop).unwrap())
        .await
        .unwrap()
        .expect("the shop has a deposit")
}

/// A fresh store with one due compensation (the overdue order, asked at NOW).
async fn with_one_due() -> DynamoStore {
    let store = seeded().await;
    ask_at(&store, "c1", &format!("{OVERDUE} 什么时候发货"), NOW).await;
    store
}

/// What one payout writes in DynamoDB: the compensation's status, the buyer's coupon, the shop's
/// ledger entry and the platform's day index. (What the sweep pays and tells the buyer, and that
/// it pays once, is tested on the twin: shared/domain/tests/usecases/compensation.rs.)
#[tokio::test]
async fn the_sweep_writes_status_coupon_ledger_and_day_index() {
    let store = with_one_due().await;
    let before = deposit(&store, SHOP).await;
    let report = sweep(&store, &QuickBackoff, NOW + MINUTE, 0).await.unwrap();
    assert_eq!(report.paid, 1);
    assert_eq!(comp_status(&store, OVERDUE).await.as_deref(), Some("paid"));

    let coupon = orders_item(
        &store,
        coupon_pk(&UserId::parse(MAIN_BUYER).unwrap()),
        coupon_sk(&OrderId::parse(OVERDUE).unwrap()),
    )
    .await
    .expect("the buyer's coupon");
    assert_eq!(coupon["amount"].as_n().unwrap(), "300");

    let ledger = store
        .client()
        .query()
        .table_name(&store.tables().shops)
        .key_condition_expression(PK_AND_SK_PREFIX)
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(funds_pk(&ShopId::parse(SHOP).unwrap())),
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
            let text = format!("{} 发货了吗", order.order_id);
            let body = json!({"shop_id": SHOP, "text": text});
            let who = buyer(order.buyer_id.as_str());
            buyer_writes(&store, "z1", &who, body, NOW).await;
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
    let (orders, deposits) = crate::faults::with_due(&store, 60).await;
    let s2 = store.clone();
    let killed = tokio::spawn(async move { sweep(&s2, &QuickBackoff, NOW, 0).await });
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    killed.abort();
    let _ = killed.await;
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
    store
        .put_deposit(&ShopId::parse(SHOP).unwrap(), Fen(100))
        .await
        .unwrap();
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
    // The shop's deposit is gone (a data fault): the sweep must say so, pay nothing, keep it due.
    store
        .client()
        .delete_item()
        .table_name(&store.tables().shops)
        .key(
            PK,
            AttributeValue::S(funds_pk(&ShopId::parse(SHOP).unwrap())),
        )
        .key(SK, AttributeValue::S(BALANCE.into()))
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
