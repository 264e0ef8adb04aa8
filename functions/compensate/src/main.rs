// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    assistant_aws::lambda::serve_events(|_store, event: EventBridgeEvent<Value>| async move {
        Ok(compensate::handle(&event))
    })
    .await
}
