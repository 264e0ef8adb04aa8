// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

use assistant_domain::model::time::now_millis;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let blobs = assistant_aws::s3::blobs_from_env()?;
    assistant_aws::lambda::serve_http(move |store, event| {
        let blobs = blobs.clone();
        async move { feedback::handle(&store, &blobs, event, now_millis()).await }
    })
    .await
}
