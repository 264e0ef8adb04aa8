//! The least a DynamoDB-backed function can do on its first invocation: `lambda_runtime`, the
//! functions' own SDK client (`assistant_aws::dynamodb_client`, built once), no warm-up, and one
//! GetItem per event. The cold-start bench (`assistant bench coldstart`) measures it beside the
//! functions and hello world: what it costs over hello world is what any function that reads
//! DynamoDB before answering pays, however little else it does.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let client = assistant_aws::dynamodb_client()?;
    let table = std::env::var("SHOPS_TABLE")?;
    let (client, table) = (&client, table.as_str());
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async move {
        let out = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S("HELLO#".into()))
            .key("sk", AttributeValue::S("HELLO".into()))
            .send()
            .await?;
        Ok::<_, Error>(json!({"found": out.item.is_some()}))
    }))
    .await
}
