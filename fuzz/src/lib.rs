//! What the fuzz targets share: a fuzz-only in-memory store seeded with the demo shop (so a handler
//! gets past "no such shop" and does its real work), the fixture events, and the checks every
//! response must pass.
//!
//! The store lives only here: the product's storage is DynamoDB, and this is no model of it beyond
//! what the handlers need to run.

use assistant_domain::compensation::{DueCompensation, PayOutcome};
use assistant_domain::conversation::{Conversation, Message, Shop};
use assistant_domain::error::{Error, Result};
use assistant_domain::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::money::Fen;
use assistant_domain::order::Order;
use assistant_domain::store::{
    CompensationStore, ConversationChange, ConversationStore, OrderStore, Page, ShopStore,
    SolutionStats, StatEvent, StatsStore,
};
use assistant_domain::time::{Millis, HOUR};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

/// The fixed "now" of every run: 2026-11-23T10:00:00Z, as the tests use.
pub const NOW: Millis = 1_795_428_000_000;

#[derive(Default, Clone)]
struct State {
    shops: HashMap<ShopId, Shop>,
    orders: BTreeMap<(ShopId, UserId, OrderId), Order>,
    conversations: HashMap<ConversationId, Conversation>,
    messages: HashMap<ConversationId, Vec<Message>>,
    compensations: HashSet<(ShopId, UserId, OrderId)>,
    stats: HashMap<(ShopId, String), SolutionStats>,
}

/// An in-memory store with the conditional writes the handlers rely on (versioned commits,
/// one compensation per order).
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// A copy of the demo data: the shops, the main buyer's orders, a buyer in every node.
    pub fn seeded() -> Self {
        static BASE: OnceLock<State> = OnceLock::new();
        let base = BASE.get_or_init(|| {
            let store = MemoryStore::default();
            block_on(assistant_cli::seed::seed(&store, NOW - HOUR)).expect("seed");
            store.state.into_inner().expect("seed state")
        });
        MemoryStore {
            state: Mutex::new(base.clone()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("store lock"))
    }
}

impl OrderStore for MemoryStore {
    async fn buyer_orders(&self, shop: &ShopId, buyer: &UserId) -> Result<Vec<Order>> {
        Ok(self.with(|s| {
            s.orders
                .iter()
                .filter(|((sh, b, _), _)| sh == shop && b == buyer)
                .map(|(_, o)| o.clone())
                .collect()
        }))
    }
    async fn order(&self, shop: &ShopId, buyer: &UserId, order: &OrderId) -> Result<Option<Order>> {
        let key = (shop.clone(), buyer.clone(), order.clone());
        Ok(self.with(|s| s.orders.get(&key).cloned()))
    }
    async fn put_order(&self, order: &Order) -> Result<()> {
        let key = (
            order.shop_id.clone(),
            order.buyer_id.clone(),
            order.order_id.clone(),
        );
        self.with(|s| s.orders.insert(key, order.clone()));
        Ok(())
    }
}

impl ShopStore for MemoryStore {
    async fn shop(&self, shop: &ShopId) -> Result<Option<Shop>> {
        Ok(self.with(|s| s.shops.get(shop).cloned()))
    }
    async fn put_shop(&self, shop: &Shop) -> Result<()> {
        self.with(|s| s.shops.insert(shop.shop_id.clone(), shop.clone()));
        Ok(())
    }
}

impl ConversationStore for MemoryStore {
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>> {
        Ok(self.with(|s| s.conversations.get(id).cloned()))
    }
    async fn messages(&self, id: &ConversationId, limit: usize) -> Result<Vec<Message>> {
        Ok(self.with(|s| {
            let all = s.messages.get(id).cloned().unwrap_or_default();
            all[all.len().saturating_sub(limit)..].to_vec()
        }))
    }
    async fn commit(&self, change: ConversationChange) -> Result<()> {
        self.with(|s| {
            let id = change.conversation.conversation_id.clone();
            let stored = s.conversations.get(&id).map(|c| c.version);
            if stored != change.expected_version {
                return Err(Error::Conflict("version moved".into()));
            }
            for due in &change.compensations {
                s.compensations.insert((
                    due.shop_id.clone(),
                    due.buyer_id.clone(),
                    due.order_id.clone(),
                ));
            }
            for stat in &change.stats {
                record(s, stat);
            }
            let messages = s.messages.entry(id.clone()).or_default();
            messages.extend(change.messages);
            messages.sort_by_key(|m| m.sent_at);
            s.conversations.insert(id, change.conversation);
            Ok(())
        })
    }
}

fn record(s: &mut State, event: &StatEvent) {
    use assistant_domain::store::SolutionEvent::*;
    let stats = s
        .stats
        .entry((event.shop.clone(), event.solution_id.clone()))
        .or_default();
    match event.event {
        Shown => stats.shown += 1,
        Copied => stats.copied += 1,
        Sent => stats.sent += 1,
        EditedSent => stats.edited_sent += 1,
    }
}

impl StatsStore for MemoryStore {
    async fn record(&self, event: &StatEvent) -> Result<()> {
        self.with(|s| record(s, event));
        Ok(())
    }
    async fn stats(&self, shop: &ShopId, solution_id: &str) -> Result<SolutionStats> {
        let key = (shop.clone(), solution_id.to_string());
        Ok(self.with(|s| s.stats.get(&key).cloned().unwrap_or_default()))
    }
}

impl CompensationStore for MemoryStore {
    async fn compensation_exists(
        &self,
        shop: &ShopId,
        buyer: &UserId,
        order: &OrderId,
    ) -> Result<bool> {
        let key = (shop.clone(), buyer.clone(), order.clone());
        Ok(self.with(|s| s.compensations.contains(&key)))
    }
    async fn due(
        &self,
        _shard: u32,
        _limit: usize,
        _after: Option<String>,
    ) -> Result<Page<DueCompensation>> {
        // The sweep's paging and payouts are covered by the integration tests; here only the
        // schedule event's parsing is under test.
        Ok(Page {
            items: Vec::new(),
            next: None,
        })
    }
    async fn pay(&self, _due: &DueCompensation, _deposit: Fen, _now: Millis) -> Result<PayOutcome> {
        Ok(PayOutcome::AlreadyPaid)
    }
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

/// What every answer must be: a status the error mapping can give, and a JSON body. A 500 is a
/// fault in our code (the in-memory store never fails), so it fails the run like a panic.
pub fn check_response(resp: &ApiGatewayV2httpResponse) {
    let status = resp.status_code;
    assert!(
        matches!(status, 200 | 201 | 400 | 401 | 403 | 404 | 409 | 501),
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

/// The fixture events, compiled in (the seed corpora are copied from the same files).
pub mod fixtures {
    pub const INTAKE_POST: &str = include_str!("../../events/intake-post-message.json");
    pub const ORDER_CARD_SELECT: &str = include_str!("../../events/order-card-select.json");
    pub const SUGGEST_USE: &str = include_str!("../../events/suggest-use-solution.json");
    pub const REPLIES_PUT: &str = include_str!("../../events/replies-put.json");
    pub const FEEDBACK_POST: &str = include_str!("../../events/feedback-post.json");
}
