//! Short flows on the builders' shop (`assistant_testkit::builders`), on the in-memory twin. The same
//! store contract holds for DynamoDB (tests/integration/contract.rs), so what passes here holds
//! there.

use assistant_domain::model::card::PredictionCard;
use assistant_domain::model::compensation::COUPON;
use assistant_domain::model::conversation::{MessageBody, MAX_TEXT_CHARS};
use assistant_domain::model::feedback::FeedbackForm;
use assistant_domain::model::identity::Actor;
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::OrderNode;
use assistant_domain::model::time::HOUR;
use assistant_domain::ports::{ConversationStore, OrderStore, ShopStore, StatsStore};
use assistant_domain::usecases::{
    edit_replies, edit_robot, get_replies, list_feedback, panel, post_buyer_message, post_feedback,
    post_staff_message, queue, rate_robot, screenshot, select_order, sweep, EditReplies, EditRobot,
    FeedbackQuery, PanelState, PostMessage, RateRobot, Rating, SelectOrder, SelectionVia,
};
use assistant_testkit::builders::{order_in, seed_shop, shop, DEPOSIT, T0};
use assistant_testkit::fixtures::buyer_says;
use assistant_testkit::fixtures::NoWait;
use assistant_testkit::MemoryStore;

const OVERDUE: &str = "6930000000000000001";

async fn seeded() -> MemoryStore {
    let store = MemoryStore::default();
    seed_shop(&store, &shop("shop1")).await;
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
    let asked = buyer_says(
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
    let deposit = store
        .deposit(&ShopId::parse("shop1").unwrap())
        .await
        .unwrap();
    assert_eq!(deposit, Some(Fen(DEPOSIT.0 - COUPON.0)));
    let messages = store.messages(&conv, 50).await.unwrap();
    // The domain's words, stored as they were given: a coupon message, as in DynamoDB.
    assert!(messages.iter().any(|m| matches!(
        &m.body,
        MessageBody::Coupon { text, .. } if text.contains("优惠券")
    )));
}

fn buyer() -> Actor {
    Actor::Buyer(UserId::parse("buyer1").unwrap())
}

fn agent_of(shop: &str) -> Actor {
    Actor::Agent {
        user: UserId::parse("agent1").unwrap(),
        shop: ShopId::parse(shop).unwrap(),
    }
}

fn admin_of(shop: &str) -> Actor {
    Actor::ShopAdmin {
        user: UserId::parse("admin1").unwrap(),
        shop: ShopId::parse(shop).unwrap(),
    }
}

fn ask(text: &str) -> PostMessage {
    PostMessage {
        shop_id: Some(ShopId::parse("shop1").unwrap()),
        text: text.into(),
    }
}

#[tokio::test]
async fn every_node_gets_its_solution_once_the_order_is_named() {
    for (i, node) in OrderNode::ALL.into_iter().enumerate() {
        let store = MemoryStore::default();
        seed_shop(&store, &shop("shop1")).await;
        let id = format!("69300000000000001{i:02}");
        store.put_order(&order_in(&id, node)).await.unwrap();
        let conv = ConversationId::parse(format!("c-{}", node.as_str())).unwrap();
        let asked = buyer_says(&store, &buyer(), &conv, ask("什么时候发货"), T0)
            .await
            .unwrap();
        assert!(asked.card.is_some(), "{node:?}: a card goes out");
        let chosen = select_order(
            &store,
            &buyer(),
            &conv,
            SelectOrder {
                via: SelectionVia::OrderCard,
                card_id: None,
                order_id: Some(OrderId::parse(&id).unwrap()),
            },
            T0 + 1000,
        )
        .await
        .unwrap();
        let want = format!("urge_shipment.{}", node.as_str());
        assert_eq!(chosen.panel.state, PanelState::Ready, "{node:?}");
        assert_eq!(
            chosen.panel.solution.map(|s| s.solution_id),
            Some(want.clone())
        );
        let seen = panel(&store, &agent_of("shop1"), &conv, T0 + 2000)
            .await
            .unwrap();
        assert_eq!(seen.solution.map(|s| s.solution_id), Some(want.clone()));
        let stats = store
            .stats(&ShopId::parse("shop1").unwrap(), &want)
            .await
            .unwrap();
        assert_eq!(
            stats.shown, 1,
            "{node:?}: shown counted once however often fetched"
        );
        assert_eq!(
            store.due_count(),
            usize::from(node == OrderNode::Overdue),
            "{node:?}: only an overdue order earns a coupon"
        );
    }
}

#[tokio::test]
async fn identity_and_bad_input_are_refused_and_change_nothing() {
    let store = seeded().await;
    let conv = ConversationId::parse("c-id").unwrap();
    buyer_says(&store, &buyer(), &conv, ask("在吗"), T0)
        .await
        .unwrap();
    let other = Actor::Buyer(UserId::parse("buyer2").unwrap());
    let err = buyer_says(&store, &other, &conv, ask("在吗"), T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "another buyer's conversation");
    let err = panel(&store, &agent_of("shop2"), &conv, T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "another shop's conversation");
    let err = panel(&store, &buyer(), &conv, T0).await.unwrap_err();
    assert_eq!(err.code(), "forbidden", "a buyer has no panel");
    // Naming another shop than the conversation's is a 404 too; writing into an id nobody opened
    // never creates it.
    let elsewhere = PostMessage {
        shop_id: Some(ShopId::parse("shop2").unwrap()),
        text: "在吗".into(),
    };
    let err = post_buyer_message(&store, &buyer(), &conv, elsewhere, T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "named another shop");
    let nobodys = ConversationId::parse("c-nobody").unwrap();
    let err = post_buyer_message(&store, &buyer(), &nobodys, ask("在吗"), T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "an id nobody opened");
    assert!(store.conversation(&nobodys).await.unwrap().is_none());
    for bad in [ask("   "), ask(&"好".repeat(MAX_TEXT_CHARS + 1))] {
        let err = buyer_says(&store, &buyer(), &conv, bad, T0)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input");
    }
    assert_eq!(store.messages(&conv, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_robot_answers_hands_off_and_the_queue_follows() {
    let store = seeded().await;
    let admin = admin_of("shop1");
    let shop1 = ShopId::parse("shop1").unwrap();
    let answers = [(
        "invoice".to_string(),
        "发票可在订单详情页申请～".to_string(),
    )];
    edit_robot(
        &store,
        &admin,
        &shop1,
        EditRobot {
            expected_version: 0,
            on: true,
            answers: Some(answers.into_iter().collect()),
        },
        T0,
    )
    .await
    .unwrap();
    let conv = ConversationId::parse("c-robot").unwrap();
    let asked = buyer_says(&store, &buyer(), &conv, ask("怎么开发票"), T0)
        .await
        .unwrap();
    let reply = asked.robot_reply.expect("the robot answers 开发票");
    let agents = agent_of("shop1");
    let waiting = queue(&store, &agents, &shop1, T0).await.unwrap();
    assert!(
        waiting.items.is_empty(),
        "answered by the robot: nobody waits"
    );
    let rated = rate_robot(
        &store,
        &buyer(),
        &conv,
        RateRobot {
            message_id: reply.message_id,
            rating: Rating::Bad,
        },
        T0 + 1000,
    )
    .await
    .unwrap();
    assert!(rated.handed_off);
    let waiting = queue(&store, &agents, &shop1, T0 + 5000).await.unwrap();
    assert_eq!(waiting.items.len(), 1, "handed off: in the queue");
    assert!(waiting.items[0].handed_off);
    assert_eq!(waiting.items[0].waited_ms, 4000);
    let err = queue(&store, &agent_of("shop2"), &shop1, T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    post_staff_message(&store, &agents, &conv, ask("您好，我来为您处理"), T0 + 6000)
        .await
        .unwrap();
    let waiting = queue(&store, &agents, &shop1, T0 + 7000).await.unwrap();
    assert!(waiting.items.is_empty(), "an agent answered: nobody waits");
}

#[tokio::test]
async fn replies_are_edited_only_with_the_robot_on_and_never_overwritten() {
    let store = seeded().await;
    let admin = admin_of("shop1");
    let shop1 = ShopId::parse("shop1").unwrap();
    let edit = |version| EditReplies {
        expected_version: version,
        solution_id: "urge_shipment.overdue".into(),
        replies: Some(vec!["亲，订单{order_id}今天一定发出".into()]),
        reset: false,
    };
    let err = edit_replies(&store, &admin, &shop1, "urge_shipment", edit(0), T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "robot_off");
    let on = EditRobot {
        expected_version: 0,
        on: true,
        answers: None,
    };
    edit_robot(&store, &admin, &shop1, on, T0).await.unwrap();
    let view = edit_replies(&store, &admin, &shop1, "urge_shipment", edit(0), T0)
        .await
        .unwrap();
    assert_eq!((view.version, view.history.len()), (1, 1));
    let err = edit_replies(&store, &admin, &shop1, "urge_shipment", edit(0), T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict", "a stale version loses");
    let err = edit_replies(
        &store,
        &agent_of("shop1"),
        &shop1,
        "urge_shipment",
        edit(1),
        T0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "forbidden", "an agent may not edit");
    let read = get_replies(&store, &agent_of("shop1"), &shop1, "urge_shipment")
        .await
        .unwrap();
    assert_eq!(read.version, 1, "agents read the shop's replies");
}

#[tokio::test]
async fn feedback_is_stored_whole_and_listed_within_the_shop() {
    let store = seeded().await;
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
    let form = FeedbackForm {
        intent: Some("urge_shipment".into()),
        solution_id: Some("urge_shipment.overdue".into()),
        conversation_id: None,
        description: Some("新日期说得太死了".into()),
        screenshots: vec![PNG.to_vec()],
    };
    let saved = post_feedback(&store, &store, &agent_of("shop1"), form, T0)
        .await
        .unwrap();
    assert_eq!(saved.screenshots.len(), 1);
    let mine = list_feedback(&store, &admin_of("shop1"), FeedbackQuery::default())
        .await
        .unwrap();
    assert_eq!(mine.items, vec![saved.clone()]);
    let (kind, bytes) = screenshot(&store, &store, &admin_of("shop1"), &saved.feedback_id, "0")
        .await
        .unwrap();
    assert_eq!((kind.as_str(), bytes.as_slice()), ("image/png", PNG));
    let theirs = FeedbackQuery {
        shop_id: Some("shop1".into()),
        ..Default::default()
    };
    let err = list_feedback(&store, &admin_of("shop2"), theirs)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found", "another shop's feedback");
    let err = screenshot(&store, &store, &admin_of("shop2"), &saved.feedback_id, "0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
}

/// The buyer names an order: picks it on the card (`card` given) or sends an order card.
fn naming(card: Option<&PredictionCard>, order: &str) -> SelectOrder {
    SelectOrder {
        via: if card.is_some() {
            SelectionVia::Pick
        } else {
            SelectionVia::OrderCard
        },
        card_id: card.map(|c| c.card_id.clone()),
        order_id: Some(OrderId::parse(order).unwrap()),
    }
}

/// A shop whose buyer1 has these orders.
async fn with_orders(orders: &[(&str, OrderNode)]) -> MemoryStore {
    let store = MemoryStore::default();
    seed_shop(&store, &shop("shop1")).await;
    for (id, node) in orders {
        store.put_order(&order_in(id, *node)).await.unwrap();
    }
    store
}

/// 一个问题只赔一单: a buyer whose orders A, B and C are all overdue asks once. The card's answer
/// (A) settles the question; order cards for B and C afterwards earn nothing; C needs a question
/// of its own.
#[tokio::test]
async fn one_question_earns_one_order_compensation_whatever_is_named_after() {
    let [a, b, c] = [
        "6930000000000000011",
        "6930000000000000012",
        "6930000000000000013",
    ];
    let store = with_orders(&[
        (a, OrderNode::Overdue),
        (b, OrderNode::Overdue),
        (c, OrderNode::Overdue),
    ])
    .await;
    let conv = ConversationId::parse("conv-abc").unwrap();
    let now = T0 + HOUR;
    let asked = buyer_says(&store, &buyer(), &conv, ask("怎么还没发货啊"), now)
        .await
        .unwrap();
    let card = asked.card.expect("a prediction card");
    assert_eq!(
        store.due_count(),
        0,
        "nothing is settled before the order is known"
    );
    select_order(&store, &buyer(), &conv, naming(Some(&card), a), now + 1000)
        .await
        .unwrap();
    assert_eq!(
        store.due_count(),
        1,
        "the card's answer settles the question: A"
    );
    for (order, at) in [(b, now + 2000), (c, now + 3000)] {
        select_order(&store, &buyer(), &conv, naming(None, order), at)
            .await
            .unwrap();
    }
    assert_eq!(
        store.due_count(),
        1,
        "B and C are not what the question was settled against"
    );
    // A question of its own about C (now the confirmed order) earns C's.
    buyer_says(
        &store,
        &buyer(),
        &conv,
        ask("这单到底什么时候发货"),
        now + 4000,
    )
    .await
    .unwrap();
    assert_eq!(store.due_count(), 2);
    sweep(&store, &NoWait, now + 5000, 0).await.unwrap();
    let coupon = |o: &str| {
        store.coupon(
            &UserId::parse("buyer1").unwrap(),
            &OrderId::parse(o).unwrap(),
        )
    };
    assert_eq!(
        (coupon(a), coupon(b), coupon(c)),
        (Some(COUPON), None, Some(COUPON))
    );
}

/// A question asked with an order already confirmed is settled against that order: naming
/// another one afterwards earns nothing for it.
#[tokio::test]
async fn a_question_about_the_confirmed_order_is_settled_against_it() {
    let [a, b] = ["6930000000000000021", "6930000000000000022"];
    let store = with_orders(&[(a, OrderNode::AwaitingShipment), (b, OrderNode::Overdue)]).await;
    let conv = ConversationId::parse("conv-ab").unwrap();
    let now = T0 + HOUR;
    let first = buyer_says(&store, &buyer(), &conv, ask("在吗"), now)
        .await
        .unwrap();
    assert!(first.card.is_none());
    select_order(&store, &buyer(), &conv, naming(None, a), now + 1000)
        .await
        .unwrap();
    // Asked about A (confirmed, not overdue): settled against A, nothing owed.
    buyer_says(&store, &buyer(), &conv, ask("什么时候发货"), now + 2000)
        .await
        .unwrap();
    select_order(&store, &buyer(), &conv, naming(None, b), now + 3000)
        .await
        .unwrap();
    assert_eq!(
        store.due_count(),
        0,
        "B was named after the question was settled"
    );
}
