//! Overdue-shipment compensation (超时发货赔付): a confident 催发货 question about an order that,
//! at the moment it was asked, was paid, not shipped and past its promised ship time, earns the buyer
//! one 3-yuan coupon, paid by the platform up front and deducted from the shop's deposit (保证金).
//! Once per order, whatever the number of questions; a deposit may go below zero (arrears).

use crate::intent::Classification;
use crate::model::conversation::{Message, MessageBody, Sender};
use crate::model::ids::{ConversationId, MessageId, OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::order::{Order, OrderNode};
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};

/// The coupon: 300 fen.
pub const COUPON: Fen = Fen::OVERDUE_COUPON;

/// Due compensations are spread over this many index partitions, so no one partition is hot.
pub const DUE_SHARDS: u32 = 16;

/// The rule: does this question, asked at `asked_at`, earn a coupon for `order`? The engine's
/// payout decision ([`Classification::pays`]) decides for the message; intake and the capture at
/// the card's answer both come here (the capture with the decision stored in `LastIntent`).
pub fn owed(order: &Order, classification: &Classification, asked_at: Millis) -> bool {
    owed_for(order, classification.pays(), asked_at)
}

/// The rule, from the payout decision of the question.
pub fn owed_for(order: &Order, payout_trigger: bool, asked_at: Millis) -> bool {
    payout_trigger && order.node_at(asked_at) == OrderNode::Overdue
}

/// Which index partition an order's due compensation lives in: stable, spread evenly.
pub fn shard_of(order: &OrderId) -> u32 {
    let hash = order
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % DUE_SHARDS as u64) as u32
}

/// A compensation the rule says is owed, waiting for the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCompensation {
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    pub conversation_id: ConversationId,
    /// The question that earned it (kept for disputes).
    pub message_id: MessageId,
    pub asked_at: Millis,
    pub amount: Fen,
}

impl DueCompensation {
    pub fn new(
        order: &Order,
        conversation: &ConversationId,
        message: &MessageId,
        asked_at: Millis,
    ) -> Self {
        DueCompensation {
            order_id: order.order_id.clone(),
            shop_id: order.shop_id.clone(),
            buyer_id: order.buyer_id.clone(),
            conversation_id: conversation.clone(),
            message_id: message.clone(),
            asked_at,
            amount: COUPON,
        }
    }

    pub fn shard(&self) -> u32 {
        shard_of(&self.order_id)
    }
}

/// What a payout attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayOutcome {
    /// Paid now; the shop's deposit after the deduction.
    Paid { balance_after: Fen },
    /// Someone (another sweep, an earlier delivery) already paid it: nothing to do.
    AlreadyPaid,
    /// The shop's deposit changed since it was read: read again and retry.
    DepositMoved,
}

/// A sweep's counts, logged as structured JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    pub examined: u64,
    pub paid: u64,
    pub already_paid: u64,
    /// Attempts repeated after a moved deposit or a retryable fault.
    pub retries: u64,
    pub fen_paid: i64,
}

impl SweepReport {
    /// Adds another report's counts to this one.
    pub fn add(&mut self, other: &SweepReport) {
        self.examined += other.examined;
        self.paid += other.paid;
        self.already_paid += other.already_paid;
        self.retries += other.retries;
        self.fen_paid += other.fen_paid;
    }
}

/// The system message the buyer reads in the conversation once the coupon is paid.
pub fn coupon_notice(order: &OrderId) -> String {
    format!(
        "很抱歉，您的订单（{order}）超过了承诺的发货时间。平台已先行向您发放{}无门槛优惠券作为补偿，可以在“我的-优惠券”里查看。",
        COUPON.yuan_text()
    )
}

/// The message that tells the buyer in the conversation that the coupon is paid: a coupon
/// notice from the platform. Decided here, so that every store writes the same words.
pub fn payout_notice(due: &DueCompensation, now: Millis) -> Message {
    Message::new(
        &due.conversation_id,
        Sender::System,
        MessageBody::Coupon {
            order_id: due.order_id.clone(),
            amount: due.amount,
            text: coupon_notice(&due.order_id),
        },
        now,
    )
}

/// A paid compensation, as the platform's day view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidCompensation {
    pub order_id: OrderId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    pub amount: Fen,
    pub asked_at: Millis,
    pub paid_at: Millis,
    /// The shop's deposit right after this deduction.
    pub balance_after: Fen,
}

/// A shop whose deposit is below zero (欠费).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopInArrears {
    pub shop_id: ShopId,
    pub name: String,
    pub deposit: Fen,
}

/// The platform's view of one Beijing day: payouts, their total, and every shop in arrears now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutReport {
    pub day: String,
    pub payouts: u64,
    pub total: Fen,
    /// (shop, payouts, fen), most paid first.
    pub by_shop: Vec<(ShopId, u64, Fen)>,
    pub in_arrears: Vec<ShopInArrears>,
}

impl PayoutReport {
    pub fn build(day: &str, paid: &[PaidCompensation], mut in_arrears: Vec<ShopInArrears>) -> Self {
        let mut by_shop: std::collections::BTreeMap<ShopId, (u64, i64)> = Default::default();
        for p in paid {
            let e = by_shop.entry(p.shop_id.clone()).or_default();
            e.0 += 1;
            e.1 += p.amount.0;
        }
        let mut by_shop: Vec<(ShopId, u64, Fen)> = by_shop
            .into_iter()
            .map(|(s, (n, f))| (s, n, Fen(f)))
            .collect();
        by_shop.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        in_arrears.sort_by(|a, b| {
            a.deposit
                .cmp(&b.deposit)
                .then_with(|| a.shop_id.cmp(&b.shop_id))
        });
        PayoutReport {
            day: day.to_string(),
            payouts: paid.len() as u64,
            total: Fen(paid.iter().map(|p| p.amount.0).sum()),
            by_shop,
            in_arrears,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::classify;
    use crate::model::order::fixtures::*;
    use crate::model::time::HOUR;

    #[test]
    fn owed_only_for_a_confident_urge_about_an_order_overdue_at_that_moment() {
        let urge = classify("什么时候发货");
        assert!(urge.confident);
        let overdue = order_in("100000000001", OrderNode::Overdue);
        assert!(owed(&overdue, &urge, T0));

        // On time when asked, even if late now.
        let promised = overdue.promised_ship_by.unwrap();
        assert!(!owed(&overdue, &urge, promised));
        assert!(owed(&overdue, &urge, promised + 1));

        // Shipped a minute after the question: still owed for that question.
        let mut shipped_later = overdue.clone();
        shipped_later.shipped_at = Some(T0 + 60_000);
        assert!(owed(&shipped_later, &urge, T0));
        // Shipped before the question: not owed.
        let mut shipped_before = overdue.clone();
        shipped_before.shipped_at = Some(T0 - 60_000);
        assert!(!owed(&shipped_before, &urge, T0));

        for node in [
            OrderNode::Unpaid,
            OrderNode::AwaitingShipment,
            OrderNode::Shipped,
            OrderNode::Closed,
            OrderNode::AfterSale,
        ] {
            assert!(
                !owed(&order_in("100000000001", node), &urge, T0),
                "{node:?}"
            );
        }
    }

    #[test]
    fn other_or_unsure_intents_earn_nothing() {
        let overdue = order_in("100000000001", OrderNode::Overdue);
        assert!(!owed(&overdue, &classify("快递到哪了"), T0));
        assert!(!owed(&overdue, &classify("不着急，慢慢发"), T0));
        let mut unsure = classify("什么时候发货");
        unsure.confident = false;
        assert!(!owed(&overdue, &unsure, T0 + HOUR));
    }

    /// Intake judges the message with `owed`; the capture at the card's answer judges the
    /// question later with `owed_for` and the decision kept in `LastIntent`: the same decision.
    #[test]
    fn intake_and_the_compensation_capture_use_the_same_decision() {
        use crate::model::conversation::LastIntent;
        use crate::model::ids::MessageId;
        let overdue = order_in("100000000001", OrderNode::Overdue);
        let mut paid = 0;
        for text in [
            "什么时候发货",
            "怎么还没发货啊 都五天了",
            "能不能分开发货",
            "发票什么时候发",
            "不急，慢慢发",
            "还没发的话帮我取消",
            "快递到哪了",
            "在吗",
        ] {
            let c = classify(text);
            // What intake stores for the capture, through the storage round trip.
            let stored = LastIntent {
                intent: c.intent,
                confidence: c.confidence,
                evidence: c.evidence.clone(),
                message_id: MessageId::generate(),
                at: T0,
                payout_trigger: c.payout_trigger,
                settled: None,
            };
            let stored: LastIntent =
                serde_json::from_value(serde_json::to_value(&stored).unwrap()).unwrap();
            assert_eq!(
                owed(&overdue, &c, T0),
                owed_for(&overdue, stored.payout_trigger, stored.at),
                "{text}: {c:?}"
            );
            assert_eq!(owed(&overdue, &c, T0), c.pays(), "{text}");
            paid += c.pays() as u32;
        }
        assert_eq!(paid, 2, "only the two real 催发货 lines pay");
    }

    #[test]
    fn shards_spread_and_are_stable() {
        let mut counts = [0u32; DUE_SHARDS as usize];
        for i in 0..1600 {
            let id = OrderId::parse(format!("69300000{i:08}")).unwrap();
            assert_eq!(shard_of(&id), shard_of(&id));
            counts[shard_of(&id) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (60..=140).contains(c)), "{counts:?}");
    }

    #[test]
    fn the_report_adds_up_exactly_in_fen() {
        let o = order_in("100000000001", OrderNode::Overdue);
        let paid = |shop: &str, n: usize| -> Vec<PaidCompensation> {
            (0..n)
                .map(|i| PaidCompensation {
                    order_id: OrderId::parse(format!("10000000{i:04}")).unwrap(),
                    shop_id: ShopId::parse(shop).unwrap(),
                    buyer_id: o.buyer_id.clone(),
                    amount: COUPON,
                    asked_at: T0,
                    paid_at: T0,
                    balance_after: Fen(0),
                })
                .collect()
        };
        let mut all = paid("a", 2);
        all.extend(paid("b", 5));
        let arrears = vec![
            ShopInArrears {
                shop_id: ShopId::parse("x").unwrap(),
                name: "x".into(),
                deposit: Fen(-300),
            },
            ShopInArrears {
                shop_id: ShopId::parse("y").unwrap(),
                name: "y".into(),
                deposit: Fen(-900),
            },
        ];
        let r = PayoutReport::build("2026-11-23", &all, arrears);
        assert_eq!((r.payouts, r.total), (7, Fen(2100)));
        assert_eq!(r.by_shop[0], (ShopId::parse("b").unwrap(), 5, Fen(1500)));
        assert_eq!(r.in_arrears[0].deposit, Fen(-900), "deepest arrears first");
    }

    #[test]
    fn the_notice_names_the_amount_exactly() {
        let text = coupon_notice(&OrderId::parse("123456").unwrap());
        assert!(text.contains("3元"), "{text}");
    }

    #[test]
    fn the_payout_notice_is_a_coupon_message_to_the_buyer() {
        let order = order_in("100000000001", OrderNode::Overdue);
        let conv = ConversationId::parse("c1").unwrap();
        let due = DueCompensation::new(&order, &conv, &MessageId::parse("m1").unwrap(), T0);
        let notice = payout_notice(&due, T0 + HOUR);
        assert_eq!(notice.conversation_id, conv);
        assert_eq!(notice.sender, Sender::System);
        assert_eq!(notice.sent_at, T0 + HOUR);
        assert!(notice.visible_to_buyer);
        assert_eq!(
            notice.body,
            MessageBody::Coupon {
                order_id: order.order_id.clone(),
                amount: COUPON,
                text: coupon_notice(&order.order_id),
            }
        );
    }
}
