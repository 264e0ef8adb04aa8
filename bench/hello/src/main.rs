//! Hello world on `lambda_runtime`: answers every event with a fixed JSON object. The cold-start
//! bench (`assistant bench coldstart`) measures it on the same harness as the real functions, as
//! the floor they are compared with.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, std::convert::Infallible>(json!({"hello": "world"}))
    }))
    .await
}
