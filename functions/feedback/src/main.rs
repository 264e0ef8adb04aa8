// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    assistant_aws::lambda::serve_http(|_store, event| feedback::handle(event)).await
}
