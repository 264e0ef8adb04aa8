//! The Lambda runtime wiring every function's `main.rs` shares: logs, config, one client and one
//! store built at cold start, then the runtime loop (beside the after-response extension in a
//! function that pushes: [`crate::after_response`]).
//!
//! Each function's `main` runs on tokio's current-thread runtime: Lambda hands a process one
//! event at a time, and its reads that go out together wait on the network, not on a CPU, so the
//! multi-thread runtime's workers only cost a cold start their start-up (about 0.5 ms of CPU
//! here; BENCHMARKS.md, "Cold start").

use crate::after_response::AfterResponse;
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
    serve_http_primed(|| {}, handler).await
}

/// The whole `main` of an HTTP API function whose handler is `handle(&store, event, now)`:
/// [`serve_http`] on tokio's current-thread runtime, `now` read at every request. The function's
/// crate root writes `assistant_aws::http_main!(order_card::handle);`.
#[macro_export]
macro_rules! http_main {
    ($handle:path) => {
        #[::tokio::main(flavor = "current_thread")]
        async fn main() -> ::std::result::Result<(), ::lambda_runtime::Error> {
            $crate::lambda::serve_http(|store, event| async move {
                $handle(&store, event, ::assistant_domain::model::time::now_millis()).await
            })
            .await
        }
    };
}

/// [`serve_http`] for a function with first-use work of its own (the intent engine's tables):
/// `prime` starts during init on a thread of its own, beside the warm-up call that waits on the
/// network, so the first invocation does not pay for it.
pub async fn serve_http_primed<P, F, Fut>(prime: P, handler: F) -> Result<(), lambda_runtime::Error>
where
    P: FnOnce() + Send + 'static,
    F: Fn(DynamoStore, ApiGatewayV2httpRequest) -> Fut,
    Fut: Future<Output = ApiGatewayV2httpResponse>,
{
    crate::init_tracing();
    let (store, after) = pushing(store_from_env().await?);
    warm_up_and_prime(&store, prime).await;
    let runtime = lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayV2httpRequest>| {
        let handling = after
            .as_ref()
            .map(|a| a.handling(&event.context.request_id));
        let response = handler(store.clone(), event.payload);
        async move {
            let response = response.await;
            drop(handling);
            Ok::<_, std::convert::Infallible>(response)
        }
    }));
    run_with(after.clone(), runtime).await
}

/// The store of a function that pushes, its fan-outs run after the answer: with the
/// [`AfterResponse`] its extension waits on. Unchanged for a function that does not push.
fn pushing(store: DynamoStore) -> (DynamoStore, Option<AfterResponse>) {
    if !store.pushes() {
        return (store, None);
    }
    let after = AfterResponse::default();
    (store.with_after_response(after.clone()), Some(after))
}

/// Runs the runtime loop, beside the after-response extension when the function pushes (the
/// extension registers first: the init phase ends with the runtime's first `next`).
async fn run_with(
    after: Option<AfterResponse>,
    runtime: impl Future<Output = Result<(), lambda_runtime::Error>>,
) -> Result<(), lambda_runtime::Error> {
    let Some(after) = after else {
        return runtime.await;
    };
    let extension = crate::after_response::extension(after).await?;
    tokio::try_join!(runtime, extension).map(|_| ())
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
    let (store, after) = pushing(store_from_env().await?);
    warm_up(&store).await;
    let runtime = lambda_runtime::run(service_fn(|event: LambdaEvent<E>| {
        let handling = after
            .as_ref()
            .map(|a| a.handling(&event.context.request_id));
        let result = handler(store.clone(), event.payload);
        async move {
            let result = result.await;
            drop(handling);
            result
        }
    }));
    run_with(after.clone(), runtime).await
}

/// Starts `prime` on the runtime's blocking pool, then makes the warm-up call: the one works while
/// the other waits on DynamoDB, and whatever priming is left when init ends overlaps the runtime's
/// first poll. Nothing waits for it: the engine's lazily built parts are built once, so a first
/// message that arrives early finishes the same work instead. A pool thread outlives its work for
/// a while, so the cold-start bench still counts its CPU time at the first response. A primer
/// that panics costs nothing but its log line.
async fn warm_up_and_prime(store: &DynamoStore, prime: impl FnOnce() + Send + 'static) {
    drop(tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        prime();
        let micros = started.elapsed().as_micros() as u64;
        tracing::info!(micros, "primed");
    }));
    warm_up(store).await;
}

/// Connections the warm-up opens: a request path sends at most two reads side by side (the
/// order and the shop's setup), and each needs a connection of its own; a third would only sit
/// in the pool.
pub const WARM_CONNECTIONS: usize = 2;

/// Cheap calls during init, so the first invocation finds credentials resolved, the endpoint
/// known and [`WARM_CONNECTIONS`] TLS connections open in the client's pool: GetItems for a key
/// no item has, on the Shops table, sent together (so each takes a connection of its own). A
/// refusal (a function whose policy does not grant GetItem there) still opens the connection;
/// any failure is logged and never fatal, since the invocation would retry anyway.
pub async fn warm_up(store: &DynamoStore) {
    let started = std::time::Instant::now();
    let calls = (0..WARM_CONNECTIONS).map(|_| store.warm_up_read());
    let results = futures_util::future::join_all(calls).await;
    let millis = started.elapsed().as_millis() as u64;
    match results.into_iter().find_map(Result::err) {
        None => tracing::info!(
            millis,
            connections = WARM_CONNECTIONS,
            "DynamoDB connections warmed"
        ),
        Some(err) => {
            let code = crate::dynamo::errors::fault_code(&err).unwrap_or(err.code());
            tracing::warn!(millis, code, error = %err, "DynamoDB warm-up failed; continuing");
        }
    }
}
