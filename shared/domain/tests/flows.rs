//! Use cases on the in-memory twin (`assistant-testkit`): whole flows in milliseconds. The same
//! store contract holds for DynamoDB (tests/integration/contract.rs), so what passes here holds
//! there.

use assistant_domain::model::compensation::COUPON;
use assistant_domain::model::conversation::MessageBody;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::HOUR;
use assistant_domain::ports::{ConversationStore, OrderStore, ShopStore};
use assistant_domain::usecases::{
    panel, post_buyer_message, select_order, sweep, Backoff, PostMessage, SelectOrder, SelectionVia,
};
use assistant_testkit::builders::{order_in, shop, T0};
use assistant_testkit::MemoryStore;

struct NoWait;
impl Backoff for NoWait {
    async fn wait(&self, _attempt: u32) {}
}

const OVERDUE: &str = "6930000000000000001";

async fn seeded() -> MemoryStore {
    let store = MemoryStore::default();
    store.put_shop(&shop("shop1")).await.unwrap();
    store
        .put_order(&order_in(OVERDUE, OrderNode::Overdue))
        .await
        .unwrap();
    store
        .put_order(&order_in("6930000000000000002", OrderNode::Delivered))
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn the_urge_flow_runs_on_it_and_the_sweep_pays_once() {
    let store = seeded().await;
    let buyer = Actor::Buyer(UserId::parse("buyer1").unwrap());
    let agent = Actor::Agent {
        user: UserId::parse("agent1").unwrap(),
        shop: ShopId::parse("shop1").unwrap(),
    };
    let conv = ConversationId::parse("conv1").unwrap();
    let now = T0 + 2 * 24 * HOUR;
    let asked = post_buyer_message(
        &store,
        &buyer,
        &conv,
        PostMessage {
            shop_id: Some(ShopId::parse("shop1").unwrap()),
            text: "我买的四件套怎么还没发货啊".into(),
        },
        now,
    )
    .await
    .unwrap();
    let card = asked.card.expect("a prediction card");
    assert_eq!(card.guess.order_id.as_str(), OVERDUE);

    let chosen = select_order(
        &store,
        &buyer,
        &conv,
        SelectOrder {
            via: SelectionVia::Confirm,
            card_id: Some(card.card_id.clone()),
            order_id: None,
        },
        now + 1000,
    )
    .await
    .unwrap();
    let solution = chosen
        .panel
        .solution
        .expect("a solution for the overdue order");
    assert_eq!(solution.solution_id, "urge_shipment.overdue");
    let seen = panel(&store, &agent, &conv, now + 2000).await.unwrap();
    assert_eq!(
        seen.solution.map(|s| s.solution_id),
        Some(solution.solution_id)
    );
    assert_eq!(store.due_count(), 1, "captured with the answer");

    let first = sweep(&store, &NoWait, now + 3000, 0).await.unwrap();
    let again = sweep(&store, &NoWait, now + 4000, 5).await.unwrap();
    assert_eq!((first.paid, first.fen_paid), (1, COUPON.0));
    assert_eq!(again.paid, 0);
    let buyer_id = UserId::parse("buyer1").unwrap();
    assert_eq!(
        store.coupon(&buyer_id, &OrderId::parse(OVERDUE).unwrap()),
        Some(COUPON)
    );
    let shop = store
        .shop(&ShopId::parse("shop1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shop.deposit, Fen(10_000 - COUPON.0));
    let messages = store.messages(&conv, 50).await.unwrap();
    // The domain's words, stored as they were given: a coupon message, as in DynamoDB.
    assert!(messages.iter().any(|m| matches!(
        &m.body,
        MessageBody::Coupon { text, .. } if text.contains("优惠券")
    )));
}
