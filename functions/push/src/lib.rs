//! Push (issue 17): the ticket that opens a WebSocket connection, and the WebSocket API's routes.
//!
//! HTTP API route (JWT):
//! - `POST /push/tickets` (buyer, agent, shop_admin) → 201 `{"ticket", "expires_at",
//!   "expires_in": 60}`: present it once, within a minute, as `wss://…?ticket=`
//!
//! WebSocket API routes (`$request.body.action`):
//! - `$connect?ticket=` → 200 (the connection carries the ticket's identity); 401 without a
//!   valid ticket (the handshake is refused)
//! - `subscribe` `{"action": "subscribe", "conversation_id"}` or `{…, "queue": shop_id}` →
//!   `{"subscribed": {"conversation": id} | {"queue": shop}, "new"}`; 400, 401, 403, 404 or
//!   409 as `{"error": {…}}`, the same rules as the HTTP routes
//! - `$disconnect` → the connection and its subscriptions are removed
//! - `$default` (any other action) → 400 naming the actions

use assistant_aws::http::{error_response, respond, Reply, Request};
use assistant_aws::routes::{served, PushRoute};
use assistant_aws::websocket::{is_socket_event, socket_response, SocketRequest, SocketRoute};
use assistant_domain::error::Error;
use assistant_domain::model::push::SubscribeMessage;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{ConversationStore, PushStore, ShopStore};
use assistant_domain::usecases;
use assistant_domain::Result;
use aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
    ApiGatewayWebsocketProxyRequest,
};

/// Any event of the function: the WebSocket API's or the HTTP API's, answered as each expects.
pub async fn handle<S: PushStore + ConversationStore + ShopStore>(
    store: &S,
    event: serde_json::Value,
    now: Millis,
) -> serde_json::Value {
    let malformed = |e: serde_json::Error| Error::Internal(Box::new(e));
    let answer = if is_socket_event(&event) {
        match serde_json::from_value(event) {
            Ok(event) => serde_json::to_value(handle_socket(store, event, now).await),
            Err(e) => serde_json::to_value(socket_response(Err(malformed(e)))),
        }
    } else {
        match serde_json::from_value(event) {
            Ok(event) => serde_json::to_value(handle_http(store, event, now).await),
            Err(e) => serde_json::to_value(error_response(&malformed(e))),
        }
    };
    answer.unwrap_or_else(|_| serde_json::json!({"statusCode": 500}))
}

/// The HTTP API's routes of this function.
pub async fn handle_http<S: PushStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> ApiGatewayV2httpResponse {
    respond(route_http(store, event, now).await)
}

async fn route_http<S: PushStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> Result<Reply> {
    let route = served::<PushRoute>(&event)?;
    let req = Request::from_event(event)?;
    match route {
        PushRoute::MintTicket => {
            // No body, or an empty JSON object: anything else is a 400, not ignored.
            if !req.body_text()?.trim().is_empty() {
                let fields: serde_json::Map<String, serde_json::Value> = req.json()?;
                if let Some(field) = fields.keys().next() {
                    return Err(Error::invalid(
                        field.as_str(),
                        "is not a field of this request: send no body, or {}",
                    ));
                }
            }
            Reply::created(&usecases::mint_ticket(store, &req.actor, now).await?)
        }
    }
}

/// The WebSocket API's routes.
pub async fn handle_socket<S: PushStore + ConversationStore + ShopStore>(
    store: &S,
    event: ApiGatewayWebsocketProxyRequest,
    now: Millis,
) -> ApiGatewayProxyResponse {
    socket_response(route_socket(store, event, now).await)
}

async fn route_socket<S: PushStore + ConversationStore + ShopStore>(
    store: &S,
    event: ApiGatewayWebsocketProxyRequest,
    now: Millis,
) -> Result<serde_json::Value> {
    let req = SocketRequest::from_event(event)?;
    let id = &req.connection_id;
    match req.route {
        SocketRoute::Connect => {
            let opened = usecases::connect(store, id, req.query("ticket"), now).await?;
            tracing::info!(connection = %id, role = ?opened.identity.role, "connected");
            Ok(serde_json::json!({ "connected": true }))
        }
        SocketRoute::Subscribe => {
            let message: SubscribeMessage = req.json()?;
            let done = usecases::subscribe(store, id, &message, now).await?;
            Ok(serde_json::to_value(done).map_err(|e| Error::Internal(Box::new(e)))?)
        }
        SocketRoute::Disconnect => {
            usecases::disconnect(store, id).await?;
            Ok(serde_json::json!({ "disconnected": true }))
        }
        SocketRoute::Default => Err(Error::invalid(
            "action",
            "must be \"subscribe\" (with conversation_id or queue)",
        )),
    }
}
