//! Message intake + intent: a buyer's message is stored and classified; on 催发货 with no confirmed
//! order, the order prediction card goes out in the serving agent's name.
//!
//! Routes:
//! - `POST /conversations/{conversation_id}/messages` (buyer): `{"shop_id", "text"}` → 201
//! - `GET /conversations/{conversation_id}/messages` (the buyer, or the shop's staff) → 200

use assistant_aws::http::{respond, unknown_route, Reply, Request};
use assistant_domain::ids::ConversationId;
use assistant_domain::service;
use assistant_domain::store::Store;
use assistant_domain::time::Millis;
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
    let req = Request::from_event(event)?;
    let id = req.path("conversation_id", ConversationId::parse)?;
    match req.route.as_str() {
        "POST /conversations/{conversation_id}/messages" => {
            let input = req.json()?;
            Reply::created(&service::post_buyer_message(store, &req.actor, &id, input, now).await?)
        }
        "GET /conversations/{conversation_id}/messages" => {
            let messages = service::list_messages(store, &req.actor, &id).await?;
            Reply::ok(&serde_json::json!({ "messages": messages }))
        }
        other => Err(unknown_route(other)),
    }
}
