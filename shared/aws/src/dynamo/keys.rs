//! Every key of the three tables: the key attribute names, the partition and sort keys of each
//! item kind, the sort-key prefixes the queries read, the index names and their partitions. No
//! other file writes a key string; the tests below check these against template.yaml.

use assistant_domain::model::conversation::Message;
use assistant_domain::model::ids::{ConversationId, OrderId, ShopId, UserId};
use assistant_domain::model::ledger::IdempotencyKey;
use assistant_domain::model::limits::Counted;
use assistant_domain::model::push::{ConnectionId, Topic};
use assistant_domain::model::time::Millis;

// ---- attribute names --------------------------------------------------------------------------

/// The partition key of every table.
pub const PK: &str = "pk";
/// The sort key of every table.
pub const SK: &str = "sk";
/// `DueIndex` partition (set only while a compensation is due).
pub const DUE_SHARD: &str = "due_shard";
/// `DueIndex` sort key.
pub const ASKED_AT: &str = "asked_at";
/// `PaidIndex` partition.
pub const PAID_DAY: &str = "paid_day";
/// `PaidIndex` sort key.
pub const PAID_AT: &str = "paid_at";
/// `WaitingIndex` partition (set only while the buyer waits for a person).
pub const WAITING_SHOP: &str = "waiting_shop";
/// `WaitingIndex` sort key (the conversation's own field).
pub const WAITING_SINCE: &str = "waiting_since";
/// `OrderIndex` partition: the shop and the order a conversation confirmed (set only once it has
/// one), so that an order event finds the conversations about its order.
pub const ORDER_REF: &str = "order_ref";
/// `ArrearsIndex` partition (set on a shop's `BALANCE` only while its deposit is below zero).
pub const ARREARS_KEY: &str = "arrears";
/// `ArrearsIndex` sort key.
pub const DEPOSIT: &str = "deposit";
/// `StatsIndex` partition.
pub const STAT_SHARD: &str = "stat_shard";
/// `FeedbackIndex` partition.
pub const FEEDBACK_ALL_KEY: &str = "feedback_all";
/// `FeedbackIndex` sort key.
pub const FEEDBACK_ID: &str = "feedback_id";
/// How many uses of a buyer's allowance were taken.
pub const USES: &str = "uses";
/// The epoch second after which DynamoDB's TTL removes an item (a used-up allowance).
pub const EXPIRES_AT: &str = "expires_at";
/// `BuyerOrdersIndex` partition: the order's shop and buyer (set with the order's "created" fact,
/// so facts that arrived before it are in no buyer's list).
pub const BUYER_ORDERS: &str = "buyer_orders";
/// `BuyerOrdersIndex` sort key: when the order was placed (its "created" fact's time, a number),
/// so that the card reads a buyer's newest orders first and no more than it ranks.
pub const PLACED_AT: &str = "placed_at";
/// The order facts' own field.
pub const ORDER_ID: &str = "order_id";
/// The shop and buyer an order's facts belong to (fixed by the first event that names the order).
pub const SHOP_ID: &str = "shop_id";
pub const BUYER_ID: &str = "buyer_id";
/// Within a fact's map: what orders it against another of its kind.
pub const STAMP: &str = "stamp";
/// A compensation's state (`due`, then `paid`).
pub const STATUS: &str = "status";

// ---- conditions on keys -----------------------------------------------------------------------

/// The condition of a put that must create its item.
pub const ITEM_IS_NEW: &str = "attribute_not_exists(pk)";
/// The condition of an update that must find its item.
pub const ITEM_EXISTS: &str = "attribute_exists(pk)";
/// The key condition of a partition's items whose sort key starts with `:prefix`.
pub const PK_AND_SK_PREFIX: &str = "pk = :pk AND begins_with(sk, :prefix)";
/// The key condition of a partition's items whose sort key is in `:from ..= :to`.
pub const PK_AND_SK_BETWEEN: &str = "pk = :pk AND sk BETWEEN :from AND :to";

// ---- indexes ----------------------------------------------------------------------------------

pub const DUE_INDEX: &str = "DueIndex";
pub const PAID_INDEX: &str = "PaidIndex";
pub const ARREARS_INDEX: &str = "ArrearsIndex";
pub const STATS_INDEX: &str = "StatsIndex";
pub const WAITING_INDEX: &str = "WaitingIndex";
pub const FEEDBACK_INDEX: &str = "FeedbackIndex";
pub const BUYER_ORDERS_INDEX: &str = "BuyerOrdersIndex";
pub const ORDER_INDEX: &str = "OrderIndex";

/// `StatsIndex` partitions.
pub const STAT_SHARDS: u32 = 16;
/// `WaitingIndex` partitions per shop: a big shop's conversations starting to wait spread over
/// several keys instead of one hot one.
pub const WAITING_SHARDS: u32 = 8;

// ---- key values -------------------------------------------------------------------------------

pub const META: &str = "META";
/// The key of no item, read by a function's warm-up.
pub const WARM_UP_PK: &str = "WARMUP#";
pub const WARM_UP_SK: &str = "WARMUP";
pub const PROFILE: &str = "PROFILE";
/// The sort key of a shop's deposit, in its funds partition.
pub const BALANCE: &str = "BALANCE";
pub const ROBOT: &str = "ROBOT";
/// The `ArrearsIndex` partition: every shop in arrears.
pub const ARREARS: &str = "ARREARS";
/// The one `FeedbackIndex` partition.
pub const FEEDBACK_ALL: &str = "FEEDBACK";
pub const STATUS_DUE: &str = "due";
pub const STATUS_PAID: &str = "paid";
/// The sort key of an order's facts.
pub const ORDER_FACTS: &str = "FACTS";

pub const ORDER_PREFIX: &str = "ORDER#";
/// The partitions of the buyers' allowances (`LIMIT#{buyer}`).
pub const LIMIT_PREFIX: &str = "LIMIT#";
pub const MESSAGE_PREFIX: &str = "MSG#";
pub const COMPENSATION_PREFIX: &str = "COMP#";
pub const LEDGER_PREFIX: &str = "LEDGER#";
pub const STAT_PREFIX: &str = "STAT#";
pub const FEEDBACK_PREFIX: &str = "FEEDBACK#";
pub const REPLIES_PREFIX: &str = "REPLIES#";
/// A top-up's marker: one per shop and `Idempotency-Key`.
pub const TOP_UP_PREFIX: &str = "TOPUP#";
const SHOP_PREFIX: &str = "SHOP#";
/// The partitions of the shops' money (`FUNDS#{shop}`): the deposit, the ledger, the top-up
/// markers. Apart from `SHOP#{shop}`, which other functions write, so that IAM's
/// `dynamodb:LeadingKeys` can keep them out.
pub const FUNDS_PREFIX: &str = "FUNDS#";

pub fn order_pk(shop: &ShopId, buyer: &UserId) -> String {
    format!("{SHOP_PREFIX}{shop}#BUYER#{buyer}")
}
pub fn order_sk(order: &OrderId) -> String {
    format!("{ORDER_PREFIX}{order}")
}
/// The partition of an order's facts: the order id alone, so that an event naming another shop
/// or buyer than the stored ones is caught by the write's own condition.
pub fn order_facts_pk(order: &OrderId) -> String {
    format!("{ORDER_PREFIX}{order}")
}
const CONVERSATION_PREFIX: &str = "CONV#";
pub fn conversation_pk(id: &ConversationId) -> String {
    format!("{CONVERSATION_PREFIX}{id}")
}
/// The conversation of a `CONV#{id}` partition key.
pub fn conversation_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(CONVERSATION_PREFIX)
}
/// The `OrderIndex` key of a conversation about `order` in `shop`.
pub fn order_ref(shop: &ShopId, order: &OrderId) -> String {
    format!("{shop}#{order}")
}
pub fn message_sk(m: &Message) -> String {
    message_sk_at(m.sent_at, m.message_id.as_str())
}
/// A message's sort key from its time and id: messages sort by time.
pub fn message_sk_at(sent_at: Millis, message_id: &str) -> String {
    format!("{MESSAGE_PREFIX}{:013}#{message_id}", sent_at.max(0))
}
pub fn shop_pk(shop: &ShopId) -> String {
    format!("{SHOP_PREFIX}{shop}")
}
/// A shop's money: its deposit (`BALANCE`), ledger (`LEDGER#…`) and top-up markers (`TOPUP#…`).
pub fn funds_pk(shop: &ShopId) -> String {
    format!("{FUNDS_PREFIX}{shop}")
}
/// The shop of a `SHOP#{shop}` partition key.
pub fn shop_of_pk(pk: &str) -> Option<&str> {
    pk.strip_prefix(SHOP_PREFIX)
}
pub fn stat_sk(solution_id: &str) -> String {
    format!("{STAT_PREFIX}{solution_id}")
}
/// The solution of a `STAT#{solution_id}` sort key.
pub fn solution_of_stat_sk(sk: &str) -> Option<&str> {
    sk.strip_prefix(STAT_PREFIX)
}
pub fn compensation_sk(order: &OrderId) -> String {
    format!("{COMPENSATION_PREFIX}{order}")
}
pub fn coupon_pk(buyer: &UserId) -> String {
    format!("BUYER#{buyer}")
}
pub fn coupon_sk(order: &OrderId) -> String {
    format!("COUPON#{order}")
}
pub fn ledger_sk(paid_at: Millis, order: &OrderId) -> String {
    format!("{LEDGER_PREFIX}{:013}#{order}", paid_at.max(0))
}
/// The marker of a shop's top-up with this key, in the shop's funds partition.
pub fn top_up_sk(key: &IdempotencyKey) -> String {
    format!("{TOP_UP_PREFIX}{key}")
}
/// The ledger entry of a top-up: beside the payouts, by time.
pub fn ledger_top_up_sk(at: Millis, key: &IdempotencyKey) -> String {
    format!("{LEDGER_PREFIX}{:013}#{TOP_UP_PREFIX}{key}", at.max(0))
}
/// A ledger page's cursor: the sort key of the last entry returned, without its prefix.
pub fn ledger_cursor(sk: &str) -> Option<&str> {
    sk.strip_prefix(LEDGER_PREFIX)
}
/// The sort key a ledger cursor was made of, if it is one (`{at:013}#…` of key characters).
pub fn ledger_sk_of_cursor(cursor: &str) -> Option<String> {
    let (at, rest) = cursor.split_once('#')?;
    let ok = at.len() == 13
        && at.bytes().all(|b| b.is_ascii_digit())
        && !rest.is_empty()
        && rest.len() <= 100
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'#'));
    ok.then(|| format!("{LEDGER_PREFIX}{cursor}"))
}
pub fn due_shard_key(shard: u32) -> String {
    format!("DUE#{shard:02}")
}
/// The `PaidIndex` partition: the Beijing day of payment and the order's shard.
pub fn paid_day_key(day: &str, shard: u32) -> String {
    format!("{day}#{shard:02}")
}
/// A `StatsIndex` partition.
pub fn stat_shard(shard: u32) -> String {
    format!("{STAT_PREFIX}{shard:02}")
}
/// The `StatsIndex` partition of a shop's usage counters: a stable hash of the shop.
pub fn stat_shard_key(shop: &ShopId) -> String {
    stat_shard(fnv1a(shop.as_str()) % STAT_SHARDS)
}
/// A `WaitingIndex` partition: one shard of a shop.
pub fn waiting_partition(shop: &ShopId, shard: u32) -> String {
    format!("{shop}#{shard}")
}
/// The `WaitingIndex` key of a waiting conversation: its shop and a stable shard.
pub fn waiting_key(shop: &ShopId, conversation: &ConversationId) -> String {
    waiting_partition(shop, fnv1a(conversation.as_str()) % WAITING_SHARDS)
}
pub fn feedback_sk(feedback_id: &str) -> String {
    format!("{FEEDBACK_PREFIX}{feedback_id}")
}
pub fn replies_sk(intent: &str) -> String {
    format!("{REPLIES_PREFIX}{intent}")
}
/// The sort-key prefix of an intent's reply changes.
pub fn reply_history_prefix(intent: &str) -> String {
    format!("HISTORY#{REPLIES_PREFIX}{intent}#")
}
/// Reply changes sort before `PROFILE`, so the setup read (`PROFILE` ..= `ROBOT`) skips them.
pub fn reply_history_sk(intent: &str, version: u64) -> String {
    format!("{}{version:010}", reply_history_prefix(intent))
}

/// The partition of a buyer's allowances.
pub fn limit_pk(buyer: &UserId) -> String {
    format!("{LIMIT_PREFIX}{buyer}")
}
/// An allowance's window: the buyer's messages, or their new conversations in one shop.
pub fn limit_sk(counted: &Counted, window_start: Millis) -> String {
    match counted {
        Counted::Messages => format!("{MESSAGE_PREFIX}{:013}", window_start.max(0)),
        Counted::Conversations(shop) => format!("CONVS#{shop}#{:013}", window_start.max(0)),
    }
}

// ---- push (issue 17): tickets, connections, subscriptions, in the Conversations table ---------

/// Every push item's partition starts so (the push function's writes reach no other item:
/// template.yaml's `dynamodb:LeadingKeys`).
pub const PUSH_PREFIX: &str = "PUSH#";
/// The sort key of a ticket.
pub const TICKET: &str = "TICKET";
/// The sort-key prefix of a connection's subscriptions (in its own partition, beside `META`).
pub const SUBSCRIPTION_PREFIX: &str = "SUB#";
/// The last sort key of a connection's partition: `META` and every `SUB#…` sort before it.
pub const CONNECTION_PARTITION_END: &str = "SUB$";
/// The sort-key prefix of a topic's subscribers.
pub const SUBSCRIBER_PREFIX: &str = "CONN#";
/// How many topics a connection follows (its `META`), the condition of every subscribe.
pub const SUBSCRIPTIONS: &str = "subs";

/// A ticket's item: `PUSH#TICKET#{ticket}`.
pub fn ticket_pk(ticket: &str) -> String {
    format!("{PUSH_PREFIX}TICKET#{ticket}")
}
/// A connection's partition: `PUSH#CONN#{connection_id}` (its `META` and its `SUB#…` items).
pub fn connection_pk(id: &ConnectionId) -> String {
    format!("{PUSH_PREFIX}CONN#{id}")
}
/// A topic as a key part: `CONV#{conversation}` or `QUEUE#{shop}`.
pub fn topic_key(topic: &Topic) -> String {
    match topic {
        Topic::Conversation(id) => format!("CONV#{id}"),
        Topic::Queue(shop) => format!("QUEUE#{shop}"),
    }
}
/// A connection's subscription to a topic, in the connection's partition.
pub fn subscription_sk(topic: &Topic) -> String {
    format!("{SUBSCRIPTION_PREFIX}{}", topic_key(topic))
}
/// A topic's partition of subscribers: `PUSH#TOPIC#{topic}` (what the fan-out reads).
pub fn topic_pk(topic: &Topic) -> String {
    format!("{PUSH_PREFIX}TOPIC#{}", topic_key(topic))
}
/// One subscriber of a topic.
pub fn subscriber_sk(id: &ConnectionId) -> String {
    format!("{SUBSCRIBER_PREFIX}{id}")
}

/// 32-bit FNV-1a: a hash that stays the same across builds and platforms (the shards are stored).
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{tables_in, TEMPLATE};
    use assistant_domain::model::conversation::{MessageBody, Sender};

    #[test]
    fn the_allowances_expire_by_the_conversations_tables_ttl_and_in_their_own_partition() {
        let template: serde_yaml::Value = serde_yaml::from_str(TEMPLATE).unwrap();
        let ttl =
            &template["Resources"]["ConversationsTable"]["Properties"]["TimeToLiveSpecification"];
        assert_eq!(ttl["AttributeName"].as_str(), Some(EXPIRES_AT));
        assert_eq!(ttl["Enabled"].as_bool(), Some(true));
        let buyer = UserId::parse("b1").unwrap();
        let shop = ShopId::parse("s1").unwrap();
        // No conversation's partition can be a buyer's allowances (ids never hold '#').
        assert!(limit_pk(&buyer).starts_with("LIMIT#"));
        assert_ne!(
            limit_sk(&Counted::Messages, 60_000),
            limit_sk(&Counted::Conversations(shop), 60_000)
        );
    }

    #[test]
    fn push_items_live_in_their_own_partitions_and_sort_inside_the_connections_range() {
        let id = ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap();
        let topics = [
            Topic::Conversation(ConversationId::parse("c1").unwrap()),
            Topic::Queue(ShopId::parse("s1").unwrap()),
        ];
        for pk in [connection_pk(&id), ticket_pk("ab"), topic_pk(&topics[0])] {
            assert!(pk.starts_with(PUSH_PREFIX), "{pk}");
        }
        // No conversation, shop or allowance partition starts with PUSH#.
        assert!(!conversation_pk(&ConversationId::parse("PUSH").unwrap()).starts_with(PUSH_PREFIX));
        for topic in &topics {
            let sk = subscription_sk(topic);
            assert!(
                META < sk.as_str() && sk.as_str() < CONNECTION_PARTITION_END,
                "{sk}"
            );
        }
        assert_ne!(topic_pk(&topics[0]), topic_pk(&topics[1]));
        assert_eq!(subscriber_sk(&id), "CONN#L0SM9cOFvHcCIhw=");
    }

    #[test]
    fn message_keys_sort_by_time() {
        let c = ConversationId::parse("c").unwrap();
        let a = Message::new(
            &c,
            Sender::System,
            MessageBody::Text { text: "a".into() },
            999,
        );
        let b = Message::new(
            &c,
            Sender::System,
            MessageBody::Text { text: "b".into() },
            1000,
        );
        assert!(message_sk(&a) < message_sk(&b));
        assert_eq!(message_sk(&a), message_sk_at(999, a.message_id.as_str()));
    }

    #[test]
    fn the_setup_range_holds_only_setup_items() {
        let mut keys = vec![
            PROFILE.to_string(),
            replies_sk("urge_shipment"),
            ROBOT.to_string(),
        ];
        let order = OrderId::parse("6912345678901234567").unwrap();
        let outside = [
            reply_history_sk("urge_shipment", 3),
            stat_sk("urge_shipment.overdue"),
            feedback_sk("1763877600000-abc"),
            ledger_sk(1, &order),
            top_up_sk(&IdempotencyKey::parse(Some("k-1")).unwrap()),
            ledger_top_up_sk(1, &IdempotencyKey::parse(Some("k-1")).unwrap()),
        ];
        keys.sort();
        for k in &keys {
            assert!(k.as_str() >= PROFILE && k.as_str() <= ROBOT, "{k}");
        }
        for k in outside {
            assert!(!(k.as_str() >= PROFILE && k.as_str() <= ROBOT), "{k}");
        }
    }

    #[test]
    fn keys_read_back_what_they_wrote() {
        let shop = ShopId::parse("xiaolu-home").unwrap();
        let buyer = UserId::parse("buyer1").unwrap();
        let order = OrderId::parse("6912345678901234567").unwrap();
        assert_eq!(order_pk(&shop, &buyer), "SHOP#xiaolu-home#BUYER#buyer1");
        let conv = ConversationId::parse("c-1").unwrap();
        assert_eq!(conversation_of_pk(&conversation_pk(&conv)), Some("c-1"));
        assert_eq!(conversation_of_pk(&shop_pk(&shop)), None);
        assert_eq!(order_ref(&shop, &order), "xiaolu-home#6912345678901234567");
        assert_eq!(shop_of_pk(&shop_pk(&shop)), Some("xiaolu-home"));
        assert_eq!(solution_of_stat_sk(&stat_sk("a.b")), Some("a.b"));
        assert!(order_sk(&order).starts_with(ORDER_PREFIX));
        assert!(compensation_sk(&order).starts_with(COMPENSATION_PREFIX));
        assert!(ledger_sk(5, &order).starts_with(LEDGER_PREFIX));
        assert!(reply_history_sk("logistics", 7).starts_with(&reply_history_prefix("logistics")));
        assert!(!reply_history_sk("logistics", 7).starts_with(&reply_history_prefix("log")));
        let key = IdempotencyKey::parse(Some("topup:2026-11-23.1")).unwrap();
        let sk = ledger_top_up_sk(1_795_428_000_000, &key);
        assert_eq!(sk, "LEDGER#1795428000000#TOPUP#topup:2026-11-23.1");
        let cursor = ledger_cursor(&sk).unwrap();
        assert_eq!(ledger_sk_of_cursor(cursor), Some(sk.clone()));
        let payout = ledger_sk(5, &order);
        assert_eq!(
            ledger_sk_of_cursor(ledger_cursor(&payout).unwrap()),
            Some(payout)
        );
        for forged in [
            "",
            "x",
            "123#a",
            "1795428000000#",
            "1795428000000#a b",
            "179542800000a#x",
        ] {
            assert_eq!(ledger_sk_of_cursor(forged), None, "{forged}");
        }
        assert_eq!(
            ledger_sk(-1, &order),
            ledger_sk(0, &order),
            "no negative times"
        );
    }

    #[test]
    fn shards_are_stable_and_in_range() {
        let shop = ShopId::parse("xiaolu-home").unwrap();
        // Stored keys: a change of hash would strand every counter and waiting conversation.
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        let shard = stat_shard_key(&shop);
        assert!((0..STAT_SHARDS).any(|s| stat_shard(s) == shard), "{shard}");
        for c in ["c1", "c2", "lat-3", "f1"] {
            let key = waiting_key(&shop, &ConversationId::parse(c).unwrap());
            assert!(
                (0..WAITING_SHARDS).any(|s| waiting_partition(&shop, s) == key),
                "{key}"
            );
        }
    }

    #[test]
    fn the_key_attributes_and_indexes_are_the_templates() {
        let specs = tables_in(TEMPLATE).unwrap();
        let mut attributes: Vec<String> = Vec::new();
        let mut indexes: Vec<String> = Vec::new();
        for spec in &specs {
            attributes.extend(spec.key_schema.iter().map(|k| k.attribute_name.clone()));
            for index in &spec.global_secondary_indexes {
                indexes.push(index.index_name.clone());
                attributes.extend(index.key_schema.iter().map(|k| k.attribute_name.clone()));
            }
        }
        attributes.sort();
        attributes.dedup();
        indexes.sort();
        let mut ours = vec![
            PK,
            SK,
            DUE_SHARD,
            ASKED_AT,
            PAID_DAY,
            PAID_AT,
            WAITING_SHOP,
            WAITING_SINCE,
            ARREARS_KEY,
            DEPOSIT,
            STAT_SHARD,
            FEEDBACK_ALL_KEY,
            FEEDBACK_ID,
            BUYER_ORDERS,
            PLACED_AT,
            ORDER_REF,
        ];
        ours.sort();
        assert_eq!(attributes, ours);
        let mut our_indexes = vec![
            DUE_INDEX,
            PAID_INDEX,
            ARREARS_INDEX,
            STATS_INDEX,
            WAITING_INDEX,
            FEEDBACK_INDEX,
            BUYER_ORDERS_INDEX,
            ORDER_INDEX,
        ];
        our_indexes.sort();
        assert_eq!(indexes, our_indexes);
    }
}
