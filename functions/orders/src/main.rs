// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

use assistant_domain::model::time::now_millis;
use assistant_domain::usecases::KnownShops;
use serde_json::Value;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Shops seen to exist, for the life of this instance (an event of a known shop reads nothing).
    let known = Arc::new(KnownShops::default());
    assistant_aws::lambda::serve_events(move |store, event: Value| {
        let known = known.clone();
        async move {
            orders::handle(&store, &known, event, now_millis())
                .await
                .map_err(lambda_runtime::Error::from)
        }
    })
    .await
}
