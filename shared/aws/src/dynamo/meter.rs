//! The one request path: every DynamoDB request the store makes is sent by [`DynamoStore::send`]
//! (or [`DynamoStore::send_checked`]), which counts it, asks DynamoDB for the capacity it consumed
//! (per table and index), adds that up, and maps a failure. Nothing else calls the SDK's `send`.
//! When asked to ([`DynamoStore::record_grants`]), it also notes the IAM action and resource each
//! request needs, per function, so that a test can prove template.yaml grants every one of them
//! (DynamoDB Local enforces no IAM).

use super::errors::{classify, classify_transaction, Failure};
use super::keys::PK;
use super::DynamoStore;
use assistant_domain::error::Result;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::{
    batch_get_item, batch_write_item, delete_item, get_item, put_item, query, transact_write_items,
    update_item,
};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity};
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    /// The IAM actions and resources the request needs (a transaction: each item's own action).
    fn grants(&self) -> Vec<Grant>;
    fn failure(err: SdkError<Self::Error, HttpResponse>) -> Failure {
        classify(err)
    }
}

/// One IAM permission a request needs: `dynamodb:GetItem` on a table, `dynamodb:Query` on an index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub action: &'static str,
    /// The table's name.
    pub table: String,
    /// The index a query reads, if any.
    pub index: Option<String>,
    /// The partition key value the request reaches, as IAM's `dynamodb:LeadingKeys` sees it (the
    /// key's or the item's `pk`, or a query's `:pk`); None for a batch or an index query.
    pub leading_key: Option<String>,
}

impl Grant {
    fn on(action: &'static str, table: &Option<String>, index: &Option<String>) -> Self {
        Grant {
            action,
            table: table.clone().unwrap_or_default(),
            index: index.clone(),
            leading_key: None,
        }
    }

    /// The same, reaching the partition `pk` of `attributes` (a key, an item, or a query's
    /// expression values under `:pk`).
    fn reaching(
        mut self,
        attributes: Option<&HashMap<String, AttributeValue>>,
        name: &str,
    ) -> Self {
        self.leading_key = attributes
            .and_then(|a| a.get(name))
            .and_then(|v| v.as_s().ok())
            .cloned();
        self
    }
}

macro_rules! request {
    ($module:ident :: $builder:ident, $output:ident, $error:ident, $tables:ident, $grants:expr) => {
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
            fn grants(&self) -> Vec<Grant> {
                #[allow(clippy::redundant_closure_call)]
                ($grants)(self)
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
    one,
    |r: &get_item::builders::GetItemFluentBuilder| vec![Grant::on(
        "dynamodb:GetItem",
        r.get_table_name(),
        &None
    )
    .reaching(r.get_key().as_ref(), PK)]
);
request!(
    put_item::PutItemFluentBuilder,
    PutItemOutput,
    PutItemError,
    one,
    |r: &put_item::builders::PutItemFluentBuilder| vec![Grant::on(
        "dynamodb:PutItem",
        r.get_table_name(),
        &None
    )
    .reaching(r.get_item().as_ref(), PK)]
);
request!(
    delete_item::DeleteItemFluentBuilder,
    DeleteItemOutput,
    DeleteItemError,
    one,
    |r: &delete_item::builders::DeleteItemFluentBuilder| vec![Grant::on(
        "dynamodb:DeleteItem",
        r.get_table_name(),
        &None
    )
    .reaching(r.get_key().as_ref(), PK)]
);
request!(
    update_item::UpdateItemFluentBuilder,
    UpdateItemOutput,
    UpdateItemError,
    one,
    |r: &update_item::builders::UpdateItemFluentBuilder| vec![Grant::on(
        "dynamodb:UpdateItem",
        r.get_table_name(),
        &None
    )
    .reaching(r.get_key().as_ref(), PK)]
);
request!(
    query::QueryFluentBuilder,
    QueryOutput,
    QueryError,
    one,
    |r: &query::builders::QueryFluentBuilder| {
        let grant = Grant::on("dynamodb:Query", r.get_table_name(), r.get_index_name());
        if r.get_index_name().is_some() {
            vec![grant]
        } else {
            vec![grant.reaching(r.get_expression_attribute_values().as_ref(), ":pk")]
        }
    }
);
request!(
    batch_get_item::BatchGetItemFluentBuilder,
    BatchGetItemOutput,
    BatchGetItemError,
    many,
    |r: &batch_get_item::builders::BatchGetItemFluentBuilder| batch_grants(
        "dynamodb:BatchGetItem",
        r.get_request_items()
    )
);
request!(
    batch_write_item::BatchWriteItemFluentBuilder,
    BatchWriteItemOutput,
    BatchWriteItemError,
    many,
    |r: &batch_write_item::builders::BatchWriteItemFluentBuilder| batch_grants(
        "dynamodb:BatchWriteItem",
        r.get_request_items()
    )
);
request!(
    transact_write_items::TransactWriteItemsFluentBuilder,
    TransactWriteItemsOutput,
    TransactWriteItemsError,
    many,
    |r: &transact_write_items::builders::TransactWriteItemsFluentBuilder| r
        .get_transact_items()
        .iter()
        .flatten()
        .flat_map(transaction_grants)
        .collect()
);

/// What a batch needs: `action` on every table it names.
fn batch_grants<V>(action: &'static str, items: &Option<HashMap<String, V>>) -> Vec<Grant> {
    items
        .iter()
        .flatten()
        .map(|(table, _)| Grant::on(action, &Some(table.clone()), &None))
        .collect()
}

/// What one item of a transaction needs: IAM authorises a TransactWriteItems by the action of
/// each of its items.
fn transaction_grants(item: &aws_sdk_dynamodb::types::TransactWriteItem) -> Vec<Grant> {
    [
        (
            "dynamodb:PutItem",
            item.put().map(|p| (p.table_name(), p.item())),
        ),
        (
            "dynamodb:UpdateItem",
            item.update().map(|u| (u.table_name(), u.key())),
        ),
        (
            "dynamodb:DeleteItem",
            item.delete().map(|d| (d.table_name(), d.key())),
        ),
        (
            "dynamodb:ConditionCheckItem",
            item.condition_check().map(|c| (c.table_name(), c.key())),
        ),
    ]
    .into_iter()
    .filter_map(|(action, reached)| {
        let (table, attributes) = reached?;
        let grant = Grant::on(action, &Some(table.to_string()), &None);
        Some(grant.reaching(Some(attributes), PK))
    })
    .collect()
}

/// What the store's requests have cost so far. Shared by the clones of a store.
#[derive(Clone, Default)]
pub(crate) struct Meter {
    requests: Arc<AtomicU64>,
    /// Capacity units DynamoDB reported consumed, in thousandths.
    milli_units: Arc<AtomicU64>,
    /// The same, per table and per index (`Table` or `Table/Index`), in thousandths.
    milli_units_by_part: Arc<Mutex<BTreeMap<String, u64>>>,
    /// When recording: every (function, grant) the requests needed.
    grants: GrantLog<(String, Grant)>,
}

/// The permissions a store's calls needed, once recording is on; shared by the store's clones.
/// Off (and free) unless a test turns it on.
#[derive(Clone)]
pub(crate) struct GrantLog<T>(Arc<std::sync::OnceLock<Mutex<BTreeSet<T>>>>);

impl<T> Default for GrantLog<T> {
    fn default() -> Self {
        GrantLog(Arc::default())
    }
}

impl<T: Ord + Clone> GrantLog<T> {
    /// The log, once recording is on; a request checks this with one atomic load, no lock.
    fn log(&self) -> Option<std::sync::MutexGuard<'_, BTreeSet<T>>> {
        let log = self.0.get()?;
        Some(log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    pub(crate) fn start(&self) {
        self.0.get_or_init(Mutex::default);
    }

    /// Adds what `grants` says, only while recording (so `grants` is not even called otherwise).
    pub(crate) fn note<I: IntoIterator<Item = T>>(&self, grants: impl FnOnce() -> I) {
        if let Some(mut log) = self.log() {
            log.extend(grants());
        }
    }

    pub(crate) fn all(&self) -> Vec<T> {
        self.log()
            .map(|log| log.iter().cloned().collect())
            .unwrap_or_default()
    }
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
        self.meter.grants.note(|| {
            let function = self.function.to_string();
            request
                .grants()
                .into_iter()
                .map(move |g| (function.clone(), g))
        });
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

    /// From now on, notes the IAM permission every request of this store (and its clones) needs,
    /// under the function named by [`acting_as`](Self::acting_as).
    pub fn record_grants(&self) {
        self.meter.grants.start();
    }

    /// What [`record_grants`](Self::record_grants) noted: (function, permission).
    pub fn recorded_grants(&self) -> Vec<(String, Grant)> {
        self.meter.grants.all()
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
