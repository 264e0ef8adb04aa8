//! Message intake + intent: a buyer's message is stored and classified; on a covered intent with
//! no confirmed order, the order prediction card goes out in the serving agent's name; on an
//! intent the assistant does not cover, the shop's robot answers when it is on. Also the robot
//! rating that hands a buyer to a person, and the agents' queue.
//!
//! Routes:
//! - `POST /conversations` (buyer) `{"shop_id", "text"}` → 201 with the new conversation's id
//!   (minted here, never the client's), their message, the card and the robot's reply; with an
//!   `Idempotency-Key` header, a retry gets 200 with the conversation the first try opened
//! - `POST /conversations/{conversation_id}/messages`: the buyer `{"text"}` → 201 with their
//!   message, the card and the robot's reply (the buyer's view); the shop's staff `{"text"}` →
//!   201 with the message. It never creates a conversation: an unknown id and another buyer's
//!   are the same 404
//! - `GET /conversations/{conversation_id}/messages` (the buyer, or the shop's staff) → 200, each
//!   side its own view (`assistant_domain::usecases::view`)
//! - `POST /conversations/{conversation_id}/robot-rating` (buyer) `{"message_id", "rating"}` → 200
//! - `GET /shops/{shop_id}/queue` (the shop's staff) → 200, longest wait first

use assistant_aws::http::{respond, Reply, Request};
use assistant_aws::routes::{served, IntakeRoute};
use assistant_domain::model::ids::{ConversationId, ShopId};
use assistant_domain::model::ledger::IdempotencyKey;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::Store;
use assistant_domain::usecases::{self, view};
use assistant_domain::Result;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};

pub async fn handle<S: Store>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> ApiGatewayV2httpResponse {
    respond(route(store, event, now).await)
}

async fn route<S: Store>(store: &S, event: ApiGatewayV2httpRequest, now: Millis) -> Result<Reply> {
    let route = served::<IntakeRoute>(&event)?;
    let req = Request::from_event(event)?;
    let conversation = || req.path("conversation_id", ConversationId::parse);
    match route {
        IntakeRoute::OpenConversation => {
            let input = req.json()?;
            let key = req.header(&IdempotencyKey::FIELD.to_ascii_lowercase());
            if key.is_none() {
                let id = ConversationId::mint();
                return Reply::created(&view::open(store, &req.actor, &id, input, now).await?);
            }
            let key = IdempotencyKey::parse(key)?;
            match view::open_once(store, &req.actor, &key, input, now).await? {
                view::OpenAnswer::Opened(opened) => Reply::created(&opened),
                view::OpenAnswer::AlreadyOpened(again) => Reply::ok(&again),
            }
        }
        IntakeRoute::PostMessage => {
            let id = conversation()?;
            let input = req.json()?;
            Reply::created(&view::post_message(store, &req.actor, &id, input, now).await?)
        }
        IntakeRoute::ListMessages => {
            Reply::ok(&view::messages(store, &req.actor, &conversation()?).await?)
        }
        IntakeRoute::RateRobot => {
            let id = conversation()?;
            let input = req.json()?;
            Reply::ok(&view::robot_rating(store, &req.actor, &id, input, now).await?)
        }
        IntakeRoute::Queue => {
            let shop = req.path("shop_id", ShopId::parse)?;
            Reply::ok(&usecases::queue(store, &req.actor, &shop, now).await?)
        }
    }
}
