//! Reply editing (编辑回复) and the shop's robot (飞鸽机器人). Staff of the shop and the platform
//! read; only the shop's admin changes, and replies only while the robot is on. Every change is
//! versioned: a stale `expected_version` is a 409.
//!
//! Routes:
//! - `GET /shops/{shop_id}/replies/{intent}` → 200: per solution the official and effective
//!   replies, the variables, the latest changes
//! - `PUT /shops/{shop_id}/replies/{intent}` (shop_admin):
//!   `{"expected_version", "solution_id", "replies": [official, extra…]}` or `{…, "reset": true}`
//! - `GET /shops/{shop_id}/robot` → 200 `{"on", "answers", "version"}`
//! - `PUT /shops/{shop_id}/robot` (shop_admin): `{"expected_version", "on", "answers"?}`

use assistant_aws::http::{respond, Reply, Request};
use assistant_aws::routes::{served, RepliesRoute};
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::ShopStore;
use assistant_domain::usecases;
use assistant_domain::Result;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};

pub async fn handle<S: ShopStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> ApiGatewayV2httpResponse {
    respond(route(store, event, now).await)
}

async fn route<S: ShopStore>(
    store: &S,
    event: ApiGatewayV2httpRequest,
    now: Millis,
) -> Result<Reply> {
    let route = served::<RepliesRoute>(&event)?;
    let req = Request::from_event(event)?;
    let shop = req.path("shop_id", ShopId::parse)?;
    let intent = || req.path("intent", Ok);
    match route {
        RepliesRoute::GetReplies => {
            Reply::ok(&usecases::get_replies(store, &req.actor, &shop, &intent()?).await?)
        }
        RepliesRoute::PutReplies => {
            let input = req.json()?;
            Reply::ok(
                &usecases::edit_replies(store, &req.actor, &shop, &intent()?, input, now).await?,
            )
        }
        RepliesRoute::GetRobot => Reply::ok(&usecases::get_robot(store, &req.actor, &shop).await?),
        RepliesRoute::PutRobot => {
            let input = req.json()?;
            Reply::ok(&usecases::edit_robot(store, &req.actor, &shop, input, now).await?)
        }
    }
}
