//! The storage contract suite on the in-memory twin (DynamoDB's run is in tests/integration).

use assistant_testkit::{contract, MemoryStore};

#[tokio::test]
async fn the_twin_keeps_the_storage_contract() {
    contract::run_all(|| async { MemoryStore::default() }).await;
}

#[tokio::test]
async fn the_twin_keeps_the_platform_contract() {
    contract::run_platform(|| async { MemoryStore::default() }).await;
}

#[tokio::test]
async fn the_twin_keeps_the_push_contract() {
    contract::run_push(|| async { MemoryStore::default() }).await;
}
