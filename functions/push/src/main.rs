// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

/// One function for both APIs: the HTTP API's `POST /push/tickets` and the WebSocket API's
/// routes; `push::handle` tells the events apart and always answers (never a runtime error).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    assistant_aws::lambda::serve_events(|store, event: serde_json::Value| async move {
        let now = assistant_domain::model::time::now_millis();
        Ok::<_, lambda_runtime::Error>(push::handle(&store, event, now).await)
    })
    .await
}
