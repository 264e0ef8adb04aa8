//! The demo shop with agents, buyers and orders in every node, relative to `now`: the data are
//! the testkit's fixtures (one copy, shared with the tests); here they are onboarded as the
//! platform onboards a real shop, through the shops handler (`PUT /shops/{id}` and a deposit
//! top-up), and who may sign in to the local stack.

use assistant_aws::http::local_event;
use assistant_domain::model::time::Millis;
use assistant_domain::ports::{PlatformStore, PushStore, ShopStore, Store};
use assistant_domain::{Error, Result};
use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;

use assistant_domain::model::order::Order;
use assistant_domain::model::order_facts::events_of;
use assistant_domain::usecases::KnownShops;
pub use assistant_testkit::fixtures::{
    main_buyer_orders, node_buyers, order_in, ADMIN, AGENTS, MAIN_BUYER, OTHER_SHOP,
    OTHER_SHOP_AGENT, PLATFORM_OPERATOR, SHOP,
};

/// Who may sign in to the local stack: the JWT claims of every seeded person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub sub: String,
    pub role: &'static str,
    pub shop_id: Option<&'static str>,
}

/// Every seeded identity: the buyers (the main one first), the demo shop's agents and admin, the
/// other shop's agent and a platform operator.
pub fn identities() -> Vec<Identity> {
    let person = |sub: &str, role, shop_id| Identity {
        sub: sub.to_string(),
        role,
        shop_id,
    };
    let mut out = vec![person(MAIN_BUYER, "buyer", None)];
    for (_, order) in node_buyers(0) {
        out.push(person(order.buyer_id.as_str(), "buyer", None));
    }
    for agent in AGENTS {
        out.push(person(agent, "agent", Some(SHOP)));
    }
    out.push(person(ADMIN, "shop_admin", Some(SHOP)));
    out.push(person(OTHER_SHOP_AGENT, "agent", Some(OTHER_SHOP)));
    out.push(person(PLATFORM_OPERATOR, "platform", None));
    out
}

/// The demo shops as the platform onboards them: (shop, name, agents with display names, the
/// serving rule, the deposit topped up in fen).
pub fn demo_shops() -> Vec<(&'static str, serde_json::Value, i64)> {
    vec![
        (
            SHOP,
            serde_json::json!({
                "name": "小鹿家居旗舰店",
                "agents": [
                    {"agent_id": AGENTS[0], "display_name": "小鹿家居-小美"},
                    {"agent_id": AGENTS[1], "display_name": "小鹿家居-阿豪"}
                ],
                "serving_rule": {"serving": "by_buyer"}
            }),
            200_000,
        ),
        (
            OTHER_SHOP,
            serde_json::json!({
                "name": "大鹏数码专营店",
                "agents": [{"agent_id": OTHER_SHOP_AGENT}],
                "serving_rule": {"serving": "fixed", "agent_id": OTHER_SHOP_AGENT}
            }),
            100_000,
        ),
    ]
}

/// Onboards the demo shops through the shops handler, as the platform would: `PUT /shops/{id}`,
/// then a deposit top-up whose `Idempotency-Key` is the shop's, so seeding twice tops up once.
pub async fn onboard_shops<S: PlatformStore + ShopStore>(store: &S, now: Millis) -> Result<()> {
    let platform = [("sub", PLATFORM_OPERATOR), ("role", "platform")];
    for (shop, profile, fen) in demo_shops() {
        let params = [("shop_id", shop)];
        let put = local_event("PUT /shops/{shop_id}", &params, &platform, Some(&profile));
        expect_ok("PUT /shops", shops::handle(store, put, now).await)?;
        let body = serde_json::json!({ "amount": fen });
        let mut top_up = local_event(
            "POST /shops/{shop_id}/deposit",
            &params,
            &platform,
            Some(&body),
        );
        let key = format!("seed-{shop}-deposit");
        top_up.headers.insert(
            "idempotency-key",
            key.parse()
                .map_err(|_| Error::Internal("a header value".into()))?,
        );
        expect_ok(
            "POST /shops/deposit",
            shops::handle(store, top_up, now).await,
        )?;
    }
    Ok(())
}

/// A seeding call's answer: fine when 2xx, else the handler's own error text.
fn expect_ok(what: &str, resp: ApiGatewayV2httpResponse) -> Result<()> {
    if (200..300).contains(&resp.status_code) {
        return Ok(());
    }
    let body = match resp.body {
        Some(Body::Text(text)) => text,
        _ => String::new(),
    };
    Err(Error::Internal(
        format!("{what} answered {}: {body}", resp.status_code).into(),
    ))
}

/// Onboards the demo shops through the shops handler, then publishes the demo orders as order
/// events through the `orders` handler: nothing is written to the tables by hand.
pub async fn seed<S: Store + PushStore + PlatformStore>(store: &S, now: Millis) -> Result<()> {
    onboard_shops(store, now).await?;
    publish_orders(store, now).await
}

/// Every demo order (the main buyer's and one buyer per node).
pub fn demo_orders(now: Millis) -> Vec<Order> {
    main_buyer_orders(now)
        .into_iter()
        .chain(node_buyers(now).into_iter().map(|(_, o)| o))
        .collect()
}

/// The demo orders as the order system publishes them: one EventBridge event per step of every
/// order (`events/schema/order-event.json`), in the order the steps happened.
pub fn demo_order_events(now: Millis) -> Vec<serde_json::Value> {
    let mut events: Vec<_> = demo_orders(now)
        .iter()
        .flat_map(|o| events_of(o, "demo"))
        .collect();
    events.sort_by_key(|e| e.occurred_at);
    events.iter().map(orders::envelope).collect()
}

/// Publishes the demo orders as order events through the `orders` handler, as EventBridge
/// delivers them: no order is written any other way.
pub async fn publish_orders<S: Store + PushStore>(store: &S, now: Millis) -> Result<()> {
    let known = KnownShops::default();
    for event in demo_order_events(now) {
        orders::handle(store, &known, event, now)
            .await
            .map_err(|e| Error::Internal(Box::new(e)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_the_seeded_people_once_each() {
        let ids = identities();
        let mut subs: Vec<&str> = ids.iter().map(|i| i.sub.as_str()).collect();
        subs.sort_unstable();
        subs.dedup();
        assert_eq!(subs.len(), ids.len(), "no identity twice");
        assert_eq!(ids[0].sub, MAIN_BUYER);
        assert!(ids
            .iter()
            .all(|i| (i.role == "buyer" || i.role == "platform") == i.shop_id.is_none()));
        assert!(ids
            .iter()
            .any(|i| i.sub == ADMIN && i.role == "shop_admin" && i.shop_id == Some(SHOP)));
        assert_eq!(ids.iter().filter(|i| i.role == "buyer").count(), 8);
    }
}
