//! API Gateway (HTTP API, payload 2.0) <-> the domain: the caller from the JWT authorizer's
//! claims, the body checked and parsed, and the one error -> HTTP mapping.

use assistant_domain::error::Error;
use assistant_domain::model::identity::Actor;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest request body accepted, in bytes (after base64 decoding).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest body of a route that takes files (feedback with screenshots).
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// A request as the handlers see it (which route it is for: [`crate::routes::served`]).
#[derive(Debug)]
pub struct Request {
    pub actor: Actor,
    event: ApiGatewayV2httpRequest,
}

impl Request {
    /// Reads the caller. Claims come from the JWT authorizer; without them: 401.
    pub fn from_event(event: ApiGatewayV2httpRequest) -> Result<Self, Error> {
        let claims = event
            .request_context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims);
        let claim = |name: &str| claims.and_then(|c| c.get(name)).map(String::as_str);
        let actor = Actor::from_claims(claim("sub"), claim("role"), claim("shop_id"))?;
        Ok(Request { actor, event })
    }

    /// A path parameter, parsed into its typed id.
    pub fn path<T>(
        &self,
        name: &str,
        parse: impl Fn(String) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let raw = self
            .event
            .path_parameters
            .get(name)
            .cloned()
            .ok_or_else(|| Error::invalid(name, "is missing from the path"))?;
        parse(raw)
    }

    /// A query-string parameter, if given.
    pub fn query(&self, name: &str) -> Option<String> {
        self.event
            .query_string_parameters
            .first(name)
            .map(str::to_string)
    }

    /// A request header, if given and readable as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.event.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body's bytes: base64 undone, at most `limit` bytes.
    pub fn body_bytes(&self, limit: usize) -> Result<Vec<u8>, Error> {
        let raw = self.event.body.as_deref().unwrap_or("");
        let bytes = if self.event.is_base64_encoded {
            base64::engine::general_purpose::STANDARD
                .decode(raw)
                .map_err(|_| Error::invalid("body", "is marked base64 but is not valid base64"))?
        } else {
            raw.as_bytes().to_vec()
        };
        if bytes.len() > limit {
            let message = format!("must be at most {limit} bytes (got {})", bytes.len());
            return Err(if limit > MAX_BODY_BYTES {
                Error::TooLarge(format!("body: {message}"))
            } else {
                Error::invalid("body", message)
            });
        }
        Ok(bytes)
    }

    /// The body's media type, lower case, without parameters ("application/json").
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The parts of a `multipart/form-data` body (the `multer` crate), at most `limit` bytes.
    pub async fn multipart(&self, limit: usize) -> Result<Vec<FormPart>, Error> {
        let content_type = self.header("content-type").unwrap_or("");
        let boundary = multer::parse_boundary(content_type)
            .map_err(|_| Error::invalid("content-type", "multipart/form-data needs a boundary"))?;
        let bytes = self.body_bytes(limit)?;
        let stream = futures_util::stream::once(async move {
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(bytes))
        });
        let mut form = multer::Multipart::new(stream, boundary);
        let broken = |e: multer::Error| {
            Error::invalid("body", format!("is not valid multipart/form-data ({e})"))
        };
        let mut parts = Vec::new();
        while let Some(field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or("").to_string();
            let file_name = field.file_name().map(str::to_string);
            let data = field.bytes().await.map_err(broken)?;
            parts.push(FormPart {
                name,
                file_name,
                bytes: data.to_vec(),
            });
        }
        Ok(parts)
    }

    /// The body as UTF-8 text: base64 undone, size and encoding checked.
    pub fn body_text(&self) -> Result<String, Error> {
        let bytes = self.body_bytes(MAX_BODY_BYTES)?;
        String::from_utf8(bytes).map_err(|e| {
            Error::invalid(
                "body",
                format!(
                    "must be UTF-8 text (invalid byte at {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    /// The body parsed as JSON into `T`; serde's message says which field is wrong.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.json_within(MAX_BODY_BYTES)
    }

    /// As [`Request::json`], for a route that allows a larger body.
    pub fn json_within<T: DeserializeOwned>(&self, limit: usize) -> Result<T, Error> {
        let bytes = self.body_bytes(limit)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            Error::invalid(
                "body",
                format!(
                    "must be UTF-8 text (invalid byte at {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        if text.trim().is_empty() {
            return Err(Error::invalid("body", "a JSON object is required"));
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::invalid("body", format!("is not valid JSON ({e})")))?;
        if !value.is_object() {
            return Err(Error::invalid("body", "must be a JSON object"));
        }
        // serde's message names the field and what was expected; it never echoes a whole value.
        serde_json::from_value(value).map_err(|e| Error::invalid("body", e.to_string()))
    }
}

/// The one mapping from domain errors to HTTP status.
pub fn status_of(err: &Error) -> u16 {
    match err {
        Error::Invalid { .. } => 400,
        Error::Unauthenticated(_) => 401,
        Error::Forbidden(_) => 403,
        Error::NotFound(_) => 404,
        Error::Conflict(_) | Error::RobotOff => 409,
        Error::TooLarge(_) => 413,
        Error::UnsupportedMedia(_) => 415,
        Error::TooMany { .. } => 429,
        Error::NotImplemented(_) => 501,
        Error::Unavailable(_) => 503,
        Error::Internal(_) => 500,
    }
}

/// Every answer: the browser must not guess another type than the one sent.
const NOSNIFF: (&str, &str) = ("x-content-type-options", "nosniff");

fn json_response(status: u16, body: &serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(NOSNIFF.0, HeaderValue::from_static(NOSNIFF.1));
    // Conversations, panels and figures are one caller's: no shared or stored copy anywhere.
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    let mut resp = ApiGatewayV2httpResponse::default();
    resp.status_code = status as i64;
    resp.headers = headers;
    resp.body = Some(Body::Text(body.to_string()));
    resp
}

/// The error body: `{"error": {"code", "message", "field"?}}`. Details go to the log only.
pub fn error_response(err: &Error) -> ApiGatewayV2httpResponse {
    let status = status_of(err);
    if status >= 500 {
        tracing::error!(status, error = %err, source = ?std::error::Error::source(err), "request failed");
    } else {
        tracing::info!(status, error = %err, "request refused");
    }
    let mut body = serde_json::json!({
        "error": { "code": err.code(), "message": err.public_message() }
    });
    if let Error::Invalid { field, message } = err {
        body["error"]["field"] = field.clone().into();
        body["error"]["message"] = format!("{field}: {message}").into();
    }
    if let Error::TooMany {
        retry_after_seconds,
        ..
    } = err
    {
        body["error"]["retry_after_seconds"] = (*retry_after_seconds).into();
    }
    let mut resp = json_response(status, &body);
    match err {
        // The SDK has already retried; tell the client when to try again.
        Error::Unavailable(_) => {
            resp.headers
                .insert("retry-after", HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        Error::TooMany {
            retry_after_seconds,
            ..
        } => {
            resp.headers
                .insert("retry-after", HeaderValue::from(*retry_after_seconds));
        }
        _ => {}
    }
    resp
}

/// The `Retry-After` a 503 carries, in seconds.
pub const RETRY_AFTER_SECONDS: &str = "1";

/// A successful answer: a status and a JSON body, or bytes of a given type (screenshots).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub bytes: Option<(String, Vec<u8>)>,
}

impl Reply {
    pub fn with_status<T: Serialize>(status: u16, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_value(value).map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Reply {
            status,
            body,
            bytes: None,
        })
    }

    /// 200 with bytes of a content type, sent base64-encoded as API Gateway expects.
    pub fn binary(content_type: String, bytes: Vec<u8>) -> Result<Self, Error> {
        Ok(Reply {
            status: 200,
            body: serde_json::Value::Null,
            bytes: Some((content_type, bytes)),
        })
    }

    /// 200 with the value.
    pub fn ok<T: Serialize>(value: &T) -> Result<Self, Error> {
        Self::with_status(200, value)
    }

    /// 201 with the value.
    pub fn created<T: Serialize>(value: &T) -> Result<Self, Error> {
        Self::with_status(201, value)
    }
}

/// Turns a handler's result into the response.
pub fn respond(result: Result<Reply, Error>) -> ApiGatewayV2httpResponse {
    match result {
        Ok(Reply {
            bytes: Some((content_type, bytes)),
            status,
            ..
        }) => {
            let mut resp = ApiGatewayV2httpResponse::default();
            resp.status_code = status as i64;
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                resp.headers.insert("content-type", v);
            }
            resp.headers.insert(
                "cache-control",
                HeaderValue::from_static("private, max-age=300"),
            );
            // A screenshot is shown, never run: no sniffing, no scripts or requests of its own
            // if opened directly, and saved rather than rendered in the API's origin.
            resp.headers
                .insert(NOSNIFF.0, HeaderValue::from_static(NOSNIFF.1));
            resp.headers.insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            let extension = content_type.rsplit('/').next().unwrap_or("bin");
            let extension = if extension == "jpeg" {
                "jpg"
            } else {
                extension
            };
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"screenshot.{extension}\""))
            {
                resp.headers.insert("content-disposition", v);
            }
            resp.body = Some(Body::Binary(bytes));
            resp.is_base64_encoded = true;
            resp
        }
        Ok(reply) => json_response(reply.status, &reply.body),
        Err(err) => error_response(&err),
    }
}

/// Builds an HTTP API event as API Gateway would deliver it after the JWT authorizer: for the local
/// demo and the tests, which drive the real handlers without a gateway.
pub fn local_event(
    route: &str,
    path_params: &[(&str, &str)],
    claims: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> ApiGatewayV2httpRequest {
    let (method, template) = route.split_once(' ').unwrap_or(("GET", route));
    let mut path = template.to_string();
    for (k, v) in path_params {
        path = path.replace(&format!("{{{k}}}"), v);
    }
    let claims: serde_json::Map<String, serde_json::Value> = claims
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let params: serde_json::Map<String, serde_json::Value> = path_params
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "pathParameters": params,
        "requestContext": {
            "routeKey": route,
            "stage": "$default",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "local"},
            "authorizer": {"jwt": {"claims": claims, "scopes": null}},
            "timeEpoch": 0
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    });
    serde_json::from_value(event).expect("a well-formed HTTP API event")
}

/// The JSON body of a response (an empty object when there is none).
pub fn response_json(resp: &ApiGatewayV2httpResponse) -> serde_json::Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap_or(serde_json::Value::Null),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: Option<&str>, b64: bool) -> ApiGatewayV2httpRequest {
        let mut e: ApiGatewayV2httpRequest = serde_json::from_value(serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /x",
            "rawPath": "/x",
            "headers": {},
            "requestContext": {
                "http": {"method": "POST", "path": "/x"},
                "authorizer": {"jwt": {"claims": {"sub": "b1", "role": "buyer"}, "scopes": null}}
            },
            "isBase64Encoded": false
        }))
        .unwrap();
        e.body = body.map(str::to_string);
        e.is_base64_encoded = b64;
        e
    }

    #[test]
    fn invalid_utf8_and_bad_base64_are_400s() {
        let bad = base64::engine::general_purpose::STANDARD.encode([0x7b, 0xff, 0x7d]);
        let r = Request::from_event(event(Some(&bad), true)).unwrap();
        let err = r.body_text().unwrap_err();
        assert_eq!(status_of(&err), 400);
        assert!(err.to_string().contains("UTF-8"));
        let r = Request::from_event(event(Some("%%%"), true)).unwrap();
        assert_eq!(status_of(&r.body_text().unwrap_err()), 400);
    }

    #[test]
    fn oversize_body_is_refused_with_the_limit() {
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        let r = Request::from_event(event(Some(&big), false)).unwrap();
        assert!(r.body_text().unwrap_err().to_string().contains("16384"));
    }

    #[test]
    fn missing_claims_are_401() {
        let mut e = event(None, false);
        e.request_context.authorizer = None;
        let err = Request::from_event(e).unwrap_err();
        assert_eq!(status_of(&err), 401);
    }

    #[test]
    fn faults_say_nothing_of_their_cause() {
        let err = Error::Internal("table secret-name missing".into());
        let resp = error_response(&err);
        assert_eq!(resp.status_code, 500);
        let Some(Body::Text(t)) = resp.body else {
            panic!()
        };
        assert!(!t.contains("secret"), "{t}");
    }

    #[test]
    fn json_is_never_sniffed_nor_stored() {
        for resp in [
            respond(Reply::ok(&serde_json::json!({"a": 1}))),
            error_response(&Error::NotFound("x")),
        ] {
            let h = |name: &str| resp.headers.get(name).and_then(|v| v.to_str().ok());
            assert_eq!(h("x-content-type-options"), Some("nosniff"));
            assert_eq!(h("cache-control"), Some("no-store"));
        }
    }

    #[test]
    fn an_image_is_served_inert() {
        let resp = respond(Reply::binary("image/jpeg".into(), vec![0xff, 0xd8]));
        let h = |name: &str| resp.headers.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(h("content-type"), Some("image/jpeg"));
        assert_eq!(h("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            h("content-security-policy"),
            Some("default-src 'none'; sandbox")
        );
        assert_eq!(
            h("content-disposition"),
            Some("attachment; filename=\"screenshot.jpg\"")
        );
    }

    #[test]
    fn only_unavailable_and_too_many_carry_a_retry_hint() {
        let resp = error_response(&Error::Unavailable("throttled".into()));
        assert_eq!(resp.status_code, 503);
        assert_eq!(
            resp.headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some(RETRY_AFTER_SECONDS)
        );
        let resp = error_response(&Error::Internal("bug".into()));
        assert!(resp.headers.get("retry-after").is_none());
    }

    #[test]
    fn too_many_is_429_with_its_retry_after_in_header_and_body() {
        let resp = error_response(&Error::TooMany {
            what: "消息发送过于频繁".into(),
            retry_after_seconds: 18,
        });
        assert_eq!(resp.status_code, 429);
        assert_eq!(
            resp.headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("18")
        );
        let Some(Body::Text(text)) = resp.body else {
            panic!("no body")
        };
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], "too_many_requests");
        assert_eq!(body["error"]["retry_after_seconds"], 18);
        assert_eq!(body["error"]["message"], "消息发送过于频繁");
    }
}
