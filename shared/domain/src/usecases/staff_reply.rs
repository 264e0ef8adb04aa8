//! An agent writes to the buyer in their own words (not from the panel); the buyer stops waiting.

use crate::access;
use crate::error::{Error, Result};
use crate::model::conversation::{message_text, Message, MessageBody, Sender};
use crate::model::identity::Actor;
use crate::model::ids::ConversationId;
use crate::model::time::Millis;
use crate::ports::{ConversationChange, Store};
use crate::usecases::intake::PostMessage;
use crate::usecases::support::{next_version, visible_conversation, COMMIT_ATTEMPTS};
use serde::Serialize;

/// What staff posting a message get back.
#[derive(Debug, Clone, Serialize)]
pub struct StaffOutcome {
    pub message: Message,
}

/// An agent writes to the buyer in their own words (not from the panel). The buyer stops waiting.
pub async fn post_staff_message<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: PostMessage,
    now: Millis,
) -> Result<StaffOutcome> {
    let (agent, _) = access::staff_writing(actor, input.shop_id.as_ref())?;
    let text = message_text("text", &input.text)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut conv = visible_conversation(store, actor, id).await?;
        let message = Message::new(
            id,
            Sender::Agent(agent.clone()),
            MessageBody::Text { text: text.clone() },
            now,
        );
        conv.serving_agent = Some(agent.clone());
        conv.waiting_since = None;
        let expected_version = next_version(&mut conv, now);
        let result = store
            .commit(ConversationChange {
                conversation: conv,
                expected_version,
                messages: vec![message.clone()],
                stats: vec![],
                compensations: vec![],
            })
            .await;
        match result {
            Err(Error::Conflict(_)) if attempt < COMMIT_ATTEMPTS => continue,
            Err(e) => return Err(e),
            Ok(()) => return Ok(StaffOutcome { message }),
        }
    }
}
