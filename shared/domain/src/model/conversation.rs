//! Conversations (会话) and their messages, as the chat platform delivers them to each side.

use crate::error::{Error, Result};
use crate::intent::{Classification, IntentId};
use crate::model::card::{CardAnswer, OrderSummary, PredictionCard};
use crate::model::ids::{CardId, ConversationId, MessageId, OrderId, ShopId, UserId};
use crate::model::money::Fen;
use crate::model::shop::{default_display_name, serving_agent, Agent, ServingRule};
use crate::model::time::Millis;
use serde::{Deserialize, Serialize};

/// The longest message text we accept, in characters (the chat box's own limit).
pub const MAX_TEXT_CHARS: usize = 1000;

/// Trims and checks a message text: 1 to MAX_TEXT_CHARS characters after trimming.
pub fn message_text(field: &str, raw: &str) -> Result<String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters (got {chars})"),
        ));
    }
    Ok(text.to_string())
}

/// A shop (店铺) as the assistant needs it. The platform onboards it (`PUT /shops/{shop_id}`:
/// name, agents, serving rule); its admin switches the robot. Its deposit (保证金) is not part of
/// it: money is kept apart ([`crate::ports::ShopStore::deposit`]), written only by payouts and
/// the platform's top-ups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shop {
    pub shop_id: ShopId,
    pub name: String,
    /// The shop's customer-service agents, with the names buyers see.
    pub agents: Vec<Agent>,
    /// Which agent serves a new conversation (shops stored before the rule: by buyer).
    #[serde(default)]
    pub serving_rule: ServingRule,
    /// 飞鸽机器人 switched on.
    pub robot_on: bool,
}

impl Shop {
    /// The agent a new conversation of `buyer` goes to, by the shop's serving rule.
    pub fn agent_for(&self, buyer: &UserId) -> Option<UserId> {
        serving_agent(&self.agents, &self.serving_rule, buyer).map(|a| a.agent_id.clone())
    }

    /// The name buyers see `agent` as: the display name the shop gave, else "{店名}客服".
    pub fn agent_display_name(&self, agent: &UserId) -> String {
        self.agents
            .iter()
            .find(|a| a.agent_id == *agent)
            .and_then(|a| a.display_name.clone())
            .unwrap_or_else(|| default_display_name(&self.name))
    }

    /// How a buyer sees one of the shop's agents (or the shop's service when none is named): by
    /// the shop's display name for them, never by their account.
    pub fn agent_name(&self, agent: Option<&UserId>) -> String {
        match agent {
            Some(agent) => self.agent_display_name(agent),
            None => default_display_name(&self.name),
        }
    }
}

/// The buyer's latest confident intent in a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastIntent {
    pub intent: IntentId,
    pub confidence: f64,
    pub evidence: Vec<String>,
    pub message_id: MessageId,
    pub at: Millis,
    /// The order this question was settled against (named in it, chosen on the card, or the
    /// confirmed order when asked): its compensation was judged for that order, and for no other
    /// (一个问题只赔一单). None until the order is known.
    #[serde(default)]
    pub settled: Option<OrderId>,
    /// The engine's payout decision for that message (`Classification::payout_trigger`): what
    /// the capture at the card's answer judges with. Absent in older items: no payout.
    #[serde(default)]
    pub payout_trigger: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub conversation_id: ConversationId,
    pub shop_id: ShopId,
    pub buyer_id: UserId,
    /// The agent currently serving; cards are sent in their name.
    pub serving_agent: Option<UserId>,
    /// The order the buyer confirmed; later questions resolve against it.
    pub confirmed_order: Option<OrderId>,
    /// The prediction card waiting for the buyer's answer.
    pub open_card: Option<PredictionCard>,
    pub last_intent: Option<LastIntent>,
    /// Since when the buyer has waited for a person: their first message no agent has answered
    /// yet (the robot's answers do not count). None while nobody is waiting.
    #[serde(default)]
    pub waiting_since: Option<Millis>,
    /// The buyer rated the robot badly and was handed to a person (转人工); the robot stays out.
    #[serde(default)]
    pub handed_off: bool,
    /// The text the buyer started waiting with, shortened, for the agents' queue.
    #[serde(default)]
    pub preview: Option<String>,
    /// The solution last put in front of the agents (its "shown" was counted).
    #[serde(default)]
    pub shown_solution: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Bumped by every change; a write succeeds only over the version it read.
    pub version: u64,
}

impl Conversation {
    pub fn open(id: &ConversationId, shop: &Shop, buyer: &UserId, now: Millis) -> Self {
        Conversation {
            conversation_id: id.clone(),
            shop_id: shop.shop_id.clone(),
            buyer_id: buyer.clone(),
            serving_agent: shop.agent_for(buyer),
            confirmed_order: None,
            open_card: None,
            last_intent: None,
            waiting_since: None,
            handed_off: false,
            preview: None,
            shown_solution: None,
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "id", rename_all = "snake_case")]
pub enum Sender {
    Buyer(UserId),
    Agent(UserId),
    /// The shop's chat robot (飞鸽机器人).
    Robot,
    System,
}

/// What a message carries. Cards are what the chat platform renders as cards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageBody {
    Text {
        text: String,
    },
    /// 订单预测卡片, sent in the serving agent's name.
    PredictionCard {
        card: PredictionCard,
    },
    /// The buyer's answer to a prediction card.
    CardAnswer {
        card_id: CardId,
        answer: CardAnswer,
        order: OrderSummary,
    },
    /// 订单卡片: sent by the buyer, or by the agent as an action.
    OrderCard {
        order: OrderSummary,
    },
    /// 发货时效卡片
    PromisedDateCard {
        order_id: OrderId,
        promised_ship_time: String,
    },
    /// 物流卡片
    LogisticsCard {
        order_id: OrderId,
        courier: String,
        tracking_no: String,
        status: String,
        /// Sign-off proof (签收凭证) time, when delivered.
        signed_at: Option<String>,
    },
    /// 售后入口
    AfterSaleEntry {
        order_id: OrderId,
        title: String,
    },
    /// To the warehouse; the buyer does not see it.
    WarehouseReminder {
        order_id: OrderId,
        urgent: bool,
    },
    /// To the platform; the buyer does not see it.
    ShippingDelayReport {
        order_id: OrderId,
    },
    /// 修改地址卡片: the buyer fills in the new address.
    AddressChangeForm {
        order_id: OrderId,
        /// Whether the address can still change before shipping (after it, the courier redirects).
        before_shipping: bool,
    },
    /// 取消订单入口
    CancelEntry {
        order_id: OrderId,
        title: String,
    },
    /// To the warehouse: hold this order's shipment; the buyer does not see it.
    ShipmentHold {
        order_id: OrderId,
    },
    /// To the courier: intercept or redirect the parcel; the buyer does not see it.
    CourierIntercept {
        order_id: OrderId,
        courier: String,
        tracking_no: String,
    },
    /// A coupon notice from the platform.
    Coupon {
        order_id: OrderId,
        amount: Fen,
        text: String,
    },
}

/// How long a queue preview of the buyer's text is, in characters.
pub const PREVIEW_CHARS: usize = 40;

/// The start of a text, for a preview.
pub fn preview(text: &str) -> String {
    let mut out: String = text.chars().take(PREVIEW_CHARS).collect();
    if text.chars().count() > PREVIEW_CHARS {
        out.push('…');
    }
    out
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message_id: MessageId,
    pub conversation_id: ConversationId,
    pub sent_at: Millis,
    pub sender: Sender,
    pub body: MessageBody,
    pub visible_to_buyer: bool,
    /// For buyer text: what the intent engine decided, kept for disputes.
    pub classification: Option<Classification>,
    /// For agent messages sent from the panel: which solution they came from.
    pub solution_id: Option<String>,
}

impl Message {
    pub fn new(
        conversation: &ConversationId,
        sender: Sender,
        body: MessageBody,
        now: Millis,
    ) -> Self {
        let visible_to_buyer = !matches!(
            body,
            MessageBody::WarehouseReminder { .. }
                | MessageBody::ShippingDelayReport { .. }
                | MessageBody::ShipmentHold { .. }
                | MessageBody::CourierIntercept { .. }
        );
        Message {
            message_id: MessageId::generate(),
            conversation_id: conversation.clone(),
            sent_at: now,
            sender,
            body,
            visible_to_buyer,
            classification: None,
            solution_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits_are_stated() {
        assert!(message_text("text", "  ").is_err());
        assert_eq!(message_text("text", " 你好 ").unwrap(), "你好");
        let long = "好".repeat(MAX_TEXT_CHARS + 1);
        let err = message_text("text", &long).unwrap_err();
        assert!(err.to_string().contains("at most 1000 characters"), "{err}");
        assert!(message_text("text", &"好".repeat(MAX_TEXT_CHARS)).is_ok());
    }

    #[test]
    fn a_conversation_goes_to_the_buyers_agent_whatever_its_id() {
        let shop = Shop {
            shop_id: ShopId::parse("s").unwrap(),
            name: "小鹿家居旗舰店".into(),
            agents: vec![
                Agent::new(UserId::parse("a").unwrap(), Some("小美")),
                Agent::new(UserId::parse("b").unwrap(), None),
            ],
            serving_rule: ServingRule::ByBuyer,
            robot_on: false,
        };
        let buyer = UserId::parse("buyer-zhang").unwrap();
        let agents: std::collections::HashSet<_> = (0..20)
            .map(|i| {
                let c = ConversationId::parse(format!("c{i}")).unwrap();
                Conversation::open(&c, &shop, &buyer, 0).serving_agent
            })
            .collect();
        assert_eq!(agents.len(), 1, "one buyer, one agent: {agents:?}");
        assert_eq!(
            shop.agent_display_name(&UserId::parse("a").unwrap()),
            "小美"
        );
        assert_eq!(
            shop.agent_display_name(&UserId::parse("b").unwrap()),
            "小鹿家居旗舰店客服"
        );
        assert_eq!(
            shop.agent_display_name(&UserId::parse("stranger").unwrap()),
            "小鹿家居旗舰店客服"
        );
    }

    #[test]
    fn a_shop_stored_before_display_names_and_rules_still_reads() {
        let old = serde_json::json!({
            "shop_id": "s", "name": "店", "agents": ["a", "b"], "robot_on": true, "deposit": 100
        });
        let shop: Shop = serde_json::from_value(old).unwrap();
        assert_eq!(shop.serving_rule, ServingRule::ByBuyer);
        assert_eq!(
            shop.agents[1],
            Agent::new(UserId::parse("b").unwrap(), None)
        );
    }

    #[test]
    fn internal_notes_are_hidden_from_the_buyer() {
        let c = ConversationId::parse("c").unwrap();
        let o = OrderId::parse("123456").unwrap();
        let m = Message::new(
            &c,
            Sender::System,
            MessageBody::WarehouseReminder {
                order_id: o,
                urgent: true,
            },
            0,
        );
        assert!(!m.visible_to_buyer);
    }
}
