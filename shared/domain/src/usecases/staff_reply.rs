//! An agent writes to the buyer in their own words (not from the panel); the buyer stops waiting.

use crate::access;
use crate::error::Result;
use crate::model::conversation::{message_text, Message, MessageBody, Sender};
use crate::model::identity::Actor;
use crate::model::ids::ConversationId;
use crate::model::time::Millis;
use crate::ports::Store;
use crate::usecases::intake::PostMessage;
use crate::usecases::step::{retry_on_conflict, Step};
use crate::usecases::support::visible_conversation;
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
    retry_on_conflict(|| async {
        let conv = visible_conversation(store, actor, id).await?;
        let body = MessageBody::Text { text: text.clone() };
        let message = Message::new(id, Sender::Agent(agent.clone()), body, now);
        let mut step = Step::new(conv, now);
        step.agent_answered(agent, message.clone());
        step.commit(store).await?;
        Ok(StaffOutcome { message })
    })
    .await
}
