//! A shop's deposit (保证金) ledger: the platform's top-ups and the overdue-coupon payouts, each
//! one entry with the balance after it. A top-up is made once per `Idempotency-Key`, however
//! often its request is sent; a deposit that goes back to zero or above leaves arrears.

use crate::error::{Error, Result};
use crate::model::ids::{OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};

/// The largest single top-up: 1,000,000 yuan.
pub const MAX_TOP_UP: Fen = Fen(100_000_000);

/// The `Idempotency-Key` of a top-up: 1–64 letters, digits, '-', '_', '.' or ':'. One key is one
/// top-up of one shop.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const FIELD: &'static str = "Idempotency-Key";
    pub const RULE: &'static str = "1-64 characters of letters, digits, '-', '_', '.' or ':'";

    pub fn parse(raw: Option<&str>) -> Result<Self> {
        let raw = raw
            .map(str::trim)
            .ok_or_else(|| Error::invalid(Self::FIELD, "header is required"))?;
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if !ok {
            return Err(Error::invalid(
                Self::FIELD,
                format!("must be {}", Self::RULE),
            ));
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = Error;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(Some(&value))
    }
}

impl From<IdempotencyKey> for String {
    fn from(value: IdempotencyKey) -> String {
        value.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The body of `POST /shops/{shop_id}/deposit`, as sent: `amount` in fen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deposit {
    pub amount: serde_json::Value,
}

impl Deposit {
    /// The amount, a whole number of fen from 1 to [`MAX_TOP_UP`].
    pub fn amount(&self) -> Result<Fen> {
        match self.amount.as_i64() {
            Some(n) if (1..=MAX_TOP_UP.0).contains(&n) => Ok(Fen(n)),
            _ => Err(Error::invalid(
                "amount",
                format!(
                    "must be a whole number of fen from 1 to {} (100 fen = 1 yuan)",
                    MAX_TOP_UP.0
                ),
            )),
        }
    }
}

/// Why the deposit moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerReason {
    /// The platform's top-up (充值).
    TopUp,
    /// An overdue-shipment coupon paid to a buyer (超时发货赔付).
    OverdueCoupon,
}

/// One entry of a shop's deposit ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub shop_id: ShopId,
    pub at: Millis,
    pub reason: LedgerReason,
    /// Positive for a top-up, negative for a payout.
    pub delta: Fen,
    pub balance_after: Fen,
    /// The payout's order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// The top-up's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<IdempotencyKey>,
    /// The operator who made the top-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserId>,
}

impl LedgerEntry {
    /// A top-up of `amount` over the deposit `deposit_read`.
    pub fn top_up(
        shop: &ShopId,
        key: &IdempotencyKey,
        amount: Fen,
        deposit_read: Fen,
        by: &UserId,
        now: Millis,
    ) -> Self {
        LedgerEntry {
            shop_id: shop.clone(),
            at: now,
            reason: LedgerReason::TopUp,
            delta: amount,
            balance_after: Fen(deposit_read.0 + amount.0),
            order_id: None,
            idempotency_key: Some(key.clone()),
            by: Some(by.clone()),
        }
    }

    /// The payout of an overdue coupon for `order`.
    pub fn payout(
        shop: &ShopId,
        order: &OrderId,
        amount: Fen,
        balance_after: Fen,
        at: Millis,
    ) -> Self {
        LedgerEntry {
            shop_id: shop.clone(),
            at,
            reason: LedgerReason::OverdueCoupon,
            delta: Fen(-amount.0),
            balance_after,
            order_id: Some(order.clone()),
            idempotency_key: None,
            by: None,
        }
    }

    /// Whether the shop is in arrears (欠费) after this entry: its deposit below zero.
    pub fn in_arrears(&self) -> bool {
        self.balance_after.0 < 0
    }
}

/// What a top-up attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopUpOutcome {
    /// Written now.
    Applied,
    /// A top-up with this key exists already (read it and answer with it).
    KeyUsed,
    /// The deposit changed since it was read: read again and retry.
    DepositMoved,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_amounts_are_checked() {
        assert!(IdempotencyKey::parse(Some("topup-2026-11-23:001")).is_ok());
        for bad in [
            None,
            Some(""),
            Some("a b"),
            Some("键"),
            Some(&"k".repeat(65)[..]),
        ] {
            let err = IdempotencyKey::parse(bad).unwrap_err();
            assert!(err.to_string().starts_with("Idempotency-Key:"), "{err}");
        }
        let amount = |v: serde_json::Value| Deposit { amount: v }.amount();
        assert_eq!(amount(serde_json::json!(50_000)).unwrap(), Fen(50_000));
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-5),
            serde_json::json!(1.5),
            serde_json::json!("100"),
            serde_json::json!(MAX_TOP_UP.0 + 1),
            serde_json::Value::Null,
        ] {
            assert_eq!(
                amount(bad.clone()).unwrap_err().code(),
                "invalid_input",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_top_up_adds_to_what_was_read() {
        let shop = ShopId::parse("s").unwrap();
        let key = IdempotencyKey::parse(Some("k1")).unwrap();
        let e = LedgerEntry::top_up(
            &shop,
            &key,
            Fen(500),
            Fen(-300),
            &UserId::parse("ops").unwrap(),
            7,
        );
        assert_eq!(e.balance_after, Fen(200));
        assert!(!e.in_arrears());
        let p = LedgerEntry::payout(
            &shop,
            &OrderId::parse("123456").unwrap(),
            Fen(300),
            Fen(-100),
            8,
        );
        assert_eq!(p.delta, Fen(-300));
        assert!(p.in_arrears());
    }
}
