//! The compensation drill: many eligible and ineligible orders, buyers asking through the real
//! intake service, then concurrent sweeps with duplicate deliveries, an interrupted sweep and
//! injected faults; finally every payout is checked against the rule and the ledger.

use assistant_aws::dynamo::keys::{
    compensation_sk, coupon_pk, coupon_sk, funds_pk, order_pk, LEDGER_PREFIX, PK, PK_AND_SK_PREFIX,
    SK, STATUS, STATUS_PAID,
};
use assistant_aws::DynamoStore;
use assistant_domain::intent::IntentId;
use assistant_domain::model::compensation::{DueCompensation, PayOutcome, SweepReport, COUPON};
use assistant_domain::model::conversation::{Message, Shop};
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::{Order, OrderItem};
use assistant_domain::model::replies::{IntentReplies, ReplyChange, RobotSettings, ShopSetup};
use assistant_domain::model::shop::{Agent, ServingRule};
use assistant_domain::model::time::{Millis, HOUR, MINUTE};
use assistant_domain::ports::{Announce, CompensationStore, News, OrderStore, Page, ShopStore};
use assistant_domain::usecases::sweep;
use assistant_domain::usecases::{
    open_conversation, post_buyer_message, OpenConversation, PostMessage,
};
use assistant_domain::{Error, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A store that fails like the real service can: a retryable fault before the write happens
/// (throttling, TransactionConflict), or after it happened with the answer lost. DynamoDB Local
/// raises neither, so the drill and the tests inject them here.
#[derive(Clone)]
pub struct Flaky {
    pub inner: DynamoStore,
    /// Every n-th payout call fails before writing (0: never).
    pub fail_before_every: u64,
    /// Every n-th payout call writes, then reports a fault (0: never).
    pub fail_after_every: u64,
    calls: Arc<AtomicU64>,
    pub injected: Arc<AtomicU64>,
}

impl Flaky {
    pub fn new(inner: DynamoStore, fail_before_every: u64, fail_after_every: u64) -> Self {
        Flaky {
            inner,
            fail_before_every,
            fail_after_every,
            calls: Arc::new(AtomicU64::new(0)),
            injected: Arc::new(AtomicU64::new(0)),
        }
    }

    fn fault(&self, what: &str) -> Error {
        self.injected.fetch_add(1, Ordering::Relaxed);
        Error::Unavailable(format!("injected {what}").into())
    }
}

impl ShopStore for Flaky {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        self.inner.shop(shop).await
    }
    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        self.inner.put_shop(shop).await
    }
    async fn deposit(&self, shop: &ShopId) -> Result<Option<Fen>> {
        self.inner.deposit(shop).await
    }
    async fn put_deposit(&self, shop: &ShopId, deposit: Fen) -> Result<()> {
        self.inner.put_deposit(shop, deposit).await
    }
    async fn shop_setup(&self, shop: &ShopId) -> Result<Option<ShopSetup>> {
        self.inner.shop_setup(shop).await
    }
    async fn reply_history(
        &self,
        shop: &ShopId,
        intent: IntentId,
        limit: usize,
    ) -> Result<Vec<ReplyChange>> {
        self.inner.reply_history(shop, intent, limit).await
    }
    async fn save_replies(&self, replies: &IntentReplies, change: &ReplyChange) -> Result<()> {
        self.inner.save_replies(replies, change).await
    }
    async fn save_robot(&self, robot_on: bool, robot: &RobotSettings) -> Result<()> {
        self.inner.save_robot(robot_on, robot).await
    }
}

impl Announce for Flaky {
    async fn announce(&self, news: News) {
        self.inner.announce(news).await
    }
}

impl CompensationStore for Flaky {
    async fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> Result<bool> {
        self.inner.compensation_exists(shop, buyer, order).await
    }
    async fn due(
        &self,
        shard: u32,
        limit: usize,
        after: Option<String>,
    ) -> Result<Page<DueCompensation>> {
        self.inner.due(shard, limit, after).await
    }
    async fn pay(
        &self,
        due: &DueCompensation,
        deposit_read: Fen,
        notice: &Message,
        now: Millis,
    ) -> Result<PayOutcome> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.fail_before_every > 0 && n.is_multiple_of(self.fail_before_every) {
            return Err(self.fault("TransactionConflict before the write"));
        }
        let outcome = self.inner.pay(due, deposit_read, notice, now).await?;
        if self.fail_after_every > 0 && n.is_multiple_of(self.fail_after_every) {
            return Err(self.fault("timeout after the write"));
        }
        Ok(outcome)
    }
}

/// Backoff for the drill: short, so faults cost little time.
pub struct QuickBackoff;

impl assistant_domain::usecases::Backoff for QuickBackoff {
    async fn wait(&self, attempt: u32) {
        tokio::time::sleep(std::time::Duration::from_millis(2 * attempt as u64)).await;
    }
}

/// Why an order is in the drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Paid, unshipped, past the promise when asked: owed exactly once.
    Eligible,
    /// Still before its promise when asked.
    OnTime,
    /// Not paid.
    Unpaid,
    /// Shipped before the question (late, but not unshipped).
    ShippedBefore,
}

pub struct DrillOrder {
    pub order: Order,
    pub case: Case,
}

/// The drill's orders: `eligible` owed ones and as many ineligible ones, over `shops` shops.
pub fn drill_orders(eligible: usize, shops: usize, now: Millis) -> Vec<DrillOrder> {
    let mut out = Vec::new();
    let cases = [
        (Case::Eligible, eligible),
        (Case::OnTime, eligible / 2),
        (Case::Unpaid, eligible / 4),
        (Case::ShippedBefore, eligible - eligible / 2 - eligible / 4),
    ];
    let mut i = 0usize;
    for (case, count) in cases {
        for _ in 0..count {
            i += 1;
            let shop = format!("drill-shop-{}", i % shops);
            let buyer = format!("drill-buyer-{i}");
            let created = now - 3 * 24 * HOUR;
            let mut order = Order::placed(
                OrderId::parse(format!("88{i:012}")).expect("digits"),
                ShopId::parse(shop).expect("slug"),
                UserId::parse(buyer).expect("id"),
                vec![OrderItem::new("演练商品", 1, 1000)],
                created,
            );
            order.paid_at = Some(created + MINUTE);
            order.promised_ship_by = Some(now - HOUR);
            match case {
                Case::Eligible => {}
                Case::OnTime => order.promised_ship_by = Some(now + 5 * HOUR),
                Case::Unpaid => order.paid_at = None,
                Case::ShippedBefore => {
                    order.shipped_at = Some(now - 30 * MINUTE);
                    order.courier = Some("顺丰速运".into());
                    order.tracking_no = Some(format!("SF{i:010}"));
                }
            }
            out.push(DrillOrder { order, case });
        }
    }
    out
}

/// The drill's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub paid: u64,
    pub double: u64,
    pub missed: u64,
    pub wrongful: u64,
    pub ledger_ok: bool,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "paid={} double={} missed={} wrongful={} ledger_ok={}",
            self.paid, self.double, self.missed, self.wrongful, self.ledger_ok
        )
    }
}

async fn query_all(
    store: &DynamoStore,
    table: &str,
    pk: String,
    prefix: &str,
) -> Vec<HashMap<String, AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(table)
            .key_condition_expression(PK_AND_SK_PREFIX)
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

fn num(item: &HashMap<String, AttributeValue>, k: &str) -> i64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Checks every order against the rule and every shop's ledger against its deposit.
pub async fn verify(
    store: &DynamoStore,
    orders: &[DrillOrder],
    deposits: &HashMap<ShopId, Fen>,
) -> Verdict {
    let mut v = Verdict {
        ledger_ok: true,
        ..Default::default()
    };
    let mut ledger_by_shop: HashMap<ShopId, Vec<HashMap<String, AttributeValue>>> = HashMap::new();
    for shop in deposits.keys() {
        let entries = query_all(store, &store.tables().shops, funds_pk(shop), LEDGER_PREFIX).await;
        ledger_by_shop.insert(shop.clone(), entries);
    }
    let mut ledger_count: HashMap<String, u64> = HashMap::new();
    for entries in ledger_by_shop.values() {
        for e in entries {
            let order = e
                .get("order_id")
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            *ledger_count.entry(order).or_default() += 1;
        }
    }
    for d in orders {
        let o = &d.order;
        let comp = store
            .client()
            .get_item()
            .table_name(&store.tables().orders)
            .key(PK, AttributeValue::S(order_pk(&o.shop_id, &o.buyer_id)))
            .key(SK, AttributeValue::S(compensation_sk(&o.order_id)))
            .send()
            .await
            .expect("get")
            .item;
        let paid = comp
            .as_ref()
            .and_then(|c| c.get(STATUS))
            .and_then(|s| s.as_s().ok())
            .map(String::as_str)
            == Some(STATUS_PAID);
        let coupon = store
            .client()
            .get_item()
            .table_name(&store.tables().orders)
            .key(PK, AttributeValue::S(coupon_pk(&o.buyer_id)))
            .key(SK, AttributeValue::S(coupon_sk(&o.order_id)))
            .send()
            .await
            .expect("get")
            .item;
        let entries = ledger_count.get(o.order_id.as_str()).copied().unwrap_or(0);
        if paid {
            v.paid += 1;
        }
        if entries > 1 {
            v.double += entries - 1;
        }
        if paid != coupon.is_some() || (paid && entries == 0) {
            v.ledger_ok = false;
        }
        match d.case {
            Case::Eligible if !paid => v.missed += 1,
            Case::Eligible => {}
            _ if comp.is_some() || coupon.is_some() || entries > 0 => v.wrongful += 1,
            _ => {}
        }
    }
    // Each shop: initial − final deposit = 300 fen × its ledger entries, and the balances after each
    // deduction are exactly initial − 300, initial − 600, … (no two deductions saw the same balance).
    for (shop_id, initial) in deposits {
        let deposit = store
            .deposit(shop_id)
            .await
            .expect("deposit")
            .expect("exists");
        let entries = &ledger_by_shop[shop_id];
        let deducted: i64 = entries.iter().map(|e| -num(e, "delta")).sum();
        let mut balances: Vec<i64> = entries.iter().map(|e| num(e, "balance_after")).collect();
        balances.sort_unstable_by(|a, b| b.cmp(a));
        let expected: Vec<i64> = (1..=entries.len() as i64)
            .map(|k| initial.0 - k * COUPON.0)
            .collect();
        if initial.0 - deposit.0 != deducted
            || deducted != COUPON.0 * entries.len() as i64
            || balances != expected
        {
            v.ledger_ok = false;
        }
    }
    v
}

/// Runs the whole drill and returns the verdict; progress goes to `log`.
pub async fn run(
    store: &DynamoStore,
    eligible: usize,
    sweeps: usize,
    now: Millis,
    log: &mut impl std::io::Write,
) -> std::result::Result<Verdict, Box<dyn std::error::Error>> {
    let shops = 5usize;
    let orders = drill_orders(eligible, shops, now);
    let mut deposits = HashMap::new();
    for s in 0..shops {
        let shop_id = ShopId::parse(format!("drill-shop-{s}"))?;
        // The last shop starts with almost nothing: it goes into arrears and its buyers are still paid.
        let deposit = if s == shops - 1 {
            Fen(600)
        } else {
            Fen(1_000_000)
        };
        store
            .put_shop(&Shop {
                shop_id: shop_id.clone(),
                name: format!("演练店铺{s}"),
                agents: vec![Agent::new(UserId::parse("drill-agent")?, None)],
                serving_rule: ServingRule::ByBuyer,
                robot_on: false,
            })
            .await?;
        store.put_deposit(&shop_id, deposit).await?;
        deposits.insert(shop_id, deposit);
    }
    let started = std::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for d in orders.iter() {
        let store = store.clone();
        let order = d.order.clone();
        set.spawn(async move {
            store.put_order(&order).await?;
            let actor = Actor::Buyer(order.buyer_id.clone());
            let conv = ConversationId::mint();
            // Asked twice: the second question must not earn a second coupon.
            let first = OpenConversation {
                shop_id: order.shop_id.clone(),
                text: format!("订单{}什么时候发货？", order.order_id),
            };
            open_conversation(&store, &actor, &conv, first, now).await?;
            let again = PostMessage {
                shop_id: None,
                text: "怎么还不发货啊".to_string(),
            };
            post_buyer_message(&store, &actor, &conv, again, now).await?;
            Ok::<_, Error>(())
        });
        if set.len() >= 16 {
            set.join_next().await.expect("a task")??;
        }
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    writeln!(
        log,
        "drill: {} orders ({} eligible), each asked twice, in {:.1}s",
        orders.len(),
        eligible,
        started.elapsed().as_secs_f64()
    )?;

    let flaky = Flaky::new(store.clone(), 23, 31);
    let started = std::time::Instant::now();
    // One sweep is killed part-way through.
    let interrupted = {
        let f = flaky.clone();
        tokio::spawn(async move { sweep(&f, &QuickBackoff, now + MINUTE, 3).await })
    };
    let mut set = tokio::task::JoinSet::new();
    // `sweeps` concurrent sweeps, the first delivered twice (same event, same start shard).
    for k in 0..sweeps {
        for _ in 0..if k == 0 { 2 } else { 1 } {
            let f = flaky.clone();
            let first = (k * 16 / sweeps.max(1)) as u32;
            set.spawn(async move { sweep(&f, &QuickBackoff, now + MINUTE, first).await });
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    interrupted.abort();
    let mut total = SweepReport::default();
    let mut incomplete = 0;
    while let Some(r) = set.join_next().await {
        match r? {
            Ok(rep) => add(&mut total, &rep),
            Err(assistant_domain::usecases::SweepError::Incomplete { failed, report }) => {
                incomplete += failed;
                add(&mut total, &report);
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The next scheduled sweep, a day later, long past any idempotency-token window.
    let later = sweep(&flaky, &QuickBackoff, now + 24 * HOUR, 0).await;
    let later = match later {
        Ok(r) => r,
        Err(assistant_domain::usecases::SweepError::Incomplete { report, .. }) => report,
        Err(e) => return Err(e.into()),
    };
    add(&mut total, &later);
    let secs = started.elapsed().as_secs_f64();
    writeln!(
        log,
        "drill: {} sweeps (+1 duplicate delivery, +1 killed, +1 a day later) in {secs:.1}s: paid {} ({} fen) by the sweeps that finished, already paid {}, retries {}, faults injected {}, left for later {}",
        sweeps, total.paid, total.fen_paid, total.already_paid, total.retries,
        flaky.injected.load(Ordering::Relaxed), incomplete
    )?;
    Ok(verify(store, &orders, &deposits).await)
}

fn add(total: &mut SweepReport, r: &SweepReport) {
    total.examined += r.examined;
    total.paid += r.paid;
    total.already_paid += r.already_paid;
    total.retries += r.retries;
    total.fen_paid += r.fen_paid;
}
