// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

use assistant_domain::model::time::now_millis;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    assistant_aws::lambda::serve_events(|store, event: EventBridgeEvent<Value>| async move {
        compensate::handle(&store, &event, now_millis())
            .await
            .map_err(lambda_runtime::Error::from)
    })
    .await
}
