//! The API Gateway WebSocket API (issue 17): its routes, declared once, and the mapping of its
//! events and answers. The push function serves them; template.yaml's `AWS::ApiGatewayV2::Route`
//! resources must be exactly [`SOCKET_ROUTES`] (tests/integration/template.rs).
//!
//! WebSocket APIs have no JWT authorizer: `$connect` carries `?ticket=` from the JWT-protected
//! `POST /push/tickets`. A `$connect` answered with a status other than 2xx refuses the handshake
//! with that status; a `subscribe` or `$default` answer's body goes back to the client as one
//! message (the routes' `RouteResponseSelectionExpression: $default`).

use crate::http::{error_response, MAX_BODY_BYTES};
use assistant_domain::error::Error;
use assistant_domain::model::push::ConnectionId;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use serde::de::DeserializeOwned;

/// The routes of the WebSocket API (`$request.body.action` selects a message's route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketRoute {
    /// A client opens a connection (`?ticket=`).
    Connect,
    /// The connection closed, whoever closed it.
    Disconnect,
    /// `{"action": "subscribe", "conversation_id"}` or `{"action": "subscribe", "queue"}`.
    Subscribe,
    /// A message with any other action, or none: answered with a 400 naming the actions.
    Default,
}

/// Every route key of the WebSocket API, once.
pub const SOCKET_ROUTES: [(&str, SocketRoute); 4] = [
    ("$connect", SocketRoute::Connect),
    ("$disconnect", SocketRoute::Disconnect),
    ("subscribe", SocketRoute::Subscribe),
    ("$default", SocketRoute::Default),
];

impl SocketRoute {
    pub fn from_key(key: &str) -> Option<SocketRoute> {
        SOCKET_ROUTES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| *r)
    }

    pub fn key(self) -> &'static str {
        SOCKET_ROUTES
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(k, _)| *k)
            .expect("every route is declared")
    }
}

/// Whether a Lambda event is the WebSocket API's (its request context names a connection), not
/// the HTTP API's.
pub fn is_socket_event(event: &serde_json::Value) -> bool {
    event["requestContext"]["connectionId"].is_string()
        && event["requestContext"]["eventType"].is_string()
}

/// A WebSocket event, read: its route and connection.
#[derive(Debug)]
pub struct SocketRequest {
    pub route: SocketRoute,
    pub connection_id: ConnectionId,
    event: ApiGatewayWebsocketProxyRequest,
}

#[derive(Debug, thiserror::Error)]
#[error("WebSocket event: {0}")]
struct BadSocketEvent(String);

impl SocketRequest {
    /// Reads the route and the connection; an event without them is API Gateway's fault (500).
    pub fn from_event(event: ApiGatewayWebsocketProxyRequest) -> Result<Self, Error> {
        let key = event.request_context.route_key.clone().unwrap_or_default();
        let route = SocketRoute::from_key(&key).ok_or_else(|| {
            Error::Internal(Box::new(BadSocketEvent(format!(
                "route '{key}' is not the WebSocket API's"
            ))))
        })?;
        let raw = event.request_context.connection_id.clone();
        let connection_id = raw
            .as_deref()
            .map(ConnectionId::parse)
            .transpose()
            .ok()
            .flatten()
            .ok_or_else(|| {
                Error::Internal(Box::new(BadSocketEvent(format!(
                    "connection id {raw:?} is not one"
                ))))
            })?;
        Ok(SocketRequest {
            route,
            connection_id,
            event,
        })
    }

    /// A query string parameter of `$connect`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.event.query_string_parameters.first(name)
    }

    /// The message, as JSON `T`: at most 16 KiB of UTF-8 text holding one JSON object; serde's
    /// message says which field is wrong (400).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let text = self.event.body.as_deref().unwrap_or_default();
        if text.len() > MAX_BODY_BYTES {
            return Err(Error::TooLarge(format!(
                "a message is at most {MAX_BODY_BYTES} bytes"
            )));
        }
        if text.trim().is_empty() {
            return Err(Error::invalid("body", "a JSON object is required"));
        }
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid("body", format!("is not valid JSON ({e})")))?;
        if !value.is_object() {
            return Err(Error::invalid("body", "must be a JSON object"));
        }
        serde_json::from_value(value).map_err(|e| Error::invalid("body", e.to_string()))
    }
}

/// The answer to a WebSocket event: 200 and the JSON body, or the error's status and body, the
/// same `{"error": {"code", "message", "field"?}}` as the HTTP API's.
pub fn socket_response(result: Result<serde_json::Value, Error>) -> ApiGatewayProxyResponse {
    let mut resp = ApiGatewayProxyResponse::default();
    match result {
        Ok(body) => {
            resp.status_code = 200;
            resp.body = Some(Body::Text(body.to_string()));
        }
        Err(err) => {
            let http = error_response(&err);
            resp.status_code = http.status_code;
            resp.body = http.body;
        }
    }
    resp
}

/// The JSON body of an answer (null when there is none).
pub fn socket_json(resp: &ApiGatewayProxyResponse) -> serde_json::Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    }
}

/// A WebSocket event as API Gateway delivers it: for the tests and the local demo.
pub fn local_socket_event(
    route: &str,
    connection_id: &str,
    query: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> ApiGatewayWebsocketProxyRequest {
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let query: serde_json::Map<String, serde_json::Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let event = serde_json::json!({
        "queryStringParameters": if query.is_empty() { serde_json::Value::Null } else { query.into() },
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "stage": "live",
            "apiId": "local",
            "domainName": "localhost",
            "messageDirection": "IN",
            "connectedAt": 0,
            "requestTimeEpoch": 0
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    });
    serde_json::from_value(event).expect("a well-formed WebSocket event")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_reads_back_and_another_is_a_fault() {
        for (key, route) in SOCKET_ROUTES {
            assert_eq!(SocketRoute::from_key(key), Some(route));
            assert_eq!(route.key(), key);
            let req = SocketRequest::from_event(local_socket_event(key, "abc=", &[], None));
            assert_eq!(req.unwrap().route, route);
        }
        let err = SocketRequest::from_event(local_socket_event("unsubscribe", "abc=", &[], None));
        assert!(matches!(err, Err(Error::Internal(_))));
        let err = SocketRequest::from_event(local_socket_event("$connect", "a#b", &[], None));
        assert!(matches!(err, Err(Error::Internal(_))));
    }

    #[test]
    fn a_socket_event_is_told_from_an_http_one() {
        let socket = serde_json::to_value(local_socket_event("$connect", "x=", &[], None)).unwrap();
        assert!(is_socket_event(&socket));
        let http = crate::http::local_event("POST /push/tickets", &[], &[], None);
        assert!(!is_socket_event(&serde_json::to_value(http).unwrap()));
    }

    #[test]
    fn a_bad_message_is_a_400_and_the_answer_is_the_apis_error_body() {
        let bad = local_socket_event("subscribe", "x=", &[], None);
        let req = SocketRequest::from_event(bad).unwrap();
        let err = req.json::<serde_json::Value>().unwrap_err();
        let resp = socket_response(Err(err));
        assert_eq!(resp.status_code, 400);
        assert_eq!(socket_json(&resp)["error"]["code"], "invalid_input");
        let mut big = local_socket_event("subscribe", "x=", &[], None);
        big.body = Some("x".repeat(MAX_BODY_BYTES + 1));
        let err = SocketRequest::from_event(big)
            .unwrap()
            .json::<serde_json::Value>();
        assert_eq!(socket_response(Err(err.unwrap_err())).status_code, 413);
        let q = local_socket_event("$connect", "x=", &[("ticket", "t1")], None);
        assert_eq!(
            SocketRequest::from_event(q).unwrap().query("ticket"),
            Some("t1")
        );
    }
}
