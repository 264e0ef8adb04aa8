//! Domain values as DynamoDB items and back (serde_dynamo), the attribute values the adapter
//! writes by hand, and page cursors made of an item's key.

use super::keys::{PK, SK};
use assistant_domain::error::{Error, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A number attribute of an item; 0 when it is missing or not a whole number.
pub(crate) fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A string attribute of an item.
pub(crate) fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// The key of an item: its table's partition and sort key.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    Item::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

/// A domain value as an item under the given keys. `None` fields are left out, not stored as NULL.
pub(crate) fn to_item<T: Serialize>(value: &T, pk: String, sk: String) -> Result<Item> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| Error::Internal(Box::new(e)))?;
    item.retain(|_, v| !matches!(v, AttributeValue::Null(true)));
    item.extend(key(pk, sk));
    Ok(item)
}

/// A domain value as one attribute value (a list or a map), `None` fields left out.
pub(crate) fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(|e| Error::Internal(Box::new(e)))
}

/// An item back as a domain value; the keys are ignored.
pub(crate) fn from_item<T: DeserializeOwned>(mut item: Item) -> Result<T> {
    item.remove(PK);
    item.remove(SK);
    serde_dynamo::from_item(item).map_err(|e| Error::Internal(Box::new(e)))
}

/// A query's `LastEvaluatedKey` as an opaque cursor (JSON of its string and number values).
pub(crate) fn key_to_cursor(key: Item) -> String {
    let flat: HashMap<String, String> = key
        .into_iter()
        .filter_map(|(k, v)| match v {
            AttributeValue::S(x) | AttributeValue::N(x) => Some((k, x)),
            _ => None,
        })
        .collect();
    serde_json::to_string(&flat).unwrap_or_default()
}

/// A cursor back as the `ExclusiveStartKey`; the attributes in `numbers` are numbers, the rest
/// strings.
pub(crate) fn cursor_to_key(cursor: &str, numbers: &[&str]) -> Result<Item> {
    let flat: HashMap<String, String> =
        serde_json::from_str(cursor).map_err(|e| Error::Internal(Box::new(e)))?;
    Ok(flat
        .into_iter()
        .map(|(k, v)| {
            let value = if numbers.contains(&k.as_str()) {
                AttributeValue::N(v)
            } else {
                s(v)
            };
            (k, value)
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::keys::{order_pk, order_sk, ASKED_AT, DUE_SHARD};
    use super::*;
    use assistant_domain::model::ids::{OrderId, ShopId, UserId};
    use assistant_domain::model::order::{Order, OrderItem};

    /// An order for the adapter's unit tests.
    pub(crate) fn order() -> Order {
        let mut order = Order::placed(
            OrderId::parse("6912345678901234567").unwrap(),
            ShopId::parse("shop1").unwrap(),
            UserId::parse("buyer1").unwrap(),
            vec![OrderItem::new("纯棉四件套", 1, 29900)],
            1,
        );
        order.paid_at = Some(2);
        order.promised_ship_by = Some(3);
        order
    }

    #[test]
    fn an_order_maps_to_an_item_and_back() {
        let o = order();
        let item = to_item(&o, order_pk(&o.shop_id, &o.buyer_id), order_sk(&o.order_id)).unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "SHOP#shop1#BUYER#buyer1");
        assert_eq!(item["sk"].as_s().unwrap(), "ORDER#6912345678901234567");
        assert_eq!(item["total"].as_n().unwrap(), "29900");
        assert!(
            !item.contains_key("shipped_at"),
            "None is left out, not NULL"
        );
        assert_eq!(from_item::<Order>(item).unwrap(), o);
    }

    #[test]
    fn a_corrupt_item_is_an_internal_error_not_a_panic() {
        let mut item = to_item(&order(), "p".into(), "s".into()).unwrap();
        item.insert("order_id".into(), s("not digits"));
        assert_eq!(from_item::<Order>(item).unwrap_err().code(), "internal");
    }

    #[test]
    fn attributes_read_back_and_missing_numbers_are_zero() {
        let mut item = key("p", "s");
        item.insert("copied".into(), n(7u64));
        item.insert("delta".into(), n(-300i64));
        item.insert("bad".into(), s("x"));
        assert_eq!(number(&item, "copied"), 7);
        assert_eq!(number(&item, "missing"), 0);
        assert_eq!(number(&item, "bad"), 0);
        assert_eq!(item["delta"].as_n().unwrap(), "-300");
        assert_eq!(string(&item, PK), Some("p"));
        assert_eq!(string(&item, "copied"), None);
    }

    #[test]
    fn a_cursor_gives_back_the_key_it_was_made_of() {
        let mut start = key("SHOP#a#BUYER#b", "COMP#1");
        start.insert(DUE_SHARD.into(), s("DUE#03"));
        start.insert(ASKED_AT.into(), n(1763877600000i64));
        let cursor = key_to_cursor(start.clone());
        assert_eq!(cursor_to_key(&cursor, &[ASKED_AT]).unwrap(), start);
        assert_eq!(
            cursor_to_key("not json", &[]).unwrap_err().code(),
            "internal"
        );
    }
}
