//! The order prediction card (订单预测卡片): which of the buyer's orders in this shop is the
//! question about? The best guess first, the others below it.

use crate::intent::normalize;
use crate::model::ids::{CardId, ConversationId, OrderId, UserId};
use crate::model::money::Fen;
use crate::model::order::{Order, OrderNode};
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// At most this many orders on one card.
pub const MAX_CARD_ORDERS: usize = 10;

/// A card ranks the buyer's newest this-many orders in the shop (one bounded read, whatever a
/// buyer's history); an older order is still found when its number is in the text.
pub const CARD_CANDIDATES: usize = 50;

/// At most this many order numbers are taken from one message (each is one read).
pub const MAX_NAMED_ORDERS: usize = 3;

/// Product names are matched against the first this-many characters of a message (the match
/// costs the text's length times each item name's).
pub const MATCH_CHARS: usize = 200;

/// Why the first order was guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuessReason {
    /// The message carried the order number.
    OrderNumberInText,
    /// A product name in the message matched the order's items.
    ProductName,
    /// Paid and unshipped, most overdue or nearest to its promised ship time.
    Urgency,
    /// The most recent order.
    Recency,
}

/// One order as a card line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub title: String,
    pub total: Fen,
    pub created_at: Millis,
    pub node: OrderNode,
    pub node_label: String,
}

impl OrderSummary {
    pub fn of(order: &Order, now: Millis) -> Self {
        let node = order.node_at(now);
        OrderSummary {
            order_id: order.order_id.clone(),
            title: order.title(),
            total: order.total,
            created_at: order.created_at,
            node,
            node_label: node.label().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardAnswer {
    /// The buyer confirmed the guessed order (确认订单).
    Confirmed,
    /// The buyer picked another order listed on the card (选择其他订单).
    Picked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictionCard {
    pub card_id: CardId,
    pub conversation_id: ConversationId,
    pub created_at: Millis,
    /// Sent in the name of the agent serving the conversation.
    pub sent_as: Option<UserId>,
    pub guess: OrderSummary,
    pub reason: GuessReason,
    pub others: Vec<OrderSummary>,
    pub prompt: String,
    /// Set once the buyer answered; the card is then closed.
    pub answer: Option<(CardAnswer, OrderId)>,
}

impl PredictionCard {
    pub fn lists(&self, order: &OrderId) -> bool {
        self.guess.order_id == *order || self.others.iter().any(|o| o.order_id == *order)
    }
}

/// A ranked candidate with the reason it stands where it does.
#[derive(Debug, Clone)]
pub struct Ranked<'a> {
    pub order: &'a Order,
    pub reason: GuessReason,
}

/// Digit runs in the text that look like order numbers: the first [`MAX_NAMED_ORDERS`] distinct.
pub fn order_numbers_in(text: &str) -> Vec<String> {
    // Split before normalising: normalising drops the spaces that keep two numbers apart.
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let mut numbers: Vec<String> = Vec::new();
    for run in text.split(|c: char| !digit(c)) {
        if numbers.len() == MAX_NAMED_ORDERS {
            break;
        }
        let run = normalize(run);
        if (6..=24).contains(&run.len()) && !numbers.contains(&run) {
            numbers.push(run);
        }
    }
    numbers
}

/// The part of a message product names are matched against.
fn matched_part(text: &str) -> &str {
    match text.char_indices().nth(MATCH_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// How well the message names one of the order's products: the longest run of characters shared by
/// the message and an item name, counted in characters, when it is at least two CJK characters or
/// four other characters. Zero when nothing matches.
pub fn product_match(text_norm: &str, order: &Order) -> usize {
    order
        .items
        .iter()
        .map(|item| longest_common_run(text_norm, &normalize(&item.name)))
        .max()
        .unwrap_or(0)
}

fn longest_common_run(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut best = 0;
    let mut best_weight = 0;
    let mut prev = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        let mut cur = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                cur[j] = prev[j - 1] + 1;
                let run = &a[i - cur[j]..i];
                // A CJK character names far more than a Latin letter does.
                let weight: usize = run.iter().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
                if weight > best_weight {
                    best_weight = weight;
                    best = cur[j];
                }
            }
        }
        prev = cur;
    }
    if best_weight >= 4 {
        best
    } else {
        0
    }
}

/// Ranks the buyer's orders for a message: an order number in the text first; then the best
/// product-name match; then paid unshipped orders (overdue before on time, each by promised ship
/// time, earliest first); then the rest, most recent first, closed orders last.
pub fn rank<'a>(text: &str, orders: &'a [Order], now: Millis) -> Vec<Ranked<'a>> {
    let numbers = order_numbers_in(text);
    let norm = normalize(matched_part(text));
    let mut keyed: Vec<(Ranked<'a>, (u8, i64, i64))> = orders
        .iter()
        .map(|order| {
            let node = order.node_at(now);
            let promised = order.promised_ship_by.unwrap_or(i64::MAX);
            if numbers.iter().any(|n| n == order.order_id.as_str()) {
                return (
                    Ranked {
                        order,
                        reason: GuessReason::OrderNumberInText,
                    },
                    (0, 0, -order.created_at),
                );
            }
            let matched = product_match(&norm, order);
            if matched > 0 {
                return (
                    Ranked {
                        order,
                        reason: GuessReason::ProductName,
                    },
                    (1, -(matched as i64), -order.created_at),
                );
            }
            match node {
                OrderNode::Overdue => (
                    Ranked {
                        order,
                        reason: GuessReason::Urgency,
                    },
                    (2, promised, -order.created_at),
                ),
                OrderNode::AwaitingShipment => (
                    Ranked {
                        order,
                        reason: GuessReason::Urgency,
                    },
                    (3, promised, -order.created_at),
                ),
                OrderNode::Closed => (
                    Ranked {
                        order,
                        reason: GuessReason::Recency,
                    },
                    (5, -order.created_at, 0),
                ),
                _ => (
                    Ranked {
                        order,
                        reason: GuessReason::Recency,
                    },
                    (4, -order.created_at, 0),
                ),
            }
        })
        .collect();
    keyed.sort_by(|a, b| match a.1.cmp(&b.1) {
        Ordering::Equal => a.0.order.order_id.cmp(&b.0.order.order_id),
        other => other,
    });
    keyed.into_iter().map(|(r, _)| r).collect()
}

/// Builds the card for a message, or None when the buyer has no order in this shop.
pub fn prediction_card(
    conversation_id: &ConversationId,
    sent_as: Option<&UserId>,
    text: &str,
    orders: &[Order],
    now: Millis,
) -> Option<PredictionCard> {
    let ranked = rank(text, orders, now);
    let (first, rest) = ranked.split_first()?;
    Some(PredictionCard {
        card_id: CardId::generate(),
        conversation_id: conversation_id.clone(),
        created_at: now,
        sent_as: sent_as.cloned(),
        guess: OrderSummary::of(first.order, now),
        reason: first.reason,
        others: rest
            .iter()
            .take(MAX_CARD_ORDERS - 1)
            .map(|r| OrderSummary::of(r.order, now))
            .collect(),
        prompt: "亲，请问您想咨询的是这笔订单吗？如果不是，可以在下面选择其他订单哦～".into(),
        answer: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::Fen;
    use crate::model::order::fixtures::*;
    use crate::model::order::OrderItem;
    use crate::model::time::{DAY, HOUR};

    fn ids(ranked: &[Ranked]) -> Vec<String> {
        ranked
            .iter()
            .map(|r| r.order.order_id.to_string())
            .collect()
    }

    fn shop_orders() -> Vec<Order> {
        let mut awaiting_soon = order_in("100000000002", OrderNode::AwaitingShipment);
        awaiting_soon.promised_ship_by = Some(T0 + 2 * HOUR);
        let mut awaiting_late = order_in("100000000003", OrderNode::AwaitingShipment);
        awaiting_late.promised_ship_by = Some(T0 + 2 * DAY);
        let mut overdue_little = order_in("100000000004", OrderNode::Overdue);
        overdue_little.promised_ship_by = Some(T0 - HOUR);
        let mut overdue_much = order_in("100000000005", OrderNode::Overdue);
        overdue_much.promised_ship_by = Some(T0 - DAY);
        let mut shipped_new = order_in("100000000006", OrderNode::Shipped);
        shipped_new.created_at = T0 - HOUR;
        let mut closed_newest = order_in("100000000007", OrderNode::Closed);
        closed_newest.created_at = T0 - 1;
        let mut mug = order_in("100000000008", OrderNode::Delivered);
        mug.items = vec![OrderItem {
            name: "北欧陶瓷马克杯 350ml".into(),
            quantity: 2,
            unit_price: Fen(3900),
        }];
        vec![
            awaiting_late,
            shipped_new,
            overdue_little,
            closed_newest,
            awaiting_soon,
            mug,
            overdue_much,
        ]
    }

    #[test]
    fn urgency_then_recency_then_closed() {
        let orders = shop_orders();
        let ranked = rank("什么时候发货", &orders, T0);
        assert_eq!(
            ids(&ranked),
            [
                "100000000005", // most overdue
                "100000000004",
                "100000000002", // nearest deadline
                "100000000003",
                "100000000006", // most recent of the rest
                "100000000008",
                "100000000007", // closed last
            ]
        );
        assert_eq!(ranked[0].reason, GuessReason::Urgency);
    }

    /// The first guess for `text` among the shop's orders: its order number and why.
    fn top_guess(text: &str) -> (String, GuessReason) {
        let orders = shop_orders();
        let ranked = rank(text, &orders, T0);
        (ranked[0].order.order_id.to_string(), ranked[0].reason)
    }

    #[test]
    fn an_order_number_in_the_text_wins() {
        let orders = shop_orders();
        assert_eq!(
            top_guess("订单100000000006 怎么还不发货"),
            ("100000000006".into(), GuessReason::OrderNumberInText)
        );
        // full-width digits count too
        let ranked = rank("１００００００００００３发了吗", &orders, T0);
        assert_eq!(ranked[0].order.order_id.as_str(), "100000000003");
    }

    #[test]
    fn a_product_name_beats_urgency() {
        assert_eq!(
            top_guess("我的马克杯什么时候发"),
            ("100000000008".into(), GuessReason::ProductName)
        );
    }

    #[test]
    fn one_shared_character_is_not_a_product_match() {
        let orders = shop_orders();
        // "杯" alone, or a single Latin letter, names nothing.
        assert_eq!(product_match(&normalize("一杯水"), &orders[5]), 0);
        assert_eq!(product_match(&normalize("ml"), &orders[5]), 0);
    }

    #[test]
    fn card_lists_the_guess_and_the_others() {
        let orders = shop_orders();
        let conv = ConversationId::parse("c1").unwrap();
        let card = prediction_card(&conv, None, "发货了吗", &orders, T0).unwrap();
        assert_eq!(card.guess.order_id.as_str(), "100000000005");
        assert_eq!(card.guess.node, OrderNode::Overdue);
        assert_eq!(card.others.len(), orders.len() - 1);
        assert!(card.lists(&OrderId::parse("100000000007").unwrap()));
        assert!(!card.lists(&OrderId::parse("999999999999").unwrap()));
        assert!(prediction_card(&conv, None, "发货了吗", &[], T0).is_none());
    }

    #[test]
    fn a_card_holds_at_most_ten_orders() {
        let orders: Vec<Order> = (0..15)
            .map(|i| order_in(&format!("2000000000{i:02}"), OrderNode::Unpaid))
            .collect();
        let conv = ConversationId::parse("c1").unwrap();
        let card = prediction_card(&conv, None, "发货了吗", &orders, T0).unwrap();
        assert_eq!(card.others.len(), MAX_CARD_ORDERS - 1);
    }

    #[test]
    fn product_names_are_matched_in_the_first_characters_only() {
        let padding = "请问一下".repeat(MATCH_CHARS / 4);
        assert_eq!(padding.chars().count(), MATCH_CHARS);
        assert_eq!(
            top_guess(&format!("马克杯{padding}")),
            ("100000000008".into(), GuessReason::ProductName)
        );
        // The same name past the capped part matches nothing: the guess falls back to urgency.
        assert_eq!(
            top_guess(&format!("{padding}马克杯")),
            ("100000000005".into(), GuessReason::Urgency)
        );
    }

    #[test]
    fn at_most_three_distinct_order_numbers_are_taken_from_a_message() {
        assert_eq!(
            order_numbers_in("100000000001 100000000001，100000000002 100000000003 100000000004"),
            ["100000000001", "100000000002", "100000000003"]
        );
        assert!(order_numbers_in("12345 就这个").is_empty());
    }
}
