//! The platform's use cases on the in-memory twin: onboarding a shop (agents, display names, the
//! serving rule), idempotent deposit top-ups, arrears cleared, the ledger, and who may do what.

use assistant_domain::model::compensation::{payout_notice, DueCompensation, PayOutcome};
use assistant_domain::model::conversation::Conversation;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, MessageId, ShopId, UserId};
use assistant_domain::model::ledger::{Deposit, LedgerReason};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::shop::{PutShop, ServingRule};
use assistant_domain::ports::{
    CompensationStore, ConversationChange, ConversationStore, ReportStore, ShopStore,
};
use assistant_domain::usecases::{ledger, onboard_shop, top_up, PostMessage, TopUpResult};
use assistant_domain::Error;
use assistant_testkit::builders::{order_in, T0};
use assistant_testkit::fixtures::buyer_says;
use assistant_testkit::MemoryStore;
use serde_json::json;

fn platform() -> Actor {
    Actor::Platform(UserId::parse("platform-ops").unwrap())
}

fn admin_of(shop: &str) -> Actor {
    Actor::ShopAdmin {
        user: UserId::parse("admin-lin").unwrap(),
        shop: ShopId::parse(shop).unwrap(),
    }
}

fn agent_of(shop: &str) -> Actor {
    Actor::Agent {
        user: UserId::parse("agent-xiaomei").unwrap(),
        shop: ShopId::parse(shop).unwrap(),
    }
}

fn shop_id(id: &str) -> ShopId {
    ShopId::parse(id).unwrap()
}

fn put(body: serde_json::Value) -> PutShop {
    serde_json::from_value(body).unwrap()
}

fn xiaolu() -> PutShop {
    put(json!({
        "name": "小鹿家居旗舰店",
        "agents": [
            {"agent_id": "agent-xiaomei", "display_name": "小美"},
            {"agent_id": "agent-ahao"}
        ]
    }))
}

fn deposit(fen: i64) -> Deposit {
    Deposit { amount: json!(fen) }
}

async fn onboarded() -> MemoryStore {
    let store = MemoryStore::default();
    onboard_shop(&store, &platform(), &shop_id("xiaolu-home"), xiaolu())
        .await
        .unwrap();
    store
}

async fn add(store: &MemoryStore, key: &str, fen: i64) -> Result<TopUpResult, Error> {
    add_at(store, key, fen, T0).await
}

async fn add_at(store: &MemoryStore, key: &str, fen: i64, now: i64) -> Result<TopUpResult, Error> {
    top_up(
        store,
        &platform(),
        &shop_id("xiaolu-home"),
        Some(key),
        deposit(fen),
        now,
    )
    .await
}

#[tokio::test]
async fn onboarding_creates_then_changes_the_profile_and_never_the_deposit_or_robot() {
    let store = MemoryStore::default();
    let id = shop_id("xiaolu-home");
    let first = onboard_shop(&store, &platform(), &id, xiaolu())
        .await
        .unwrap();
    assert!(first.created);
    assert_eq!(first.shop.deposit, Fen(0));
    assert!(!first.shop.robot_on);
    assert_eq!(first.shop.agents[0].display_name, "小美");
    assert_eq!(first.shop.agents[1].display_name, "小鹿家居旗舰店客服");
    add(&store, "k1", 50_000).await.unwrap();
    let mut stored = store.shop(&id).await.unwrap().unwrap();
    stored.robot_on = true;
    store.put_shop(&stored).await.unwrap();

    let again = put(json!({
        "name": "小鹿家居",
        "agents": [{"agent_id": "agent-ahao", "display_name": "阿豪"}],
        "serving_rule": {"serving": "fixed", "agent_id": "agent-ahao"}
    }));
    let second = onboard_shop(&store, &platform(), &id, again).await.unwrap();
    assert!(!second.created);
    let shop = store.shop(&id).await.unwrap().unwrap();
    assert_eq!(shop.name, "小鹿家居");
    assert_eq!(
        store.deposit(&id).await.unwrap(),
        Some(Fen(50_000)),
        "the deposit stays"
    );
    assert_eq!(second.shop.deposit, Fen(50_000), "and is answered");
    assert!(shop.robot_on, "the robot switch stays");
    assert_eq!(
        shop.serving_rule,
        ServingRule::Fixed {
            agent_id: UserId::parse("agent-ahao").unwrap()
        }
    );
}

#[tokio::test]
async fn a_refused_onboarding_writes_nothing() {
    let store = onboarded().await;
    let id = shop_id("xiaolu-home");
    let before = store.shop(&id).await.unwrap();
    let bad = put(json!({
        "name": "新名字",
        "agents": [{"agent_id": "agent-ahao"}],
        "serving_rule": {"serving": "fixed", "agent_id": "agent-nobody"}
    }));
    let err = onboard_shop(&store, &platform(), &id, bad)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if field == "serving_rule.agent_id"),
        "{err:?}"
    );
    assert_eq!(store.shop(&id).await.unwrap(), before);
    let new = shop_id("nobody-yet");
    let empty = put(json!({"name": "店", "agents": []}));
    assert!(onboard_shop(&store, &platform(), &new, empty)
        .await
        .is_err());
    assert_eq!(store.shop(&new).await.unwrap(), None);
}

#[tokio::test]
async fn the_serving_rule_picks_the_agent_of_a_new_conversation() {
    let store = onboarded().await;
    let id = shop_id("xiaolu-home");
    let fixed = put(json!({
        "name": "小鹿家居旗舰店",
        "agents": [{"agent_id": "agent-xiaomei"}, {"agent_id": "agent-ahao"}],
        "serving_rule": {"serving": "fixed", "agent_id": "agent-ahao"}
    }));
    onboard_shop(&store, &platform(), &id, fixed).await.unwrap();
    for (i, buyer) in ["buyer-zhang", "buyer-li", "buyer-wang", "buyer-zhao"]
        .into_iter()
        .enumerate()
    {
        let conv = ConversationId::parse(format!("conv-{i}")).unwrap();
        let out = buyer_says(
            &store,
            &Actor::Buyer(UserId::parse(buyer).unwrap()),
            &conv,
            PostMessage {
                shop_id: Some(id.clone()),
                text: "你好".into(),
            },
            T0,
        )
        .await
        .unwrap();
        let conv = store
            .conversation(&out.message.conversation_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            conv.serving_agent.unwrap().as_str(),
            "agent-ahao",
            "{buyer}"
        );
    }
}

#[tokio::test]
async fn one_key_is_one_top_up_however_often_it_is_sent() {
    let store = onboarded().await;
    let first = add(&store, "topup-001", 20_000).await.unwrap();
    assert!(!first.replayed);
    assert_eq!(first.entry.balance_after, Fen(20_000));
    let again = add(&store, "topup-001", 20_000).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.entry, first.entry, "the same entry, answered again");
    let other_amount = add(&store, "topup-001", 30_000).await.unwrap_err();
    assert!(
        matches!(other_amount, Error::Conflict(_)),
        "{other_amount:?}"
    );
    let id = shop_id("xiaolu-home");
    assert_eq!(store.deposit(&id).await.unwrap(), Some(Fen(20_000)));
    let page = ledger(&store, &platform(), &id, None, None).await.unwrap();
    assert_eq!(page.items.len(), 1);

    // Sent ten times at once: still one entry.
    let tries = (0..10).map(|_| add(&store, "topup-002", 5_000));
    let results = futures_util::future::join_all(tries).await;
    let made = results
        .iter()
        .filter(|r| matches!(r, Ok(r) if !r.replayed))
        .count();
    assert_eq!(made, 1, "{results:?}");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(store.deposit(&id).await.unwrap(), Some(Fen(25_000)));
    let page = ledger(&store, &platform(), &id, None, None).await.unwrap();
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn a_top_up_back_above_zero_leaves_arrears() {
    let store = onboarded().await;
    let id = shop_id("xiaolu-home");
    add(&store, "seed", 100).await.unwrap();
    // A coupon of 300 fen over a deposit of 100: in arrears.
    let order = assistant_testkit::builders::owned_by(
        order_in("6930000000000000001", OrderNode::Overdue),
        "xiaolu-home",
        "buyer1",
    );
    let due = DueCompensation::new(
        &order,
        &ConversationId::parse("c1").unwrap(),
        &MessageId::parse("m1").unwrap(),
        T0,
    );
    // The question that earned it, committed as intake commits it.
    let shop = store.shop(&id).await.unwrap().unwrap();
    let mut conv = Conversation::open(&due.conversation_id, &shop, &order.buyer_id, T0);
    conv.version = 1;
    store
        .commit(ConversationChange {
            conversation: conv,
            expected_version: None,
            messages: vec![],
            stats: vec![],
            compensations: vec![due.clone()],
        })
        .await
        .unwrap();
    let paid = store
        .pay(&due, Fen(100), &payout_notice(&due, T0 + 1), T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        paid,
        PayOutcome::Paid {
            balance_after: Fen(-200)
        }
    );
    assert_eq!(store.shops_in_arrears().await.unwrap().len(), 1);
    let back = add_at(&store, "cover", 500, T0 + 2).await.unwrap();
    assert_eq!(back.entry.balance_after, Fen(300));
    assert!(store.shops_in_arrears().await.unwrap().is_empty());
    // The ledger: the top-up, the payout, the first top-up, newest first.
    let page = ledger(&store, &admin_of("xiaolu-home"), &id, Some("2"), None)
        .await
        .unwrap();
    let reasons: Vec<_> = page.items.iter().map(|e| (e.reason, e.delta)).collect();
    assert_eq!(
        reasons,
        [
            (LedgerReason::TopUp, Fen(500)),
            (LedgerReason::OverdueCoupon, Fen(-300))
        ]
    );
    let rest = ledger(&store, &platform(), &id, Some("2"), page.next)
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].delta, Fen(100));
    assert_eq!(rest.next, None);
}

#[tokio::test]
async fn bad_top_ups_and_pages_are_400s_and_write_nothing() {
    let store = onboarded().await;
    let id = shop_id("xiaolu-home");
    let field = |e: Error| match e {
        Error::Invalid { field, .. } => field,
        other => panic!("expected a 400, got {other:?}"),
    };
    let no_key = top_up(&store, &platform(), &id, None, deposit(100), T0).await;
    assert_eq!(field(no_key.unwrap_err()), "Idempotency-Key");
    let bad_key = top_up(&store, &platform(), &id, Some("a b"), deposit(100), T0).await;
    assert_eq!(field(bad_key.unwrap_err()), "Idempotency-Key");
    for amount in [json!(0), json!(-100), json!(1.5), json!("100")] {
        let r = top_up(&store, &platform(), &id, Some("k"), Deposit { amount }, T0).await;
        assert_eq!(field(r.unwrap_err()), "amount");
    }
    assert_eq!(store.deposit(&id).await.unwrap(), Some(Fen(0)));
    for limit in ["0", "51", "x"] {
        let r = ledger(&store, &platform(), &id, Some(limit), None).await;
        assert_eq!(field(r.unwrap_err()), "limit");
    }
    for forged in ["garbage", ""] {
        let r = ledger(&store, &platform(), &id, None, Some(forged.into())).await;
        assert_eq!(field(r.unwrap_err()), "cursor", "{forged:?}");
    }
    assert!(ledger(&store, &platform(), &id, None, None)
        .await
        .unwrap()
        .items
        .is_empty());
}

#[tokio::test]
async fn only_the_platform_manages_shops_and_the_ledger_is_the_platforms_and_its_admins() {
    let store = onboarded().await;
    let id = shop_id("xiaolu-home");
    let status = |e: Error| match e {
        Error::Forbidden(_) => 403,
        Error::NotFound(_) => 404,
        other => panic!("an access refusal, got {other:?}"),
    };
    let buyer = Actor::Buyer(UserId::parse("buyer-zhang").unwrap());
    for actor in [
        buyer.clone(),
        agent_of("xiaolu-home"),
        admin_of("xiaolu-home"),
    ] {
        let r = onboard_shop(&store, &actor, &id, xiaolu()).await;
        assert_eq!(status(r.unwrap_err()), 403, "{actor:?}");
        let r = top_up(&store, &actor, &id, Some("k"), deposit(100), T0).await;
        assert_eq!(status(r.unwrap_err()), 403, "{actor:?}");
    }
    assert_eq!(store.deposit(&id).await.unwrap(), Some(Fen(0)));
    for (actor, want) in [
        (buyer, 403),
        (agent_of("xiaolu-home"), 403),
        (agent_of("dapeng-digital"), 403),
        (admin_of("dapeng-digital"), 404),
    ] {
        let r = ledger(&store, &actor, &id, None, None).await;
        assert_eq!(status(r.unwrap_err()), want, "{actor:?}");
    }
    assert!(ledger(&store, &admin_of("xiaolu-home"), &id, None, None)
        .await
        .is_ok());
    // A shop nobody onboarded: 404 for the platform's top-up and ledger alike.
    let nowhere = shop_id("nowhere");
    let r = top_up(&store, &platform(), &nowhere, Some("k"), deposit(100), T0).await;
    assert_eq!(status(r.unwrap_err()), 404);
    let r = ledger(&store, &platform(), &nowhere, None, None).await;
    assert_eq!(status(r.unwrap_err()), 404);
}
