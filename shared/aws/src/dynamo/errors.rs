//! SDK failures as domain errors. A failed condition is a typed outcome ([`Failure::Condition`])
//! that a caller may act on (the payout tells "already paid" from "the deposit moved"); else it
//! becomes `Error::Conflict`. Throttling and transport trouble are "unavailable" (retryable),
//! anything else is internal.

use assistant_domain::error::Error;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// How a DynamoDB request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A condition of the request did not hold. For a transaction, whether each of its items
    /// failed its own (empty when DynamoDB did not say); for a one-item request, `[true]`.
    Condition(Vec<bool>),
    /// Anything else, as the domain's error.
    Other(Error),
}

impl Failure {
    /// Whether item `index` of the request failed its condition.
    pub(crate) fn condition_failed_at(&self, index: usize) -> bool {
        matches!(self, Failure::Condition(items) if items.get(index) == Some(&true))
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        match failure {
            Failure::Condition(_) => conflict(),
            Failure::Other(err) => err,
        }
    }
}

fn conflict() -> Error {
    Error::Conflict("someone else changed this at the same time; retry".into())
}

/// A failure DynamoDB (or the way to it) reported.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB {0}: {1}")]
pub(crate) struct DynamoFault(pub String, pub String);

impl DynamoFault {
    pub(crate) fn internal(code: &str, detail: String) -> Error {
        Error::Internal(Box::new(DynamoFault(code.into(), detail)))
    }
}

/// The code DynamoDB (or `transport`) gave for an error this module made, for logs.
pub(crate) fn fault_code(err: &Error) -> Option<&str> {
    let source = match err {
        Error::Unavailable(source) | Error::Internal(source) => source,
        _ => return None,
    };
    source
        .downcast_ref::<DynamoFault>()
        .map(|fault| fault.0.as_str())
}

/// Any SDK failure (DynamoDB's or S3's) as a domain error.
pub(crate) fn sdk_error<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    classify(err).into()
}

/// Any SDK failure, a failed condition kept apart.
pub(crate) fn classify<E, R>(err: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    // Transport trouble (a timeout, a dropped or refused connection, an answer cut short) after the
    // SDK's own retries is retryable; a request the SDK could not even build is our fault.
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            let detail = DisplayErrorContext(&err).to_string();
            return Failure::Other(Error::Unavailable(Box::new(DynamoFault(
                "transport".into(),
                detail,
            ))));
        }
        SdkError::ConstructionFailure(_) => {
            let detail = DisplayErrorContext(&err).to_string();
            return Failure::Other(DynamoFault::internal("request", detail));
        }
        _ => {}
    }
    let code = err.code().unwrap_or_default().to_string();
    match code.as_str() {
        "ConditionalCheckFailedException" => Failure::Condition(vec![true]),
        "TransactionCanceledException" => {
            let message = err.message().unwrap_or_default().to_string();
            if message.contains("ConditionalCheckFailed") {
                Failure::Condition(Vec::new())
            } else {
                // TransactionConflict or throttling inside the transaction: retryable.
                Failure::Other(Error::Unavailable(Box::new(DynamoFault(code, message))))
            }
        }
        "ResourceNotFoundException" | "ValidationException" | "SerializationException" => {
            Failure::Other(DynamoFault::internal(&code, format!("{err:?}")))
        }
        _ => Failure::Other(Error::Unavailable(Box::new(DynamoFault(
            code,
            format!("{err:?}"),
        )))),
    }
}

/// A transaction's failure, with which of its items failed their condition.
pub(crate) fn classify_transaction<R>(err: SdkError<TransactWriteItemsError, R>) -> Failure
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let failed: Vec<bool> = e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code() == Some("ConditionalCheckFailed"))
            .collect();
        if failed.contains(&true) {
            return Failure::Condition(failed);
        }
    }
    classify(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ResourceNotFoundException, TransactionCanceledException,
    };
    use aws_sdk_dynamodb::types::CancellationReason;

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    fn put_failed(err: PutItemError) -> SdkError<PutItemError, ()> {
        SdkError::service_error(err, ())
    }

    fn cancelled(reasons: &[&str], message: &str) -> SdkError<TransactWriteItemsError, ()> {
        let mut e = TransactionCanceledException::builder()
            .message(message)
            .meta(meta("TransactionCanceledException", message));
        for r in reasons {
            e = e.cancellation_reasons(CancellationReason::builder().code(*r).build());
        }
        SdkError::service_error(
            TransactWriteItemsError::TransactionCanceledException(e.build()),
            (),
        )
    }

    #[test]
    fn a_failed_condition_is_a_typed_outcome_and_a_conflict() {
        let err = put_failed(PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .meta(meta(
                    "ConditionalCheckFailedException",
                    "The conditional request failed",
                ))
                .build(),
        ));
        let failure = classify(err);
        assert!(failure.condition_failed_at(0), "{failure:?}");
        assert_eq!(Error::from(failure).code(), "conflict");
    }

    #[test]
    fn a_transaction_says_which_item_failed_its_condition() {
        let message = "Transaction cancelled, please refer cancellation reasons for specific reasons [None, None, ConditionalCheckFailed]";
        let failure = classify_transaction(cancelled(
            &["None", "None", "ConditionalCheckFailed"],
            message,
        ));
        assert!(!failure.condition_failed_at(0));
        assert!(failure.condition_failed_at(2));
        assert_eq!(Error::from(failure).code(), "conflict");
    }

    #[test]
    fn a_transaction_conflict_or_throttling_is_retryable() {
        let message = "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]";
        let failure = classify_transaction(cancelled(&["TransactionConflict", "None"], message));
        assert!(
            matches!(&failure, Failure::Other(Error::Unavailable(_))),
            "{failure:?}"
        );
        let failure = classify_transaction(cancelled(&[], "[ThrottlingError]"));
        assert!(matches!(failure, Failure::Other(Error::Unavailable(_))));
    }

    #[test]
    fn a_missing_table_is_internal_and_transport_trouble_is_unavailable() {
        let err = put_failed(PutItemError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .meta(meta("ResourceNotFoundException", "no such table"))
                .build(),
        ));
        let err = sdk_error(err);
        assert_eq!(err.code(), "internal");
        assert_eq!(fault_code(&err), Some("ResourceNotFoundException"));
        let err: SdkError<PutItemError, ()> = SdkError::timeout_error("slow");
        let err = sdk_error(err);
        assert!(matches!(err, Error::Unavailable(_)));
        assert_eq!(fault_code(&err), Some("transport"));
        let err: SdkError<PutItemError, ()> = SdkError::construction_failure("bad request");
        assert_eq!(sdk_error(err).code(), "internal");
    }

    #[test]
    fn an_unknown_code_is_retryable() {
        let err = put_failed(PutItemError::generic(meta(
            "ProvisionedThroughputExceededException",
            "slow down",
        )));
        assert!(matches!(sdk_error(err), Error::Unavailable(_)));
    }
}
