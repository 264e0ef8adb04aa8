//! Feedback upload (我要反馈): its route and template entry exist; the work arrives in its own issue. Until then
//! every authenticated call gets a clear 501 JSON error.
//!
//! Routes:
//! - `POST|GET /feedback`

use assistant_aws::http::{respond, Request};
use assistant_domain::Error;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};

pub async fn handle(event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    respond(Request::from_event(event).and_then(|_| {
        Err(Error::NotImplemented(
            "feedback upload (我要反馈) is not available yet".into(),
        ))
    }))
}
