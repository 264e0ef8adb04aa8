//! Conversations are opened by the server (`POST /conversations`), under an id it mints: nobody
//! can take the id another buyer's chat will use, learn whether an id exists, or pick their agent
//! by choosing an id. Writing into an id never creates a conversation.

use assistant_domain::model::ids::ConversationId;
use assistant_domain::ports::ConversationStore;
use assistant_domain::usecases::{open_conversation, post_buyer_message, OpenConversation};
use assistant_testkit::fixtures::*;

fn first(shop: &str, text: &str) -> OpenConversation {
    OpenConversation {
        shop_id: id_of(shop),
        text: text.into(),
    }
}

#[tokio::test]
async fn a_buyer_opens_conversations_under_minted_ids_and_writes_only_into_their_own() {
    let store = seeded().await;
    let zhang = buyer(MAIN_BUYER);
    let (a, b) = (ConversationId::mint(), ConversationId::mint());
    assert_ne!(a, b);
    let opened = ok(open_conversation(&store, &zhang, &a, first(SHOP, "在吗"), NOW).await);
    assert_eq!(opened["message"]["conversation_id"], a.as_str());
    ok(open_conversation(&store, &zhang, &b, first(SHOP, "你好"), NOW).await);
    let (ca, cb) = (
        store.conversation(&a).await.unwrap().expect("opened"),
        store.conversation(&b).await.unwrap().expect("opened"),
    );
    // The shop's rule picks the agent for the buyer, whatever the id.
    assert!(ca.serving_agent.is_some());
    assert_eq!(ca.serving_agent, cb.serving_agent);
    ok(post_buyer_message(&store, &zhang, &a, ask("什么时候发货"), NOW + 1).await);

    // Another buyer reaching for a's id, and anyone reaching for an id nobody opened, get the
    // same answer; neither writes anything.
    let before = snapshot(&store, a.as_str()).await;
    let li = buyer("buyer-li");
    let theirs = refused(
        post_buyer_message(&store, &li, &a, ask("在吗"), NOW + 2).await,
        "not_found",
    );
    let nobody = ConversationId::mint();
    let missing = refused(
        post_buyer_message(&store, &zhang, &nobody, ask("在吗"), NOW + 2).await,
        "not_found",
    );
    assert_eq!(theirs, missing);
    assert_eq!(snapshot(&store, a.as_str()).await, before);
    assert!(store.conversation(&nobody).await.unwrap().is_none());
}

#[tokio::test]
async fn only_a_buyer_opens_and_only_in_a_shop_that_exists() {
    let store = seeded().await;
    let id = ConversationId::mint();
    for staff in [agent_of(SHOP), admin_of(SHOP), platform()] {
        refused(
            open_conversation(&store, &staff, &id, first(SHOP, "在吗"), NOW).await,
            "forbidden",
        );
    }
    refused(
        open_conversation(
            &store,
            &buyer(MAIN_BUYER),
            &id,
            first("no-such-shop", "在吗"),
            NOW,
        )
        .await,
        "not_found",
    );
    refused(
        open_conversation(&store, &buyer(MAIN_BUYER), &id, first(SHOP, "  "), NOW).await,
        "invalid_input",
    );
    assert!(store.conversation(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_retried_open_with_its_key_meets_its_own_conversation_and_writes_nothing() {
    use assistant_domain::model::ledger::IdempotencyKey;
    use assistant_domain::usecases::{open_conversation_once, Opening};
    let store = seeded().await;
    let zhang = buyer(MAIN_BUYER);
    let key = IdempotencyKey::parse(Some("open-7f3a")).unwrap();
    let Opening::Opened(opened) =
        open_conversation_once(&store, &zhang, &key, first(SHOP, "什么时候发货"), NOW)
            .await
            .unwrap()
    else {
        panic!("the first try opens");
    };
    let id = opened.message.conversation_id.clone();
    assert_eq!(
        id,
        ConversationId::for_retry(&id_of(MAIN_BUYER), "open-7f3a")
    );
    let before = snapshot(&store, id.as_str()).await;
    // The answer was lost; the client sends the same request again, with the same key.
    let again = open_conversation_once(&store, &zhang, &key, first(SHOP, "什么时候发货"), NOW + 5)
        .await
        .unwrap();
    assert!(
        matches!(&again, Opening::AlreadyOpened(same) if *same == id),
        "{again:?}"
    );
    assert_eq!(
        snapshot(&store, id.as_str()).await,
        before,
        "nothing written"
    );
    // Another buyer's same key is another conversation of their own.
    let li = buyer("buyer-li");
    let Opening::Opened(theirs) =
        open_conversation_once(&store, &li, &key, first(SHOP, "在吗"), NOW)
            .await
            .unwrap()
    else {
        panic!("another buyer's key opens their own");
    };
    assert_ne!(theirs.message.conversation_id, id);
    assert_eq!(snapshot(&store, id.as_str()).await, before);
}
