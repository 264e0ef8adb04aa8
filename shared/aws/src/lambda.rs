//! The Lambda runtime wiring every function's `main.rs` shares: logs, config, one client and one
//! store built at cold start, then the runtime loop.

use crate::{store_from_env, DynamoStore};
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{service_fn, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;

/// Serves an HTTP API function: `handler(store, event)` answers every request with a response,
/// never an error, so API Gateway always gets JSON.
pub async fn serve_http<F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(DynamoStore, ApiGatewayV2httpRequest) -> Fut,
    Fut: Future<Output = ApiGatewayV2httpResponse>,
{
    crate::init_tracing();
    let store = store_from_env().await?;
    warm_up(&store).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let response = handler(store.clone(), event.payload);
        async move { Ok::<_, std::convert::Infallible>(response.await) }
    }))
    .await
}

/// Serves a function fed by another trigger (the EventBridge schedule): its errors are reported to
/// the runtime, which retries as the trigger allows.
pub async fn serve_events<E, R, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    E: DeserializeOwned,
    R: Serialize,
    F: Fn(DynamoStore, E) -> Fut,
    Fut: Future<Output = Result<R, lambda_runtime::Error>>,
{
    crate::init_tracing();
    let store = store_from_env().await?;
    warm_up(&store).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<E>| {
        handler(store.clone(), event.payload)
    }))
    .await
}

/// One cheap call during init, so the first invocation finds credentials resolved, the endpoint
/// known and a TLS connection open in the client's pool: a GetItem for a key no item has, on the
/// Shops table. A refusal (a function whose policy does not grant GetItem there) still opens the
/// connection; any failure is logged and never fatal, since the invocation would retry anyway.
pub async fn warm_up(store: &DynamoStore) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let started = std::time::Instant::now();
    let result = store
        .client()
        .get_item()
        .table_name(&store.tables().shops)
        .key("pk", AttributeValue::S("WARMUP#".into()))
        .key("sk", AttributeValue::S("WARMUP".into()))
        .send()
        .await;
    let millis = started.elapsed().as_millis() as u64;
    match result {
        Ok(_) => tracing::info!(millis, "DynamoDB connection warmed"),
        Err(err) => {
            use aws_sdk_dynamodb::error::ProvideErrorMetadata;
            let code = err.code().unwrap_or("transport").to_string();
            tracing::warn!(millis, code, error = %err, "DynamoDB warm-up failed; continuing");
        }
    }
}
