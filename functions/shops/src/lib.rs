//! The platform's side of a shop (平台运营): onboarding it with its agents and serving rule,
//! topping up its deposit (保证金) once per `Idempotency-Key`, and the deposit ledger.
//!
//! Routes:
//! - `PUT /shops/{shop_id}` (platform): `{"name", "agents": [{"agent_id", "display_name"?}],
//!   "serving_rule"?: {"serving": "by_buyer"} | {"serving": "fixed", "agent_id"}}` → 201 when
//!   new, 200 when changed: `{"shop"}` (the deposit and the robot switch are never set here)
//! - `POST /shops/{shop_id}/deposit` (platform), header `Idempotency-Key`: `{"amount"}` in fen →
//!   201 `{"entry", "replayed": false}`; the same key again → 200 with the same entry and
//!   `"replayed": true`; the same key with another amount → 409
//! - `GET /shops/{shop_id}/ledger?limit=&cursor=` (platform, the shop's admin) → 200
//!   `{"items", "next_cursor"}`, newest first: top-ups and payouts

use assistant_aws::http::{respond, Reply, Request};
use assistant_aws::routes::{served, ShopsRoute};
use assistant_domain::access;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::ledger::IdempotencyKey;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{PlatformStore, ShopStore};
use assistant_domain::usecases;
use assistant_domain::Result;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};

pub async fn handle<S: PlatformStore + ShopStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> ApiGatewayV2httpResponse {
    respond(route(store, event, now).await)
}

async fn route<S: PlatformStore + ShopStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> Result<Reply> {
    let route = served::<ShopsRoute>(&event)?;
    let req = Request::from_event(event)?;
    let shop = req.path("shop_id", ShopId::parse)?;
    match route {
        ShopsRoute::PutShop => {
            // Who may call is checked before the body is read.
            access::manage_shops(&req.actor)?;
            let done = usecases::onboard_shop(store, &req.actor, &shop, req.json()?).await?;
            let body = serde_json::json!({ "shop": done.shop });
            if done.created {
                Reply::created(&body)
            } else {
                Reply::ok(&body)
            }
        }
        ShopsRoute::TopUp => {
            access::manage_shops(&req.actor)?;
            let key = req.header(&IdempotencyKey::FIELD.to_ascii_lowercase());
            let done = usecases::top_up(store, &req.actor, &shop, key, req.json()?, now).await?;
            if done.replayed {
                Reply::ok(&done)
            } else {
                Reply::created(&done)
            }
        }
        ShopsRoute::Ledger => {
            let limit = req.query("limit");
            let page = usecases::ledger(
                store,
                &req.actor,
                &shop,
                limit.as_deref(),
                req.query("cursor"),
            )
            .await?;
            Reply::ok(&serde_json::json!({ "items": page.items, "next_cursor": page.next }))
        }
    }
}
