//! The one request path: every DynamoDB request the store makes is sent by [`DynamoStore::send`]
//! (or [`DynamoStore::send_checked`]), which counts it, asks DynamoDB for the capacity it consumed
//! (per table and index), adds that up, and maps a failure. Nothing else calls the SDK's `send`.

use super::errors::{classify, classify_transaction, Failure};
use super::DynamoStore;
use assistant_domain::error::Result;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::{
    batch_get_item, batch_write_item, get_item, put_item, query, transact_write_items, update_item,
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A DynamoDB request ready to send (one of the SDK's fluent builders).
pub(crate) trait Request: Sized + Send {
    type Output: Send;
    type Error: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static;
    /// The request asking for its consumed capacity, per table and index.
    fn with_capacity(self) -> Self;
    fn dispatch(
        self,
    ) -> impl Future<Output = std::result::Result<Self::Output, SdkError<Self::Error, HttpResponse>>>
           + Send;
    /// What the answer reports consumed, one entry per table (with its indexes).
    fn consumed(out: &Self::Output) -> &[ConsumedCapacity];
    fn failure(err: SdkError<Self::Error, HttpResponse>) -> Failure {
        classify(err)
    }
}

macro_rules! request {
    ($module:ident :: $builder:ident, $output:ident, $error:ident, $tables:ident) => {
        impl Request for $module::builders::$builder {
            type Output = $module::$output;
            type Error = $module::$error;
            fn with_capacity(self) -> Self {
                self.return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            }
            fn dispatch(
                self,
            ) -> impl Future<
                Output = std::result::Result<Self::Output, SdkError<Self::Error, HttpResponse>>,
            > + Send {
                self.send()
            }
            fn consumed(out: &Self::Output) -> &[ConsumedCapacity] {
                request!(@consumed $tables out)
            }
            request!(@failure $module);
        }
    };
    // One table's capacity (an `Option`), or one entry per table.
    (@consumed one $out:ident) => {
        $out.consumed_capacity().map(std::slice::from_ref).unwrap_or_default()
    };
    (@consumed many $out:ident) => {
        $out.consumed_capacity()
    };
    (@failure transact_write_items) => {
        fn failure(err: SdkError<Self::Error, HttpResponse>) -> Failure {
            classify_transaction(err)
        }
    };
    (@failure $module:ident) => {};
}

request!(
    get_item::GetItemFluentBuilder,
    GetItemOutput,
    GetItemError,
    one
);
request!(
    put_item::PutItemFluentBuilder,
    PutItemOutput,
    PutItemError,
    one
);
request!(
    update_item::UpdateItemFluentBuilder,
    UpdateItemOutput,
    UpdateItemError,
    one
);
request!(query::QueryFluentBuilder, QueryOutput, QueryError, one);
request!(
    batch_get_item::BatchGetItemFluentBuilder,
    BatchGetItemOutput,
    BatchGetItemError,
    many
);
request!(
    batch_write_item::BatchWriteItemFluentBuilder,
    BatchWriteItemOutput,
    BatchWriteItemError,
    many
);
request!(
    transact_write_items::TransactWriteItemsFluentBuilder,
    TransactWriteItemsOutput,
    TransactWriteItemsError,
    many
);

/// What the store's requests have cost so far. Shared by the clones of a store.
#[derive(Clone, Default)]
pub(crate) struct Meter {
    requests: Arc<AtomicU64>,
    /// Capacity units DynamoDB reported consumed, in thousandths.
    milli_units: Arc<AtomicU64>,
    /// The same, per table and per index (`Table` or `Table/Index`), in thousandths.
    milli_units_by_part: Arc<Mutex<BTreeMap<String, u64>>>,
}

fn milli(units: f64) -> u64 {
    (units * 1000.0).round() as u64
}

impl Meter {
    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn parts(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.milli_units_by_part
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn track(&self, capacities: &[ConsumedCapacity]) {
        let units: f64 = capacities.iter().filter_map(|c| c.capacity_units()).sum();
        self.milli_units.fetch_add(milli(units), Ordering::Relaxed);
        let mut parts = self.parts();
        for c in capacities {
            let table = c.table_name().unwrap_or("?");
            let mut rest = c.capacity_units().unwrap_or(0.0);
            for (index, cap) in c.global_secondary_indexes().into_iter().flatten() {
                let units = cap.capacity_units().unwrap_or(0.0);
                *parts.entry(format!("{table}/{index}")).or_default() += milli(units);
                rest -= units;
            }
            *parts.entry(table.to_string()).or_default() += milli(rest.max(0.0));
        }
    }
}

impl DynamoStore {
    /// Sends one request: counted, its consumed capacity tracked, a failed condition kept apart.
    pub(crate) async fn send_checked<R: Request>(
        &self,
        request: R,
    ) -> std::result::Result<R::Output, Failure> {
        self.meter.count();
        // Boxed: the SDK's send future is large (tens of KiB in a debug build), and inline it
        // would sit in the future of every store method and every handler that awaits one.
        let out = Box::pin(request.with_capacity().dispatch())
            .await
            .map_err(R::failure)?;
        self.meter.track(R::consumed(&out));
        Ok(out)
    }

    /// Sends one request (see [`send_checked`](Self::send_checked)); a failed condition is
    /// `Error::Conflict`.
    pub(crate) async fn send<R: Request>(&self, request: R) -> Result<R::Output> {
        Ok(self.send_checked(request).await?)
    }

    /// DynamoDB requests made so far by this store.
    pub fn requests(&self) -> u64 {
        self.meter.requests.load(Ordering::Relaxed)
    }

    /// Capacity units consumed so far, as DynamoDB reported them.
    pub fn capacity_units(&self) -> f64 {
        self.meter.milli_units.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Capacity units consumed so far per table (`Table`) and index (`Table/Index`): where
    /// [`capacity_units`](Self::capacity_units) went.
    pub fn capacity_by_part(&self) -> BTreeMap<String, f64> {
        self.meter
            .parts()
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / 1000.0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::Capacity;

    #[test]
    fn capacity_is_split_between_a_table_and_its_indexes() {
        let meter = Meter::default();
        let with_index = ConsumedCapacity::builder()
            .table_name("Orders")
            .capacity_units(3.0)
            .global_secondary_indexes("DueIndex", Capacity::builder().capacity_units(1.0).build())
            .build();
        let plain = ConsumedCapacity::builder()
            .table_name("Shops")
            .capacity_units(0.5)
            .build();
        meter.track(&[with_index, plain]);
        meter.count();
        assert_eq!(meter.requests.load(Ordering::Relaxed), 1);
        assert_eq!(meter.milli_units.load(Ordering::Relaxed), 3500);
        let parts = meter.parts().clone();
        assert_eq!(
            parts,
            BTreeMap::from([
                ("Orders".to_string(), 2000),
                ("Orders/DueIndex".to_string(), 1000),
                ("Shops".to_string(), 500),
            ])
        );
    }
}
