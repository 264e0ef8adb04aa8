//! A buyer's allowances: one counter item per window in the buyer's `LIMIT#{buyer}` partition of
//! the Conversations table, taken with one conditional UpdateItem (so concurrent takes never
//! overrun the limit) and removed by DynamoDB's TTL a minute after its window ends.

use super::codec::{key, n};
use super::errors::Failure;
use super::keys::{limit_pk, limit_sk, EXPIRES_AT, USES};
use super::DynamoStore;
use assistant_domain::error::Result;
use assistant_domain::model::limits::{Allowance, Limits};
use assistant_domain::model::time::MINUTE;
use assistant_domain::ports::LimitStore;

impl LimitStore for DynamoStore {
    fn limits(&self) -> Limits {
        self.limits
    }

    async fn take(&self, allowance: &Allowance) -> Result<bool> {
        // TTL deletes within days, not at once: the window start in the key keeps an expired
        // but not yet deleted counter from counting in the next window.
        let expires_at = (allowance.end + MINUTE) / 1000;
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.conversations)
            .set_key(Some(key(
                limit_pk(&allowance.buyer),
                limit_sk(&allowance.counted, allowance.start),
            )))
            .update_expression("ADD #uses :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(#uses) OR #uses < :max")
            .expression_attribute_names("#uses", USES)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(allowance.max))
            .expression_attribute_values(":expires", n(expires_at));
        match self.send_checked(request).await {
            Ok(_) => Ok(true),
            Err(Failure::Condition(_)) => Ok(false),
            Err(failure) => Err(failure.into()),
        }
    }
}
