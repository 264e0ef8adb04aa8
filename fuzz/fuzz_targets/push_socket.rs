//! push: arbitrary bytes as a whole WebSocket API event or as the body of
//! `events/push-subscribe.json` (a message on an agent's connection, opened with a ticket), through
//! the handler (route, connection, message parsing and the access rules behind them) on the seeded
//! in-memory store. An event of no WebSocket route, or with no readable connection id, must be the
//! 500 of a misrouted event; every other answer a mapped status with a JSON body; nothing may panic.
#![no_main]

use assistant_aws::websocket::{socket_json, SocketRoute};
use assistant_domain::model::identity::Actor;
use assistant_domain::model::push::ConnectionId;
use assistant_domain::usecases;
use assistant_fuzz::{block_on, fixtures, seeded, NOW};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let event: ApiGatewayWebsocketProxyRequest = if data.first() == Some(&b'{') {
        match serde_json::from_slice(data) {
            Ok(event) => event,
            Err(_) => return,
        }
    } else {
        let mut event: ApiGatewayWebsocketProxyRequest =
            serde_json::from_str(fixtures::PUSH_SUBSCRIBE).expect("a WebSocket event");
        event.body = Some(String::from_utf8_lossy(data).into_owned());
        event
    };
    let store = seeded();
    let agent = Actor::from_claims(Some("agent-xiaomei"), Some("agent"), Some("xiaolu-home"))
        .expect("an agent");
    let routed = event
        .request_context
        .route_key
        .as_deref()
        .and_then(SocketRoute::from_key)
        .is_some()
        && event
            .request_context
            .connection_id
            .as_deref()
            .is_some_and(|id| ConnectionId::parse(id).is_ok());
    let resp = block_on(async {
        let ticket = usecases::mint_ticket(&store, &agent, NOW)
            .await
            .expect("a ticket");
        let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").expect("the fixture's connection");
        usecases::connect(&store, &id, Some(&ticket.ticket), NOW)
            .await
            .expect("connected");
        push::handle_socket(&store, event, NOW).await
    });
    let body = socket_json(&resp);
    if !routed {
        assert_eq!(resp.status_code, 500, "a misrouted event: {body}");
        assert_eq!(body["error"]["code"], "internal", "{body}");
        return;
    }
    assert!(
        matches!(resp.status_code, 200 | 400 | 401 | 403 | 404 | 409 | 413),
        "unexpected status {}: {body}",
        resp.status_code
    );
    if resp.status_code >= 400 {
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "an error body: {body}"
        );
    } else {
        assert!(body.is_object(), "{body}");
    }
});
