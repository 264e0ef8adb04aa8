//! Order prediction card (订单预测卡片): the buyer reads the card, confirms its guess, picks
//! another order from it, or sends an order card of their own.
//!
//! Routes:
//! - `GET /conversations/{conversation_id}/prediction-card` (the buyer, or the shop's staff) → 200
//! - `POST /conversations/{conversation_id}/order-selection` (buyer):
//!   `{"via": "confirm"|"pick"|"order_card", "card_id"?, "order_id"?}` → 200 with the answer and
//!   the order (the agent's panel stays with `GET …/panel`)

use assistant_aws::http::{respond, Reply, Request};
use assistant_aws::routes::{served, OrderCardRoute};
use assistant_domain::model::ids::ConversationId;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::Store;
use assistant_domain::usecases::view;
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
    let route = served::<OrderCardRoute>(&event)?;
    let req = Request::from_event(event)?;
    let id = req.path("conversation_id", ConversationId::parse)?;
    match route {
        OrderCardRoute::GetCard => Reply::ok(&view::open_card(store, &req.actor, &id).await?),
        OrderCardRoute::SelectOrder => {
            let input = req.json()?;
            Reply::ok(&view::order_selection(store, &req.actor, &id, input, now).await?)
        }
    }
}
