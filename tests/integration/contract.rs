//! The storage contract suite (`assistant_testkit::contract`) against DynamoDB Local, each check
//! on fresh tables. The in-memory twin passes the same suite (shared/testkit/tests/contract.rs).

use assistant_testkit::contract;
use integration_tests::fresh_store;

#[tokio::test]
async fn dynamodb_keeps_the_storage_contract() {
    contract::run_all(fresh_store).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_platform_contract() {
    contract::run_platform(fresh_store).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_push_contract() {
    contract::run_push(fresh_store).await;
}
