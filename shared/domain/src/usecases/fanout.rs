//! The push fan-out (issue 17, item 2): a committed change ([`News`]) told to the connections
//! following its conversation and its shop's queue, each in its role's view. A buyer's connection
//! receives the buyer's view of the messages ([`crate::usecases::view`]: no verdict, panel,
//! solution id, internal note or staff account); staff receive the messages as staff read them,
//! and whether the panel changed, with the panel itself when the writer built it (else they read
//! `GET …/panel`). Every message push carries the
//! cursor of its last message, from which a reconnecting client catches up (`subscribe` with
//! `after`).
//!
//! Runs after the write, never instead of it: it returns what it delivered and what failed (the
//! caller logs it), and never an error. A connection that is gone (410) is removed from the store.

use crate::error::{Error, Result};
use crate::model::conversation::{Message, Shop};
use crate::model::identity::Role;
use crate::model::ids::{ConversationId, ShopId, UserId};
use crate::model::panel::Panel;
use crate::model::push::{ConnectionId, Cursor, Identity, Subscriber, Topic};
use crate::ports::{News, Posted, PushStore, Pusher, QueueNews, ShopStore};
use crate::usecases::queue::Waiting;
use crate::usecases::view::{buyer_view, BuyerMessage};
use serde::Serialize;

/// Posts in flight at once, per fan-out (a conversation has a few followers, a queue its shop's
/// agents).
pub const PARALLEL_POSTS: usize = 16;

/// New messages of a conversation (or only news of its panel, for staff), as one connection
/// receives them.
#[derive(Debug, Clone, Serialize)]
pub struct ConversationPush<M> {
    #[serde(rename = "type")]
    pub kind: PushKind,
    pub conversation_id: ConversationId,
    /// Oldest first, in the receiver's view.
    pub messages: Vec<M>,
    /// The last message's place: `subscribe`'s `after` on reconnecting. None when there is no
    /// message (a panel change).
    pub cursor: Option<Cursor>,
    /// Staff only: the panel may have changed (read `GET …/panel` unless `panel` is here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel_changed: Option<bool>,
    /// Staff only: the panel as the change left it, when the writer built it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel: Option<Panel>,
    /// Staff only, with `panel`: the conversation's version it belongs to. A client keeps the
    /// panel of the highest version it was told (two writers' pushes may cross).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel_version: Option<u64>,
}

/// A conversation's entry in the shop's queue changed (staff only).
#[derive(Debug, Clone, Serialize)]
pub struct QueuePush {
    #[serde(rename = "type")]
    pub kind: PushKind,
    pub shop_id: ShopId,
    pub conversation_id: ConversationId,
    /// The entry while the buyer waits; null once the wait ended.
    pub waiting: Option<Waiting>,
}

/// The `type` of a pushed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    Conversation,
    Queue,
}

/// What one fan-out came to.
#[derive(Debug, Default)]
pub struct Delivery {
    pub delivered: usize,
    /// Gone connections (410), removed from the store.
    pub gone: Vec<ConnectionId>,
    /// What failed (a post, a read, a removal), with the connection when there was one.
    pub failed: Vec<(Option<ConnectionId>, Error)>,
}

/// How a follower sees `buyer`'s conversation in `shop`: as its buyer, as the shop's staff, or not at all
/// (subscribe checked it; this is checked again, so that a payload never reaches the wrong side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buyer,
    Staff,
}

pub(crate) fn side(identity: &Identity, shop: &ShopId, buyer: &UserId) -> Option<Side> {
    match identity.role {
        Role::Buyer if identity.sub == *buyer => Some(Side::Buyer),
        Role::Agent | Role::ShopAdmin if identity.shop_id.as_ref() == Some(shop) => {
            Some(Side::Staff)
        }
        _ => None,
    }
}

fn json(payload: &impl Serialize) -> Result<String> {
    serde_json::to_string(payload).map_err(|e| Error::Internal(Box::new(e)))
}

/// The buyer's view of a conversation's new messages, or None when none reaches the buyer.
pub(crate) fn buyer_push(
    conversation: &ConversationId,
    shop: Option<&Shop>,
    messages: &[Message],
) -> Option<ConversationPush<BuyerMessage>> {
    let seen = buyer_view(shop, messages);
    let last = seen.last()?;
    let cursor = Some(Cursor::of_position(last.sent_at, &last.message_id));
    Some(ConversationPush {
        kind: PushKind::Conversation,
        conversation_id: conversation.clone(),
        messages: seen,
        cursor,
        panel_changed: None,
        panel: None,
        panel_version: None,
    })
}

/// The staff's view of `news`: every message as it is, and the panel's news (the panel itself
/// when the writer built it).
pub(crate) fn staff_push(news: &News) -> ConversationPush<Message> {
    ConversationPush {
        kind: PushKind::Conversation,
        conversation_id: news.conversation_id.clone(),
        messages: news.messages.clone(),
        cursor: news.messages.last().map(Cursor::of),
        panel_changed: Some(news.panel_changed),
        panel_version: news.panel.as_ref().map(|_| news.version),
        panel: news.panel.clone(),
    }
}

/// The payloads of `news`, per connection: reads the followers of the conversation and of the
/// queue (only when there is news for each), and the shop once if a buyer follows (the buyer's
/// view names agents by the shop's display names).
async fn payloads<S: PushStore + ShopStore>(
    store: &S,
    news: &News,
    failed: &mut Vec<(Option<ConnectionId>, Error)>,
) -> Vec<(ConnectionId, String)> {
    let conversation = Topic::Conversation(news.conversation_id.clone());
    let queue = Topic::Queue(news.shop_id.clone());
    let tells_conversation = !news.messages.is_empty() || news.panel_changed;
    let tells_queue = news.queue != QueueNews::Unchanged;
    let followers = |wanted: bool, topic: &Topic| {
        let topic = topic.clone();
        async move {
            if wanted {
                store.subscribers(&topic, news.at).await
            } else {
                Ok(Vec::new())
            }
        }
    };
    let (chat, waiting) = futures_util::future::join(
        followers(tells_conversation, &conversation),
        followers(tells_queue, &queue),
    )
    .await;
    let mut keep = |read: Result<Vec<Subscriber>>| {
        read.unwrap_or_else(|e| {
            failed.push((None, e));
            Vec::new()
        })
    };
    let (chat, waiting) = (keep(chat), keep(waiting));

    let mut out = Vec::new();
    let buyers: Vec<&Subscriber> = chat
        .iter()
        .filter(|s| side(&s.identity, &news.shop_id, &news.buyer_id) == Some(Side::Buyer))
        .collect();
    if !buyers.is_empty() {
        let shop = match store.shop(&news.shop_id).await {
            Ok(shop) => shop,
            Err(e) => {
                // The buyer still sees no account: agents show as the shop's service.
                failed.push((None, e));
                None
            }
        };
        if let Some(push) = buyer_push(&news.conversation_id, shop.as_ref(), &news.messages) {
            match json(&push) {
                Ok(text) => out.extend(
                    buyers
                        .iter()
                        .map(|s| (s.connection_id.clone(), text.clone())),
                ),
                Err(e) => failed.push((None, e)),
            }
        }
    }
    let staff = chat
        .iter()
        .filter(|s| side(&s.identity, &news.shop_id, &news.buyer_id) == Some(Side::Staff));
    match json(&staff_push(news)) {
        Ok(text) => out.extend(staff.map(|s| (s.connection_id.clone(), text.clone()))),
        Err(e) => failed.push((None, e)),
    }
    let waiting_entry = match &news.queue {
        QueueNews::Waits(w) => Some(Waiting {
            conversation_id: w.conversation_id.clone(),
            buyer_id: w.buyer_id.clone(),
            waiting_since: w.waiting_since,
            waited_ms: (news.at - w.waiting_since).max(0),
            last_text: w.preview.clone(),
            handed_off: w.handed_off,
        }),
        _ => None,
    };
    let queue_push = QueuePush {
        kind: PushKind::Queue,
        shop_id: news.shop_id.clone(),
        conversation_id: news.conversation_id.clone(),
        waiting: waiting_entry,
    };
    match json(&queue_push) {
        Ok(text) => out.extend(
            waiting
                .iter()
                .filter(|s| side(&s.identity, &news.shop_id, &news.buyer_id) == Some(Side::Staff))
                .map(|s| (s.connection_id.clone(), text.clone())),
        ),
        Err(e) => failed.push((None, e)),
    }
    out
}

/// Tells `news` to its followers through `pusher`, [`PARALLEL_POSTS`] at a time; a gone
/// connection is removed. Never fails: the [`Delivery`] says what did.
pub async fn fan_out<S: PushStore + ShopStore, P: Pusher>(
    store: &S,
    pusher: &P,
    news: &News,
) -> Delivery {
    let mut delivery = Delivery::default();
    let posts = payloads(store, news, &mut delivery.failed).await;
    for batch in posts.chunks(PARALLEL_POSTS) {
        let results = futures_util::future::join_all(batch.iter().map(|(id, text)| async move {
            let posted = pusher.post(id, text).await;
            let removed = match posted {
                Ok(Posted::Gone) => Some(store.disconnect(id).await),
                _ => None,
            };
            (id, posted, removed)
        }))
        .await;
        for (id, posted, removed) in results {
            match posted {
                Ok(Posted::Delivered) => delivery.delivered += 1,
                Ok(Posted::Gone) => delivery.gone.push(id.clone()),
                Err(e) => delivery.failed.push((Some(id.clone()), e)),
            }
            if let Some(Err(e)) = removed {
                delivery.failed.push((Some(id.clone()), e));
            }
        }
    }
    delivery
}
