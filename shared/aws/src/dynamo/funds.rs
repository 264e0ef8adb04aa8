//! A shop's money, in its own partition of the Shops table, `FUNDS#{shop}`: the deposit
//! (`BALANCE`, with `arrears` set while it is below zero, which puts it in `ArrearsIndex`), the
//! ledger (`LEDGER#…`) and the top-up markers (`TOPUP#…`). It is kept out of `SHOP#{shop}`, which
//! intake, suggest, replies and feedback write (counters, replies, the robot, feedback), because
//! IAM conditions only on the partition key (`dynamodb:LeadingKeys`): so template.yaml lets only
//! compensate (payouts) and shops (the platform's onboarding and top-ups) write `FUNDS#*`
//! (tests/integration/grants.rs proves it).

use super::codec::{from_item, key, n, s, Item};
use super::keys::{
    funds_pk, shop_pk, ARREARS, ARREARS_INDEX, ARREARS_KEY, BALANCE, DEPOSIT, PROFILE,
};
use super::DynamoStore;
use assistant_domain::error::Result;
use assistant_domain::model::compensation::ShopInArrears;
use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::ShopId;
use assistant_domain::model::money::Fen;
use aws_sdk_dynamodb::types::{ReturnValue, Update};
use serde::Deserialize;

/// A shop's `BALANCE` item.
#[derive(Debug, Deserialize)]
struct Balance {
    shop_id: ShopId,
    deposit: Fen,
}

/// The key of a shop's `BALANCE` item.
fn balance_key(shop: &ShopId) -> Item {
    key(funds_pk(shop), BALANCE)
}

/// The deposit set to `new`, only if it is still `read` (so a payout and a top-up at the same
/// moment cannot both apply to one balance); in `ArrearsIndex` exactly while below zero. A part
/// of a payout's and a top-up's transactions.
pub(crate) fn move_deposit(table: &str, shop: &ShopId, read: Fen, new: Fen) -> Update {
    let in_arrears = new.0 < 0;
    let expression = if in_arrears {
        format!("SET {DEPOSIT} = :new, {ARREARS_KEY} = :arrears")
    } else {
        format!("SET {DEPOSIT} = :new REMOVE {ARREARS_KEY}")
    };
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(balance_key(shop)))
        .update_expression(expression)
        .condition_expression(format!("{DEPOSIT} = :read"))
        .expression_attribute_values(":new", n(new.0))
        .expression_attribute_values(":read", n(read.0));
    if in_arrears {
        update = update.expression_attribute_values(":arrears", s(ARREARS));
    }
    update.build().expect("table, key and expression are set")
}

impl DynamoStore {
    /// The shop's deposit; None for a shop never onboarded.
    pub(crate) async fn read_deposit(&self, shop: &ShopId) -> Result<Option<Fen>> {
        let balance: Option<Balance> = self
            .get(&self.tables.shops, funds_pk(shop), BALANCE)
            .await?;
        Ok(balance.map(|b| b.deposit))
    }

    /// The deposit set outright (seeding and tests), in arrears exactly while below zero.
    pub(crate) async fn write_deposit(&self, shop: &ShopId, deposit: Fen) -> Result<()> {
        let mut item = balance_key(shop);
        item.insert("shop_id".into(), s(shop.as_str()));
        item.insert(DEPOSIT.into(), n(deposit.0));
        if deposit.0 < 0 {
            item.insert(ARREARS_KEY.into(), s(ARREARS));
        }
        self.put(&self.tables.shops, item).await
    }

    /// Onboarding's first write: the deposit created at 0 if the shop has none, else left as it
    /// is. Returns it.
    pub(crate) async fn open_funds(&self, shop: &ShopId) -> Result<Fen> {
        let request = self
            .client
            .update_item()
            .table_name(&self.tables.shops)
            .set_key(Some(balance_key(shop)))
            .update_expression("SET #id = :id, #deposit = if_not_exists(#deposit, :zero)")
            .expression_attribute_names("#id", "shop_id")
            .expression_attribute_names("#deposit", DEPOSIT)
            .expression_attribute_values(":id", s(shop.as_str()))
            .expression_attribute_values(":zero", n(0))
            .return_values(ReturnValue::AllNew);
        let item = self.send(request).await?.attributes.unwrap_or_default();
        let balance: Balance = from_item(item)?;
        Ok(balance.deposit)
    }

    /// Every shop whose deposit is below zero (`ArrearsIndex`), named by its profile (one
    /// BatchGetItem for all of them).
    pub(crate) async fn arrears(&self) -> Result<Vec<ShopInArrears>> {
        let balances = self
            .query_index(
                &self.tables.shops,
                ARREARS_INDEX,
                ARREARS_KEY,
                ARREARS.into(),
            )
            .await?
            .into_iter()
            .map(from_item::<Balance>)
            .collect::<Result<Vec<_>>>()?;
        if balances.is_empty() {
            return Ok(vec![]);
        }
        let profiles = balances
            .iter()
            .map(|b| key(shop_pk(&b.shop_id), PROFILE))
            .collect();
        let names: std::collections::HashMap<ShopId, String> = self
            .batch_get(&self.tables.shops, profiles)
            .await?
            .into_iter()
            .map(|item| from_item::<Shop>(item).map(|shop| (shop.shop_id, shop.name)))
            .collect::<Result<_>>()?;
        Ok(balances
            .into_iter()
            .map(|b| ShopInArrears {
                name: names.get(&b.shop_id).cloned().unwrap_or_default(),
                shop_id: b.shop_id,
                deposit: b.deposit,
            })
            .collect())
    }
}
