//! Buyer intents (意图) and the first classifier.
//!
//! This first classifier is a small set of weighted phrase rules over normalised text: good enough
//! for the urge-shipment flow. The issue "A real intent engine" replaces the scoring; the types and
//! `classify` keep their shape.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentId {
    UrgeShipment,
    Logistics,
    ChangeAddress,
    CancelOrder,
    RefundReturn,
    Invoice,
    ProductQuestion,
    PricePromotion,
    ComplaintQuality,
    Other,
}

impl IntentId {
    pub const ALL: [IntentId; 10] = [
        IntentId::UrgeShipment,
        IntentId::Logistics,
        IntentId::ChangeAddress,
        IntentId::CancelOrder,
        IntentId::RefundReturn,
        IntentId::Invoice,
        IntentId::ProductQuestion,
        IntentId::PricePromotion,
        IntentId::ComplaintQuality,
        IntentId::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntentId::UrgeShipment => "urge_shipment",
            IntentId::Logistics => "logistics",
            IntentId::ChangeAddress => "change_address",
            IntentId::CancelOrder => "cancel_order",
            IntentId::RefundReturn => "refund_return",
            IntentId::Invoice => "invoice",
            IntentId::ProductQuestion => "product_question",
            IntentId::PricePromotion => "price_promotion",
            IntentId::ComplaintQuality => "complaint_quality",
            IntentId::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == raw)
    }

    /// The intent in the words an agent reads in the panel.
    pub fn label(self) -> &'static str {
        match self {
            IntentId::UrgeShipment => "什么时候发货",
            IntentId::Logistics => "查询物流",
            IntentId::ChangeAddress => "修改地址",
            IntentId::CancelOrder => "取消订单",
            IntentId::RefundReturn => "退款退货",
            IntentId::Invoice => "开发票",
            IntentId::ProductQuestion => "商品咨询",
            IntentId::PricePromotion => "价格优惠",
            IntentId::ComplaintQuality => "质量投诉",
            IntentId::Other => "其他",
        }
    }
}

/// What the classifier decided about one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub intent: IntentId,
    /// 0.0 ..= 1.0
    pub confidence: f64,
    /// False when the engine will not commit (too weak or too close): no popup, no payout trigger.
    pub confident: bool,
    /// The phrases that decided it, for the agent's panel and for disputes.
    pub evidence: Vec<String>,
}

/// Below this, a classification triggers nothing.
pub const CONFIDENCE_THRESHOLD: f64 = 0.6;

/// Full-width to half-width, lower case, a table of common Traditional characters to Simplified,
/// and white space dropped. Buyers mix all of these.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{3000}' => ' ',
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            if c.is_whitespace() {
                return None;
            }
            Some(traditional_to_simplified(c.to_ascii_lowercase()))
        })
        .collect()
}

fn traditional_to_simplified(c: char) -> char {
    const PAIRS: &[(char, char)] = &[
        ('發', '发'),
        ('貨', '货'),
        ('麼', '么'),
        ('甚', '什'),
        ('還', '还'),
        ('嗎', '吗'),
        ('時', '时'),
        ('沒', '没'),
        ('單', '单'),
        ('號', '号'),
        ('訂', '订'),
        ('購', '购'),
        ('買', '买'),
        ('賣', '卖'),
        ('運', '运'),
        ('遞', '递'),
        ('郵', '邮'),
        ('寄', '寄'),
        ('幾', '几'),
        ('幫', '帮'),
        ('們', '们'),
        ('這', '这'),
        ('個', '个'),
        ('說', '说'),
        ('問', '问'),
        ('詢', '询'),
        ('請', '请'),
        ('謝', '谢'),
        ('到', '到'),
        ('裡', '里'),
        ('裏', '里'),
        ('哪', '哪'),
        ('會', '会'),
        ('為', '为'),
        ('麽', '么'),
        ('隻', '只'),
        ('後', '后'),
        ('過', '过'),
        ('讓', '让'),
        ('趕', '赶'),
        ('緊', '紧'),
        ('慢', '慢'),
        ('急', '急'),
        ('著', '着'),
        ('從', '从'),
        ('東', '东'),
        ('給', '给'),
        ('寫', '写'),
        ('錯', '错'),
        ('換', '换'),
        ('邊', '边'),
        ('址', '址'),
        ('消', '消'),
        ('關', '关'),
        ('閉', '闭'),
        ('退', '退'),
        ('款', '款'),
        ('錢', '钱'),
        ('開', '开'),
        ('票', '票'),
        ('質', '质'),
        ('壞', '坏'),
        ('價', '价'),
        ('優', '优'),
        ('惠', '惠'),
        ('動', '动'),
        ('碼', '码'),
        ('顏', '颜'),
        ('色', '色'),
        ('尺', '尺'),
        ('庫', '库'),
        ('倉', '仓'),
        ('門', '门'),
        ('櫃', '柜'),
        ('簽', '签'),
        ('收', '收'),
        ('處', '处'),
        ('理', '理'),
        ('態', '态'),
        ('狀', '状'),
        ('點', '点'),
        ('麗', '丽'),
        ('臺', '台'),
        ('台', '台'),
        ('條', '条'),
        ('車', '车'),
        ('實', '实'),
        ('際', '际'),
        ('輸', '输'),
        ('體', '体'),
        ('兒', '儿'),
        ('啥', '啥'),
        ('等', '等'),
        ('久', '久'),
        ('遲', '迟'),
        ('準', '准'),
        ('備', '备'),
        ('該', '该'),
        ('應', '应'),
        ('於', '于'),
        ('誰', '谁'),
        ('氣', '气'),
        ('見', '见'),
        ('聽', '听'),
        ('講', '讲'),
        ('話', '话'),
        ('裝', '装'),
        ('包', '包'),
        ('嗯', '嗯'),
        ('囉', '啰'),
        ('喔', '哦'),
        ('愛', '爱'),
        ('貴', '贵'),
        ('便', '便'),
        ('宜', '宜'),
        ('滿', '满'),
        ('減', '减'),
        ('劵', '券'),
        ('紅', '红'),
        ('綠', '绿'),
    ];
    PAIRS
        .iter()
        .find(|(t, _)| *t == c)
        .map(|(_, s)| *s)
        .unwrap_or(c)
}

struct Rule {
    intent: IntentId,
    phrase: &'static str,
    weight: f64,
}

const fn r(intent: IntentId, phrase: &'static str, weight: f64) -> Rule {
    Rule {
        intent,
        phrase,
        weight,
    }
}

use IntentId::*;

const RULES: &[Rule] = &[
    // 催发货: asking when it ships, or pushing for it.
    r(UrgeShipment, "什么时候发", 3.0),
    r(UrgeShipment, "什么时候能发", 3.0),
    r(UrgeShipment, "啥时候发", 3.0),
    r(UrgeShipment, "啥时发", 3.0),
    r(UrgeShipment, "几时发", 3.0),
    r(UrgeShipment, "何时发", 3.0),
    r(UrgeShipment, "多久发", 3.0),
    r(UrgeShipment, "多久能发", 3.0),
    r(UrgeShipment, "哪天发", 3.0),
    r(UrgeShipment, "怎么还不发", 3.0),
    r(UrgeShipment, "怎么还没发", 3.0),
    r(UrgeShipment, "为什么还不发", 3.0),
    r(UrgeShipment, "还不发货", 3.0),
    r(UrgeShipment, "还没发货", 3.0),
    r(UrgeShipment, "还没发", 2.5),
    r(UrgeShipment, "还没有发", 2.5),
    r(UrgeShipment, "不发货", 2.5),
    r(UrgeShipment, "没发货", 2.0),
    r(UrgeShipment, "发货了吗", 3.0),
    r(UrgeShipment, "发货了没", 3.0),
    r(UrgeShipment, "发货没", 3.0),
    r(UrgeShipment, "发了吗", 2.5),
    r(UrgeShipment, "发了没", 2.5),
    r(UrgeShipment, "发出了吗", 2.5),
    r(UrgeShipment, "发出去了吗", 2.5),
    r(UrgeShipment, "能发货吗", 3.0),
    r(UrgeShipment, "可以发货吗", 3.0),
    r(UrgeShipment, "今天能发吗", 3.0),
    r(UrgeShipment, "今天发吗", 3.0),
    r(UrgeShipment, "明天能发吗", 3.0),
    r(UrgeShipment, "快点发", 3.0),
    r(UrgeShipment, "赶紧发", 3.0),
    r(UrgeShipment, "尽快发", 2.5),
    r(UrgeShipment, "催发货", 3.0),
    r(UrgeShipment, "催一下发货", 3.0),
    r(UrgeShipment, "发货?", 2.5),
    r(UrgeShipment, "发货吗", 2.5),
    r(UrgeShipment, "发货啊", 2.0),
    r(UrgeShipment, "等发货", 1.5),
    r(UrgeShipment, "拖着不发", 3.0),
    r(UrgeShipment, "when", 0.5),
    r(UrgeShipment, "ship", 1.5),
    r(UrgeShipment, "发货", 1.0),
    // 查物流: after shipping.
    r(Logistics, "到哪了", 3.0),
    r(Logistics, "到哪里了", 3.0),
    r(Logistics, "物流", 2.0),
    r(Logistics, "快递到", 2.0),
    r(Logistics, "什么时候到", 3.0),
    r(Logistics, "啥时候到", 3.0),
    r(Logistics, "几天到", 3.0),
    r(Logistics, "多久到", 3.0),
    r(Logistics, "单号", 1.5),
    r(Logistics, "查件", 2.0),
    r(Logistics, "没收到", 2.0),
    r(Logistics, "不动了", 2.0),
    r(Logistics, "派送", 2.0),
    r(Logistics, "tracking", 2.0),
    // 改地址
    r(ChangeAddress, "改地址", 3.5),
    r(ChangeAddress, "修改地址", 3.5),
    r(ChangeAddress, "地址写错", 3.5),
    r(ChangeAddress, "地址填错", 3.5),
    r(ChangeAddress, "换地址", 3.5),
    r(ChangeAddress, "换个地址", 3.5),
    r(ChangeAddress, "改收货", 3.5),
    r(ChangeAddress, "改一下地址", 3.5),
    r(ChangeAddress, "地址改", 3.0),
    r(ChangeAddress, "改电话", 3.0),
    // 取消订单
    r(CancelOrder, "取消订单", 3.5),
    r(CancelOrder, "取消一下", 3.0),
    r(CancelOrder, "不想要了", 3.0),
    r(CancelOrder, "不要了", 2.5),
    r(CancelOrder, "拍错了", 3.0),
    r(CancelOrder, "拍多了", 3.0),
    r(CancelOrder, "cancel", 3.0),
    r(CancelOrder, "取消", 2.0),
    // 退款退货
    r(RefundReturn, "退款", 3.0),
    r(RefundReturn, "退货", 3.0),
    r(RefundReturn, "换货", 3.0),
    r(RefundReturn, "退钱", 3.0),
    r(RefundReturn, "退回", 2.0),
    r(RefundReturn, "refund", 3.0),
    // 发票
    r(Invoice, "发票", 4.0),
    r(Invoice, "开票", 4.0),
    r(Invoice, "税号", 3.0),
    // 商品咨询
    r(ProductQuestion, "尺码", 3.0),
    r(ProductQuestion, "尺寸", 3.0),
    r(ProductQuestion, "多大", 2.0),
    r(ProductQuestion, "材质", 3.0),
    r(ProductQuestion, "面料", 3.0),
    r(ProductQuestion, "怎么用", 3.0),
    r(ProductQuestion, "有货吗", 3.0),
    r(ProductQuestion, "有现货", 2.5),
    r(ProductQuestion, "颜色", 2.0),
    r(ProductQuestion, "保质期", 3.0),
    r(ProductQuestion, "适合", 2.0),
    // 价格优惠
    r(PricePromotion, "优惠", 3.0),
    r(PricePromotion, "便宜", 3.0),
    r(PricePromotion, "降价", 3.0),
    r(PricePromotion, "券", 2.5),
    r(PricePromotion, "满减", 3.0),
    r(PricePromotion, "活动", 2.0),
    r(PricePromotion, "价格", 2.0),
    r(PricePromotion, "保价", 3.0),
    r(PricePromotion, "差价", 3.0),
    // 质量投诉
    r(ComplaintQuality, "质量", 3.0),
    r(ComplaintQuality, "破了", 3.0),
    r(ComplaintQuality, "坏了", 3.0),
    r(ComplaintQuality, "有问题", 2.0),
    r(ComplaintQuality, "假货", 3.5),
    r(ComplaintQuality, "投诉", 3.0),
    r(ComplaintQuality, "差评", 2.5),
    r(ComplaintQuality, "掉色", 3.0),
    r(ComplaintQuality, "起球", 3.0),
    r(ComplaintQuality, "异味", 3.0),
];

/// Statements that mention shipping but ask nothing of it ("不着急,慢慢发"), or praise it.
const SHIPPING_NEGATORS: &[&str] = &[
    "不着急",
    "不急",
    "慢慢发",
    "不用急",
    "不用催",
    "发货挺快",
    "发货很快",
    "发货好快",
    "发货速度快",
    "已经收到",
    "收到了",
];

/// Classifies one message on its own.
pub fn classify(text: &str) -> Classification {
    let norm = normalize(text);
    let mut scores = [0.0f64; 10];
    let mut evidence: Vec<Vec<String>> = vec![Vec::new(); 10];
    for rule in RULES {
        if norm.contains(rule.phrase) {
            let i = rule.intent as usize;
            scores[i] += rule.weight;
            evidence[i].push(rule.phrase.to_string());
        }
    }
    let negated: Vec<&str> = SHIPPING_NEGATORS
        .iter()
        .copied()
        .filter(|n| norm.contains(n))
        .collect();
    if !negated.is_empty() {
        scores[UrgeShipment as usize] = 0.0;
        evidence[UrgeShipment as usize].clear();
    }
    let mut ranked: Vec<usize> = (0..9).collect();
    ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let (top, second) = (ranked[0], ranked[1]);
    if scores[top] < 1.5 {
        return Classification {
            intent: Other,
            confidence: 0.5,
            confident: false,
            evidence: negated.into_iter().map(|n| format!("否定:{n}")).collect(),
        };
    }
    let total: f64 = scores.iter().sum::<f64>() + 1.0;
    let confidence = (scores[top] / total).clamp(0.0, 0.99);
    let margin = scores[top] - scores[second];
    Classification {
        intent: IntentId::ALL[top],
        confidence: (confidence * 1000.0).round() / 1000.0,
        confident: confidence >= CONFIDENCE_THRESHOLD && margin >= 1.0,
        evidence: std::mem::take(&mut evidence[top]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str) -> (IntentId, bool) {
        let c = classify(text);
        (c.intent, c.confident)
    }

    #[test]
    fn urge_shipment_phrasings() {
        for t in [
            "什么时候发货",
            "怎么还不发货啊!!",
            "发货了吗",
            "亲，我买的四件套啥时候发？",
            "你们到底什么時候發貨",
            "催一下发货，都三天了",
            "ＷＨＥＮ ship? 发货吗",
        ] {
            assert_eq!(intent(t), (UrgeShipment, true), "{t}");
        }
    }

    #[test]
    fn mentions_of_shipping_that_ask_nothing_are_not_urging() {
        for t in [
            "不着急,慢慢发",
            "发货挺快的，谢谢",
            "不急不急，你们慢慢发就好",
        ] {
            assert_ne!(intent(t).0, UrgeShipment, "{t}");
        }
    }

    #[test]
    fn other_intents() {
        assert_eq!(intent("快递到哪了").0, Logistics);
        assert_eq!(intent("地址写错了能改地址吗").0, ChangeAddress);
        assert_eq!(intent("我想开发票").0, Invoice);
        assert_eq!(intent("我要退款").0, RefundReturn);
        assert_eq!(intent("你好").0, Other);
    }

    #[test]
    fn normalize_folds_width_case_and_traditional() {
        assert_eq!(normalize("ＡＢＣ 發貨 嗎？"), "abc发货吗?");
    }

    #[test]
    fn every_intent_round_trips_its_id() {
        for i in IntentId::ALL {
            assert_eq!(IntentId::parse(i.as_str()), Some(i));
        }
    }
}
