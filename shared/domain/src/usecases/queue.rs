//! The agents' queue: a shop's conversations whose buyer waits for a person, longest wait first.

use crate::access;
use crate::error::Result;
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, ShopId, UserId};
use crate::model::time::Millis;
use crate::ports::Store;
use serde::Serialize;

/// A conversation in the agents' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub conversation_id: ConversationId,
    pub buyer_id: UserId,
    pub waiting_since: Millis,
    pub waited_ms: i64,
    pub last_text: Option<String>,
    pub handed_off: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queue {
    pub items: Vec<Waiting>,
}

/// How many waiting conversations the queue lists.
pub const QUEUE_LIMIT: usize = 50;

/// The shop's conversations waiting for a person, longest wait first.
pub async fn queue<S: Store>(
    store: &S,
    actor: &Actor,
    shop: &ShopId,
    now: Millis,
) -> Result<Queue> {
    access::queue(actor, shop)?;
    let waiting = store.waiting(shop, QUEUE_LIMIT).await?;
    Ok(Queue {
        items: waiting
            .into_iter()
            .map(|w| Waiting {
                conversation_id: w.conversation_id,
                buyer_id: w.buyer_id,
                waiting_since: w.waiting_since,
                waited_ms: (now - w.waiting_since).max(0),
                last_text: w.preview,
                handed_off: w.handed_off,
            })
            .collect(),
    })
}
