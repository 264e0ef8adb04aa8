// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

use assistant_domain::model::time::now_millis;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    assistant_aws::lambda::serve_http_primed(
        assistant_domain::intent::prime,
        |store, event| async move { intake::handle(&store, event, now_millis()).await },
    )
    .await
}
