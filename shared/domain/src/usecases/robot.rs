//! The buyer rates the robot's answer (飞鸽机器人); a bad rating hands them to a person (转人工).

use crate::access;
use crate::error::{Error, Result};
use crate::model::conversation::{preview, Message, MessageBody, Sender};
use crate::model::identity::Actor;
use crate::model::ids::{ConversationId, MessageId};
use crate::model::time::Millis;
use crate::ports::Store;
use crate::usecases::step::{retry_on_conflict, Step};
use crate::usecases::support::{visible_conversation, MESSAGE_PAGE};
use serde::{Deserialize, Serialize};

/// How a buyer rates a robot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Good,
    Bad,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRobot {
    pub message_id: MessageId,
    pub rating: Rating,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingOutcome {
    pub handed_off: bool,
    /// The notice the buyer sees when handed to a person.
    pub message: Option<Message>,
}

/// The notice a buyer handed to a person sees.
pub const HANDOFF_NOTICE: &str = "已为您转接人工客服，请稍候～";

/// The buyer rates a robot answer: a bad rating hands the conversation to a person (转人工), who
/// finds it in the queue from that moment.
pub async fn rate_robot<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: RateRobot,
    now: Millis,
) -> Result<RatingOutcome> {
    access::buyer(actor)?;
    retry_on_conflict(|| try_rate(store, actor, id, &input, now)).await
}

async fn try_rate<S: Store>(
    store: &S,
    actor: &Actor,
    id: &ConversationId,
    input: &RateRobot,
    now: Millis,
) -> Result<RatingOutcome> {
    let conv = visible_conversation(store, actor, id).await?;
    let messages = store.messages(id, MESSAGE_PAGE).await?;
    let rated = messages
        .iter()
        .find(|m| m.message_id == input.message_id)
        .ok_or(Error::NotFound("message"))?;
    if rated.sender != Sender::Robot {
        return Err(Error::invalid(
            "message_id",
            "only the robot's answers can be rated",
        ));
    }
    if input.rating == Rating::Good || conv.handed_off {
        return Ok(RatingOutcome {
            handed_off: conv.handed_off,
            message: None,
        });
    }
    let body = MessageBody::Text {
        text: HANDOFF_NOTICE.into(),
    };
    let notice = Message::new(id, Sender::System, body, now);
    let mut step = Step::new(conv, now);
    step.hand_off(notice.clone());
    // The queue shows what the buyer last asked.
    step.buyer_waits(last_buyer_text(&messages));
    step.commit(store).await?;
    Ok(RatingOutcome {
        handed_off: true,
        message: Some(notice),
    })
}

/// The buyer's latest text, shortened for the queue.
fn last_buyer_text(messages: &[Message]) -> Option<String> {
    messages
        .iter()
        .rev()
        .find_map(|m| match (&m.sender, &m.body) {
            (Sender::Buyer(_), MessageBody::Text { text }) => Some(preview(text)),
            _ => None,
        })
}
