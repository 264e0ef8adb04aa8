//! Suggestion resolution: the agent's panel (智能助手提示) for the conversation's intent and order
//! node, and what the agent does with it (copy, send, edit-then-send a reply; send an action).
//!
//! Routes:
//! - `GET /conversations/{conversation_id}/panel` (the shop's staff) → 200
//! - `POST /conversations/{conversation_id}/panel/events` (the shop's staff):
//!   `{"solution_id", "event": "copied"|"sent"|"edited_sent", "reply_index"?, "action_id"?, "text"?}`
//!   → 201 when something was sent, else 200
//! - `GET /shops/{shop_id}/adoption` (the shop's admin, the platform) and `GET /adoption?shop_id=`
//!   (platform): shown / copied / sent / edited-then-sent / feedback per solution, with ratios

use assistant_aws::http::{respond, Reply, Request};
use assistant_aws::routes::{served, SuggestRoute};
use assistant_domain::model::ids::{ConversationId, ShopId};
use assistant_domain::model::time::Millis;
use assistant_domain::ports::Store;
use assistant_domain::usecases;
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
    let route = served::<SuggestRoute>(&event)?;
    let req = Request::from_event(event)?;
    let conversation = || req.path("conversation_id", ConversationId::parse);
    match route {
        SuggestRoute::GetPanel => {
            Reply::ok(&usecases::panel(store, &req.actor, &conversation()?, now).await?)
        }
        SuggestRoute::ShopAdoption => {
            let shop = req.path("shop_id", ShopId::parse)?;
            Reply::ok(&usecases::adoption(store, &req.actor, Some(&shop)).await?)
        }
        SuggestRoute::AllAdoption => {
            let shop = req.query("shop_id").map(ShopId::parse).transpose()?;
            Reply::ok(&usecases::adoption(store, &req.actor, shop.as_ref()).await?)
        }
        SuggestRoute::UseSolution => {
            let id = conversation()?;
            let input = req.json()?;
            let outcome = usecases::use_solution(store, &req.actor, &id, input, now).await?;
            let status = if outcome.message.is_some() { 201 } else { 200 };
            Reply::with_status(status, &outcome)
        }
    }
}
