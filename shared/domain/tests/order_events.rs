//! The order system delivers at least once and in any order: a day of events for 1,000 orders,
//! shuffled and duplicated 100 ways, gives one final state (on the in-memory twin; the same
//! property on DynamoDB Local, smaller, is `tests/integration/orders.rs`). And the merge itself is
//! commutative, associative and idempotent.

use assistant_domain::model::order_facts::{OrderEvent, OrderFacts};
use assistant_domain::ports::{OrderEventOutcome, OrderStore};
use assistant_domain::usecases::{apply_order_event, KnownShops};
use assistant_testkit::builders::{seed_shop, shop};
use assistant_testkit::order_day::{merged, order_day, DAY_SHOPS};
use assistant_testkit::MemoryStore;
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn day() -> &'static Vec<OrderEvent> {
    static DAY: OnceLock<Vec<OrderEvent>> = OnceLock::new();
    DAY.get_or_init(|| order_day(1_000, 20261111))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

/// Every event of the day through the use case on a fresh store; the stored facts per order.
fn deliver(events: &[OrderEvent]) -> BTreeMap<String, OrderFacts> {
    runtime().block_on(async {
        let store = MemoryStore::default();
        for s in DAY_SHOPS {
            seed_shop(&store, &shop(s)).await;
        }
        let known = KnownShops::default();
        for e in events {
            apply_order_event(&store, &known, e).await.unwrap();
        }
        let mut stored = BTreeMap::new();
        for e in day() {
            let facts = store.order_facts(&e.order_id).await.unwrap().unwrap();
            stored.insert(e.order_id.to_string(), facts);
        }
        stored
    })
}

/// The day with the events at `dups` delivered again, shuffled.
fn deliveries() -> impl Strategy<Value = Vec<OrderEvent>> {
    prop::collection::vec(any::<Index>(), 0..day().len()).prop_flat_map(|dups| {
        let mut all = day().clone();
        all.extend(dups.iter().map(|i| i.get(day()).clone()));
        Just(all).prop_shuffle()
    })
}

#[test]
fn the_day_has_every_kind_and_repeats_of_its_own() {
    let day = day();
    let kinds: std::collections::BTreeSet<_> = day.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    let orders: std::collections::BTreeSet<_> = day.iter().map(|e| &e.order_id).collect();
    assert_eq!(orders.len(), 1_000);
    let in_order = deliver(day);
    assert_eq!(in_order, merged(day));
    assert!(in_order.values().all(|f| f.order().is_some()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_order_and_number_of_deliveries_gives_one_final_state(events in deliveries()) {
        prop_assert!(events.len() >= day().len());
        prop_assert_eq!(deliver(&events), merged(day()));
    }
}

/// A few facts of one order, from a pool with clashing instants and ids.
fn facts_of_one_order() -> impl Strategy<Value = OrderFacts> {
    let pool: Vec<OrderEvent> = day()
        .iter()
        .filter(|e| e.order_id == day()[0].order_id)
        .cloned()
        .collect();
    let mut variants = pool.clone();
    for e in &pool {
        let mut later = e.clone();
        later.occurred_at += 1;
        later.event_id.push_str("-again");
        variants.push(later);
        let mut same_instant = e.clone();
        same_instant.event_id.push_str("-b");
        variants.push(same_instant);
    }
    prop::sample::subsequence(variants.clone(), 0..=variants.len()).prop_map(move |events| {
        let first = &pool[0];
        let mut f = OrderFacts::new(
            first.order_id.clone(),
            first.shop_id.clone(),
            first.buyer_id.clone(),
        );
        for e in &events {
            f.apply(e).unwrap();
        }
        f
    })
}

fn merge(a: &OrderFacts, b: &OrderFacts) -> OrderFacts {
    let mut m = a.clone();
    m.merge(b).unwrap();
    m
}

proptest! {
    #[test]
    fn the_merge_is_commutative_associative_and_idempotent(
        a in facts_of_one_order(), b in facts_of_one_order(), c in facts_of_one_order()
    ) {
        prop_assert_eq!(merge(&a, &b), merge(&b, &a));
        prop_assert_eq!(merge(&merge(&a, &b), &c), merge(&a, &merge(&b, &c)));
        prop_assert_eq!(merge(&a, &a), a.clone());
        let mut twice = a.clone();
        prop_assert!(!twice.merge(&a).unwrap(), "merging what is there changes nothing");
    }
}

#[test]
fn an_unknown_shop_or_another_shops_order_id_changes_nothing() {
    runtime().block_on(async {
        let store = MemoryStore::default();
        seed_shop(&store, &shop(DAY_SHOPS[0])).await;
        seed_shop(&store, &shop(DAY_SHOPS[1])).await;
        let known = KnownShops::default();
        let created = day()
            .iter()
            .find(|e| e.shop_id.as_str() == DAY_SHOPS[0])
            .unwrap();
        assert_eq!(
            apply_order_event(&store, &known, created).await.unwrap(),
            OrderEventOutcome::Changed
        );
        assert_eq!(
            apply_order_event(&store, &known, created).await.unwrap(),
            OrderEventOutcome::Unchanged
        );
        let before = store.order_facts(&created.order_id).await.unwrap();

        let mut unknown = created.clone();
        unknown.shop_id = assistant_testkit::builders::shop_id("nobody-shop");
        let err = apply_order_event(&store, &known, &unknown)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "not_found");

        let mut other = created.clone();
        other.shop_id = assistant_testkit::builders::shop_id(DAY_SHOPS[1]);
        other.event_id.push_str("-other");
        let err = apply_order_event(&store, &known, &other).await.unwrap_err();
        assert_eq!(err.code(), "conflict");
        assert_eq!(store.order_facts(&created.order_id).await.unwrap(), before);
    });
}
