//! DynamoDB faults on the wire: a proxy between the SDK and DynamoDB Local throttles, hangs, drops
//! connections and loses answers, per request. Handlers answer 503 with `Retry-After` and write
//! nothing half-way; once the faults clear the same request succeeds; a compensation sweep cut
//! short by faults leaves the rest due and a later sweep pays each order exactly once.

use crate::support::*;
use assistant_aws::dynamo::keys::{COMPENSATION_PREFIX, LIMIT_PREFIX, PK, SK};
use assistant_aws::http::{response_json, RETRY_AFTER_SECONDS};
use assistant_aws::{local_client, DynamoStore};
use assistant_cli::drill::{self, QuickBackoff};
use assistant_domain::model::compensation::DueCompensation;
use assistant_domain::model::conversation::{Conversation, Shop};
use assistant_domain::model::ids::{ConversationId, MessageId, ShopId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::time::MINUTE;
use assistant_domain::ports::{ConversationChange, ConversationStore, OrderStore, ShopStore};
use assistant_domain::usecases::{sweep, SweepError};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::fault_proxy::{Fault, FaultProxy, Matches, THROTTLING, THROUGHPUT_EXCEEDED};
use std::collections::{BTreeMap, HashMap};

/// Every item of the three tables, read straight from DynamoDB Local (not through the proxy):
/// table -> (pk, sk) -> the item's attributes.
type Snapshot = BTreeMap<String, BTreeMap<(String, String), String>>;

async fn snapshot(store: &DynamoStore) -> Snapshot {
    let t = store.tables();
    let mut out = Snapshot::new();
    for table in [&t.orders, &t.conversations, &t.shops] {
        let mut items = BTreeMap::new();
        let mut start = None;
        loop {
            let page = store
                .client()
                .scan()
                .table_name(table.as_str())
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan DynamoDB Local");
            for item in page.items() {
                let key = |k: &str| {
                    item.get(k)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                // A buyer's allowances count requests, faulty ones too: they are not what a
                // request stores, and a retried request rightly counts twice.
                if key(PK).starts_with(LIMIT_PREFIX) {
                    continue;
                }
                let whole = AttributeValue::M(item.clone());
                items.insert((key(PK), key(SK)), canonical(&whole));
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        out.insert(table.clone(), items);
    }
    out
}

/// An attribute value as text with map keys in order, so equal items compare equal.
fn canonical(v: &AttributeValue) -> String {
    match v {
        AttributeValue::M(m) => {
            let sorted: BTreeMap<_, _> = m.iter().map(|(k, v)| (k, canonical(v))).collect();
            format!("{sorted:?}")
        }
        AttributeValue::L(l) => format!("{:?}", l.iter().map(canonical).collect::<Vec<_>>()),
        other => format!("{other:?}"),
    }
}

/// Asserts that nothing changed, naming what did if something did.
fn assert_unchanged(before: &Snapshot, after: &Snapshot, what: &str) {
    assert!(
        before == after,
        "{what}: nothing may be written half-way, yet these changed: {:?}",
        change_shape(before, after)
    );
}

/// What changed from `before` to `after`, by table and kind of item (the sort key's first part:
/// META, MSG, COMP, STAT …) with counts, deletions too: the shape of one write, whatever its
/// ids and times.
fn change_shape(before: &Snapshot, after: &Snapshot) -> BTreeMap<String, usize> {
    let mut shape = BTreeMap::new();
    for (table, items) in after {
        let logical = table.rsplit('-').next().unwrap_or_default();
        for (key, value) in items {
            if before.get(table).and_then(|b| b.get(key)) != Some(value) {
                let kind = key.1.split('#').next().unwrap_or_default();
                *shape.entry(format!("{logical}:{kind}")).or_default() += 1;
            }
        }
    }
    for (table, items) in before {
        let logical = table.rsplit('-').next().unwrap_or_default();
        for key in items.keys() {
            if !after.get(table).is_some_and(|a| a.contains_key(key)) {
                let kind = key.1.split('#').next().unwrap_or_default();
                *shape
                    .entry(format!("deleted {logical}:{kind}"))
                    .or_default() += 1;
            }
        }
    }
    shape
}

/// The same store's tables, reached through the proxy.
fn through(proxy: &FaultProxy, store: &DynamoStore) -> DynamoStore {
    DynamoStore::new(local_client(proxy.endpoint()), store.tables().clone())
}

/// The overdue buyer opens a conversation asking with the order number: a message, the card, a
/// due compensation, the conversation, stats: every kind of write the intake path makes.
fn urge_event() -> ApiGatewayV2httpRequest {
    local_event(
        OPEN,
        &[],
        &buyer(MAIN_BUYER),
        Some(&serde_json::json!({"shop_id": SHOP, "text": "6930000000000000001 什么时候发货"})),
    )
}

/// The writes before a new conversation's message that take the buyer's allowances.
fn allowance_writes(matches: Matches) -> usize {
    match matches {
        Matches::Writes => 2,
        Matches::Any => 0,
    }
}

fn assert_unavailable(resp: &ApiGatewayV2httpResponse, what: &str) {
    let body = response_json(resp);
    assert_eq!(resp.status_code, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    assert_eq!(
        resp.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some(RETRY_AFTER_SECONDS),
        "{what}: a retry hint"
    );
}

/// One fault on the intake path: 503 with a retry hint, nothing stored; then, faults cleared,
/// the same request succeeds and stores what a request stores.
async fn intake_meets(matches: Matches, fault: Fault) {
    let what = format!("{fault:?} on {matches:?}");
    let store = seeded().await;
    let proxy = FaultProxy::start(integration_tests::endpoint()).await;
    let faulty = through(&proxy, &store);
    // The buyer's allowances (their messages this minute, their new conversations today) are
    // taken first, each an UpdateItem: the faults meet the writes of the message itself.
    proxy.after(matches, allowance_writes(matches), fault, None);

    let before = snapshot(&store).await;
    let started = std::time::Instant::now();
    let resp = intake::handle(&faulty, urge_event(), NOW).await;
    assert_unavailable(&resp, &what);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(9),
        "{what}: answered within the function's 10 s timeout ({:?})",
        started.elapsed()
    );
    assert!(proxy.injected(fault) > 0, "{what}: the proxy injected it");
    // Shown with --nocapture: BENCHMARKS.md quotes these.
    println!(
        "fault {what}: 503 after {} ms, {} requests seen, {} met the fault",
        started.elapsed().as_millis(),
        proxy.seen().len(),
        proxy.injected(fault)
    );
    if matches == Matches::Writes {
        assert!(
            proxy
                .seen()
                .iter()
                .any(|s| s.fault == Fault::Pass && s.operation == "GetItem"),
            "{what}: the reads went through, so the write itself met the fault"
        );
    }
    assert_unchanged(&before, &snapshot(&store).await, &what);

    proxy.clear();
    let resp = intake::handle(&faulty, urge_event(), NOW).await;
    assert_eq!(resp.status_code, 201, "{what}: {}", response_json(&resp));
    let shape = change_shape(&before, &snapshot(&store).await);
    assert!(
        shape.keys().any(|k| k.ends_with(":MSG")) && shape.keys().any(|k| k.ends_with(":COMP")),
        "{what}: the retried request stored its message and compensation: {shape:?}"
    );
}

#[tokio::test]
async fn throughput_exceeded_on_every_request_is_a_503_and_changes_nothing() {
    intake_meets(Matches::Any, THROUGHPUT_EXCEEDED).await;
}

#[tokio::test]
async fn throttled_writes_are_a_503_and_change_nothing() {
    intake_meets(Matches::Writes, THROTTLING).await;
}

#[tokio::test]
async fn a_hung_connection_times_out_into_a_503() {
    intake_meets(Matches::Any, Fault::Hang).await;
}

#[tokio::test]
async fn a_hung_write_times_out_into_a_503_and_changes_nothing() {
    intake_meets(Matches::Writes, Fault::Hang).await;
}

#[tokio::test]
async fn dropped_connections_are_a_503_and_change_nothing() {
    intake_meets(Matches::Any, Fault::Drop).await;
}

#[tokio::test]
async fn a_write_dropped_before_it_arrives_is_a_503_and_changes_nothing() {
    intake_meets(Matches::Writes, Fault::Drop).await;
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_is_whole_or_absent_and_nothing_accepted_is_lost() {
    // What one successful request writes, on a twin store.
    let twin = seeded().await;
    let twin_before = snapshot(&twin).await;
    let resp = intake::handle(&twin, urge_event(), NOW).await;
    assert_eq!(resp.status_code, 201);
    let whole = change_shape(&twin_before, &snapshot(&twin).await);

    let store = seeded().await;
    let proxy = FaultProxy::start(integration_tests::endpoint()).await;
    let faulty = through(&proxy, &store);
    proxy.after(
        Matches::Writes,
        allowance_writes(Matches::Writes),
        Fault::LoseAnswer,
        None,
    );
    let before = snapshot(&store).await;
    let resp = intake::handle(&faulty, urge_event(), NOW).await;
    assert_unavailable(&resp, "lost answer");
    assert!(proxy.injected(Fault::LoseAnswer) > 0);
    // DynamoDB did the transaction (the answer was lost after it): all of it, not part.
    let after = snapshot(&store).await;
    assert_eq!(change_shape(&before, &after), whole, "one whole write");

    // The client retries as told: the lost answer's conversation stays, the retry opens another,
    // and the order's compensation is still due once.
    proxy.clear();
    let resp = intake::handle(&faulty, urge_event(), NOW).await;
    assert!(
        [201, 409].contains(&resp.status_code),
        "{}",
        response_json(&resp)
    );
    let due: Vec<_> = snapshot(&store).await[&store.tables().orders]
        .keys()
        .filter(|(_, sk)| sk.starts_with(COMPENSATION_PREFIX))
        .cloned()
        .collect();
    assert_eq!(due.len(), 1, "one compensation for the order: {due:?}");
}

#[tokio::test]
async fn other_handlers_answer_503_with_a_retry_hint_too() {
    let store = seeded().await;
    // A conversation with a confirmed order, so the panel and its events have work to do.
    urge(&store, "f2", "什么时候发货").await;
    let f2 = conversation_id(&store, "f2");
    let select = local_event(
        SELECT,
        &[("conversation_id", &f2)],
        &buyer(MAIN_BUYER),
        Some(&serde_json::json!({"via": "order_card", "order_id": "6930000000000000001"})),
    );
    let (status, v) = invoke(&store, Function::OrderCard, select.clone(), NOW).await;
    assert_eq!(status, 200, "{v}");

    let proxy = FaultProxy::start(integration_tests::endpoint()).await;
    let faulty = through(&proxy, &store);
    proxy.always(Matches::Any, THROTTLING);
    let before = snapshot(&store).await;
    let panel = local_event(PANEL, &[("conversation_id", &f2)], &agent_of(SHOP), None);
    assert_unavailable(&suggest::handle(&faulty, panel.clone(), NOW).await, "panel");
    assert_unavailable(
        &order_card::handle(&faulty, select, NOW).await,
        "order selection",
    );
    assert_unchanged(&before, &snapshot(&store).await, "panel and selection");
    proxy.clear();
    assert_eq!(suggest::handle(&faulty, panel, NOW).await.status_code, 200);
}

/// `n` due compensations over 3 shops, as intake records them; returns the drill's orders and
/// the shops' starting deposits for `drill::verify`.
pub(crate) async fn with_due(
    store: &DynamoStore,
    n: usize,
) -> (Vec<drill::DrillOrder>, HashMap<ShopId, Fen>) {
    let orders = drill::drill_orders(n, 3, NOW);
    let mut deposits = HashMap::new();
    for s in 0..3 {
        let shop_id = ShopId::parse(format!("drill-shop-{s}")).unwrap();
        store
            .put_shop(&Shop {
                shop_id: shop_id.clone(),
                name: "s".into(),
                agents: vec![],
                serving_rule: Default::default(),
                robot_on: false,
            })
            .await
            .unwrap();
        store.put_deposit(&shop_id, Fen(100_000)).await.unwrap();
        deposits.insert(shop_id, Fen(100_000));
    }
    for d in orders.iter().filter(|d| d.case == drill::Case::Eligible) {
        store.put_order(&d.order).await.unwrap();
        let conv = ConversationId::parse(format!("k{}", d.order.order_id)).unwrap();
        let due = DueCompensation::new(&d.order, &conv, &MessageId::parse("m1").unwrap(), NOW);
        let shop = store.shop(&d.order.shop_id).await.unwrap().unwrap();
        let mut c = Conversation::open(&conv, &shop, &d.order.buyer_id, NOW);
        c.version = 1;
        store
            .commit(ConversationChange {
                conversation: c,
                expected_version: None,
                messages: vec![],
                stats: vec![],
                compensations: vec![due],
            })
            .await
            .unwrap();
    }
    (orders, deposits)
}

#[tokio::test]
async fn a_sweep_cut_short_by_faults_resumes_and_pays_each_order_exactly_once() {
    const DUE: usize = 24;
    let store = fresh_store().await;
    let (orders, deposits) = with_due(&store, DUE).await;
    let proxy = FaultProxy::start(integration_tests::endpoint()).await;
    let faulty = through(&proxy, &store);

    // 1. The table starts throttling every write part-way through the sweep.
    proxy.after(Matches::Writes, 8, THROUGHPUT_EXCEEDED, None);
    let first = sweep(&faulty, &QuickBackoff, NOW + MINUTE, 0).await;
    assert!(
        matches!(first, Err(SweepError::Incomplete { .. })),
        "the sweep reports what stays due: {first:?}"
    );
    let partial = drill::verify(&store, &orders, &deposits).await;
    assert!(
        partial.ledger_ok && partial.double == 0 && partial.wrongful == 0,
        "{partial}"
    );
    assert!(
        partial.paid > 0 && (partial.paid as usize) < DUE,
        "cut short: {partial}"
    );

    // 2. Lost answers, dropped connections and a hung write, then the network recovers.
    proxy.script(&[
        (Matches::Writes, 0, Fault::LoseAnswer, 3),
        (Matches::Any, 2, Fault::Drop, 3),
        (Matches::Writes, 1, Fault::Hang, 1),
        (Matches::Any, 0, THROTTLING, 2),
    ]);
    let second = sweep(&faulty, &QuickBackoff, NOW + 2 * MINUTE, 5).await;
    for fault in [Fault::LoseAnswer, Fault::Drop, Fault::Hang, THROTTLING] {
        assert!(proxy.injected(fault) > 0, "{fault:?} injected");
    }
    let middle = drill::verify(&store, &orders, &deposits).await;
    assert!(
        middle.ledger_ok && middle.double == 0 && middle.wrongful == 0,
        "{middle} after {second:?}"
    );

    // 3. Faults cleared: a later sweep finishes the job; every order paid exactly once.
    proxy.clear();
    sweep(&faulty, &QuickBackoff, NOW + 3 * MINUTE, 11)
        .await
        .unwrap();
    let done = drill::verify(&store, &orders, &deposits).await;
    assert_eq!(
        done.to_string(),
        format!("paid={DUE} double=0 missed=0 wrongful=0 ledger_ok=true")
    );
}
