//! Solutions (智能助手方案): for an (intent, order node), the replies (推荐话术) and actions
//! (推荐操作) the agent's panel offers. They are data: official wording with `{variables}` filled
//! from the order. When a fact a reply needs is missing, its fallback sentence is used instead, so a
//! raw `{placeholder}` never reaches a buyer.

use crate::intent::IntentId;
use crate::model::money::Fen;
use crate::model::order::{CloseReason, Order, OrderNode};
use crate::model::time::{beijing_text, ceil_hour, deadline_text, Millis, DAY};
use serde::{Deserialize, Serialize};

/// Variables a reply may use. Anything else in braces is a defect the tests catch.
pub const VARIABLES: &[&str] = &[
    "order_id",
    "item_name",
    "promised_ship_time",
    "new_ship_time",
    "coupon_amount",
    "courier",
    "tracking_no",
    "shipped_time",
    "delivered_time",
    "close_reason",
];

/// A reply as written in the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTemplate {
    pub text: &'static str,
    /// Used when any variable of `text` has no value for this order. It may use only `order_id`
    /// and `item_name`, which every order has.
    pub fallback: &'static str,
}

/// What an action does when the agent sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// 发送订单卡片
    SendOrderCard,
    /// 提醒仓库发货 (to the shop's warehouse; the buyer does not see it)
    RemindWarehouse,
    /// 加急提醒仓库发货
    RemindWarehouseUrgent,
    /// 发送发货时效卡片
    SendPromisedDateCard,
    /// 报备发货延迟 (to the platform; the buyer does not see it)
    ReportShippingDelay,
    /// 发送物流卡片
    SendLogisticsCard,
    /// 发送物流卡片(含签收凭证)
    SendLogisticsCardWithProof,
    /// 发送售后入口
    SendAfterSaleEntry,
    /// 发送修改地址卡片 (the buyer fills in the new address)
    SendAddressChangeForm,
    /// 发送取消订单入口
    SendCancelEntry,
    /// 通知仓库暂停发货 (to the warehouse; the buyer does not see it)
    HoldShipment,
    /// 申请快递拦截 (to the courier; the buyer does not see it)
    RequestCourierIntercept,
}

impl ActionKind {
    /// Every action, in declaration order (openapi.yaml's `ActionId` lists the same ids).
    pub const ALL: [ActionKind; 12] = [
        ActionKind::SendOrderCard,
        ActionKind::RemindWarehouse,
        ActionKind::RemindWarehouseUrgent,
        ActionKind::SendPromisedDateCard,
        ActionKind::ReportShippingDelay,
        ActionKind::SendLogisticsCard,
        ActionKind::SendLogisticsCardWithProof,
        ActionKind::SendAfterSaleEntry,
        ActionKind::SendAddressChangeForm,
        ActionKind::SendCancelEntry,
        ActionKind::HoldShipment,
        ActionKind::RequestCourierIntercept,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ActionKind::SendOrderCard => "send_order_card",
            ActionKind::RemindWarehouse => "remind_warehouse",
            ActionKind::RemindWarehouseUrgent => "remind_warehouse_urgent",
            ActionKind::SendPromisedDateCard => "send_promised_date_card",
            ActionKind::ReportShippingDelay => "report_shipping_delay",
            ActionKind::SendLogisticsCard => "send_logistics_card",
            ActionKind::SendLogisticsCardWithProof => "send_logistics_card_with_proof",
            ActionKind::SendAfterSaleEntry => "send_after_sale_entry",
            ActionKind::SendAddressChangeForm => "send_address_change_form",
            ActionKind::SendCancelEntry => "send_cancel_entry",
            ActionKind::HoldShipment => "hold_shipment",
            ActionKind::RequestCourierIntercept => "request_courier_intercept",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionKind::SendOrderCard => "发送订单卡片",
            ActionKind::RemindWarehouse => "提醒仓库发货",
            ActionKind::RemindWarehouseUrgent => "加急提醒仓库发货",
            ActionKind::SendPromisedDateCard => "发送发货时效卡片",
            ActionKind::ReportShippingDelay => "报备发货延迟",
            ActionKind::SendLogisticsCard => "发送物流卡片",
            ActionKind::SendLogisticsCardWithProof => "发送物流卡片（含签收凭证）",
            ActionKind::SendAfterSaleEntry => "发送售后入口",
            ActionKind::SendAddressChangeForm => "发送修改地址卡片",
            ActionKind::SendCancelEntry => "发送取消订单入口",
            ActionKind::HoldShipment => "通知仓库暂停发货",
            ActionKind::RequestCourierIntercept => "申请快递拦截",
        }
    }

    /// Whether the buyer sees what this action sends.
    pub fn reaches_buyer(self) -> bool {
        !matches!(
            self,
            ActionKind::RemindWarehouse
                | ActionKind::RemindWarehouseUrgent
                | ActionKind::ReportShippingDelay
                | ActionKind::HoldShipment
                | ActionKind::RequestCourierIntercept
        )
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct SolutionTemplate {
    pub intent: IntentId,
    pub node: OrderNode,
    pub replies: &'static [ReplyTemplate],
    pub actions: &'static [ActionKind],
}

impl SolutionTemplate {
    /// Stable id: "urge_shipment.overdue".
    pub fn id(&self) -> String {
        format!("{}.{}", self.intent.as_str(), self.node.as_str())
    }
}

use ActionKind::*;
use OrderNode::*;

const fn reply(text: &'static str, fallback: &'static str) -> ReplyTemplate {
    ReplyTemplate { text, fallback }
}

/// The platform's official solutions for 催发货, one per order node.
pub const CATALOGUE: &[SolutionTemplate] = &[
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Unpaid,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）还没有付款哦～付款成功后我们会尽快为您安排发货，点开订单卡片就能直接付款。",
            "亲，您这笔订单（{order_id}）还没有付款哦～付款成功后我们会尽快为您安排发货。",
        )],
        actions: &[SendOrderCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，您的订单已付款成功，我们会在{promised_ship_time}为您发货，请您耐心等待。发货后可以在订单详情里查看物流哦～",
            "亲，您的订单已付款成功，我们会在承诺的发货时间内尽快为您发货，请您耐心等待。发货后可以在订单详情里查看物流哦～",
        )],
        actions: &[RemindWarehouse, SendPromisedDateCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Overdue,
        replies: &[reply(
            "非常抱歉，您的订单没能在承诺的{promised_ship_time}发出，给您添麻烦了！我们已经加急处理，预计{new_ship_time}发出。平台已先行向您发放{coupon_amount}优惠券作为补偿，可以在“我的-优惠券”里查看。",
            "非常抱歉，您的订单（{order_id}）没能按时发出，给您添麻烦了！我们已经加急处理，会尽快为您发出，发出后第一时间通知您。",
        )],
        actions: &[RemindWarehouseUrgent, ReportShippingDelay],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Shipped,
        replies: &[reply(
            "亲，您的订单已经发货啦！快递公司：{courier}，运单号：{tracking_no}。点开下方的物流卡片就能查看实时物流～",
            "亲，您的订单已经发货啦！物流信息可以在订单详情里查看～",
        )],
        actions: &[SendLogisticsCard],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Delivered,
        replies: &[reply(
            "亲，物流显示您的订单已于{delivered_time}签收（{courier}，运单号：{tracking_no}）。如果还没拿到，麻烦看看门口、快递柜或驿站，找不到的话随时告诉我们，马上帮您核实～",
            "亲，物流显示您的订单已经签收了。如果还没拿到，麻烦看看门口、快递柜或驿站，找不到的话随时告诉我们，马上帮您核实～",
        )],
        actions: &[SendLogisticsCardWithProof],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: AfterSale,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）正在售后处理中，可以在“订单详情-售后进度”里查看最新进展，点开售后入口也能直接查看。有任何问题随时联系我们～",
            "亲，您这笔订单（{order_id}）正在售后处理中，可以在“订单详情-售后进度”里查看最新进展～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::UrgeShipment,
        node: Closed,
        replies: &[reply(
            "亲，您这笔订单（{order_id}）{close_reason}，所以不会再发货了。如果还需要的话，可以重新下单，我们会尽快为您安排发货～",
            "亲，您这笔订单（{order_id}）已经关闭，所以不会再发货了。如果还需要的话，可以重新下单，我们会尽快为您安排发货～",
        )],
        actions: &[SendOrderCard],
    },

    // 查物流: by node, with the courier and tracking facts once shipped.
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: Unpaid,
        replies: &[reply(
            "亲，这笔订单（{order_id}）还没有付款，所以暂时还没有物流信息哦～付款后我们会尽快为您安排发货。",
            "亲，这笔订单（{order_id}）还没有付款，所以暂时还没有物流信息哦～付款后我们会尽快为您安排发货。",
        )],
        actions: &[SendOrderCard],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，您的订单还在仓库打包中，暂时还没有物流信息。我们会在{promised_ship_time}发出，发出后就能查看物流啦～",
            "亲，您的订单（{order_id}）还在仓库打包中，暂时还没有物流信息，我们会在承诺的时间内尽快发出～",
        )],
        actions: &[RemindWarehouse, SendPromisedDateCard],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: Overdue,
        replies: &[reply(
            "非常抱歉，您的订单还没有发出，所以暂时查不到物流。我们已经加急处理，预计{new_ship_time}发出，发出后第一时间通知您～",
            "非常抱歉，您的订单（{order_id}）还没有发出，我们已经加急处理，发出后第一时间通知您～",
        )],
        actions: &[RemindWarehouseUrgent, ReportShippingDelay],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: Shipped,
        replies: &[reply(
            "亲，您的包裹正在路上～快递公司：{courier}，运单号：{tracking_no}，{shipped_time}发出。点开物流卡片可以看到实时进度。",
            "亲，您的包裹已经发出，正在路上～在订单详情里可以看到实时物流进度。",
        )],
        actions: &[SendLogisticsCard],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: Delivered,
        replies: &[reply(
            "亲，物流显示包裹已于{delivered_time}签收（{courier}，运单号：{tracking_no}）。如果没收到，麻烦先看看门口、快递柜或驿站，还是找不到的话告诉我们，马上帮您联系快递核实～",
            "亲，物流显示包裹已经签收了。如果没收到，麻烦先看看门口、快递柜或驿站，还是找不到的话告诉我们，马上帮您联系快递核实～",
        )],
        actions: &[SendLogisticsCardWithProof],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: AfterSale,
        replies: &[reply(
            "亲，这笔订单（{order_id}）正在售后处理中，退回商品的物流进度可以在“订单详情-售后进度”里查看～",
            "亲，这笔订单（{order_id}）正在售后处理中，退回商品的物流进度可以在“订单详情-售后进度”里查看～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::Logistics,
        node: Closed,
        replies: &[reply(
            "亲，这笔订单（{order_id}）{close_reason}，不会再有物流信息了。如果还需要，可以重新下单哦～",
            "亲，这笔订单（{order_id}）已经关闭，不会再有物流信息了。如果还需要，可以重新下单哦～",
        )],
        actions: &[SendOrderCard],
    },
    // 修改地址: possible until the order ships; after that, redirect or intercept.
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: Unpaid,
        replies: &[reply(
            "亲，订单还没付款，可以在订单详情里直接改好收货地址再付款哦～也可以在下方的修改地址卡片里填写新地址。",
            "亲，订单还没付款，可以在订单详情里直接改好收货地址再付款哦～也可以在下方的修改地址卡片里填写新地址。",
        )],
        actions: &[SendAddressChangeForm],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，您的订单还没发货，可以修改地址～请在下方的修改地址卡片里填写新地址，提交后我们会按新地址发货。",
            "亲，您的订单还没发货，可以修改地址～请在下方的修改地址卡片里填写新地址，提交后我们会按新地址发货。",
        )],
        actions: &[SendAddressChangeForm, HoldShipment],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: Overdue,
        replies: &[reply(
            "亲，您的订单还没发出，现在还来得及改地址～请在下方的修改地址卡片里填写新地址，我们会按新地址尽快发货，预计{new_ship_time}发出。",
            "亲，您的订单还没发出，现在还来得及改地址～请在下方的修改地址卡片里填写新地址，我们会按新地址尽快发货。",
        )],
        actions: &[SendAddressChangeForm, RemindWarehouseUrgent],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: Shipped,
        replies: &[reply(
            "亲，您的订单已经发货了（{courier}，运单号：{tracking_no}），地址没法直接修改。我们马上帮您联系快递改派，如果改派不成功，也可以等快递员联系您时协商转寄～",
            "亲，您的订单已经发货了，地址没法直接修改。我们马上帮您联系快递改派，如果改派不成功，也可以等快递员联系您时协商转寄～",
        )],
        actions: &[RequestCourierIntercept, SendLogisticsCard],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: Delivered,
        replies: &[reply(
            "亲，包裹已于{delivered_time}签收，没办法再修改地址了。如果不是您本人签收的，请告诉我们，马上帮您核实～",
            "亲，包裹已经签收，没办法再修改地址了。如果不是您本人签收的，请告诉我们，马上帮您核实～",
        )],
        actions: &[SendLogisticsCardWithProof],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: AfterSale,
        replies: &[reply(
            "亲，这笔订单（{order_id}）正在售后处理中，暂时不能修改收货地址。如果是换货，新的收货地址可以在“售后详情”里填写～",
            "亲，这笔订单（{order_id}）正在售后处理中，暂时不能修改收货地址。如果是换货，新的收货地址可以在“售后详情”里填写～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::ChangeAddress,
        node: Closed,
        replies: &[reply(
            "亲，这笔订单（{order_id}）{close_reason}，不用再改地址了。重新下单的时候记得选对收货地址哦～",
            "亲，这笔订单（{order_id}）已经关闭，不用再改地址了。重新下单的时候记得选对收货地址哦～",
        )],
        actions: &[SendOrderCard],
    },
    // 取消订单: free before shipping; after that, refuse the parcel or return it.
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: Unpaid,
        replies: &[reply(
            "亲，订单还没付款，不会扣款的～您可以在订单详情里直接点“取消订单”，超时未付款也会自动取消。",
            "亲，订单还没付款，不会扣款的～您可以在订单详情里直接点“取消订单”，超时未付款也会自动取消。",
        )],
        actions: &[SendCancelEntry],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，您的订单还没发货，可以直接取消，款项会原路退回～点开下方的取消订单入口就能操作，我们这边也先帮您暂停发货。",
            "亲，您的订单还没发货，可以直接取消，款项会原路退回～点开下方的取消订单入口就能操作，我们这边也先帮您暂停发货。",
        )],
        actions: &[SendCancelEntry, HoldShipment],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: Overdue,
        replies: &[reply(
            "非常抱歉让您久等了！订单还没发出，现在可以直接取消，款项会原路退回。如果您还想要，我们已经加急处理，预计{new_ship_time}发出。",
            "非常抱歉让您久等了！订单还没发出，现在可以直接取消，款项会原路退回。如果您还想要，我们已经加急处理，会尽快为您发出。",
        )],
        actions: &[SendCancelEntry, HoldShipment],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: Shipped,
        replies: &[reply(
            "亲，订单已经发货（{courier}，运单号：{tracking_no}），没法直接取消了～我们先帮您申请快递拦截；拦截不成功的话，您可以拒收，或者签收后申请退货退款。",
            "亲，订单已经发货，没法直接取消了～我们先帮您申请快递拦截；拦截不成功的话，您可以拒收，或者签收后申请退货退款。",
        )],
        actions: &[RequestCourierIntercept, SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: Delivered,
        replies: &[reply(
            "亲，订单已经签收，不能取消了～如果不想要了，可以在订单详情里申请退货退款，我们收到退货后会尽快为您退款。",
            "亲，订单已经签收，不能取消了～如果不想要了，可以在订单详情里申请退货退款，我们收到退货后会尽快为您退款。",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: AfterSale,
        replies: &[reply(
            "亲，这笔订单（{order_id}）已经在售后处理中了，不用再单独取消，进展可以在“订单详情-售后进度”里查看～",
            "亲，这笔订单（{order_id}）已经在售后处理中了，不用再单独取消，进展可以在“订单详情-售后进度”里查看～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::CancelOrder,
        node: Closed,
        replies: &[reply(
            "亲，这笔订单（{order_id}）{close_reason}，不需要再取消了～",
            "亲，这笔订单（{order_id}）已经关闭，不需要再取消了～",
        )],
        actions: &[SendOrderCard],
    },
    // 退款退货: refund only before shipping, return and refund after.
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: Unpaid,
        replies: &[reply(
            "亲，这笔订单还没付款，没有产生扣款，不需要退款哦～不想要的话直接取消订单就可以。",
            "亲，这笔订单还没付款，没有产生扣款，不需要退款哦～不想要的话直接取消订单就可以。",
        )],
        actions: &[SendCancelEntry],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: AwaitingShipment,
        replies: &[reply(
            "亲，订单还没发货，可以直接申请仅退款，审核通过后款项原路退回～点开下方的售后入口就能申请。",
            "亲，订单还没发货，可以直接申请仅退款，审核通过后款项原路退回～点开下方的售后入口就能申请。",
        )],
        actions: &[SendAfterSaleEntry, HoldShipment],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: Overdue,
        replies: &[reply(
            "非常抱歉订单没能按时发出！您可以直接申请仅退款，我们会优先处理，款项原路退回～",
            "非常抱歉订单没能按时发出！您可以直接申请仅退款，我们会优先处理，款项原路退回～",
        )],
        actions: &[SendAfterSaleEntry, HoldShipment],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: Shipped,
        replies: &[reply(
            "亲，包裹已经在路上了（{courier}，运单号：{tracking_no}）。您可以拒收，包裹退回后我们马上退款；也可以签收后在售后入口申请退货退款～",
            "亲，包裹已经在路上了。您可以拒收，包裹退回后我们马上退款；也可以签收后在售后入口申请退货退款～",
        )],
        actions: &[SendAfterSaleEntry, RequestCourierIntercept],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: Delivered,
        replies: &[reply(
            "亲，签收后可以在售后入口申请退货退款，寄回时请保持商品完好、配件齐全，我们收到退货后会尽快为您退款～",
            "亲，签收后可以在售后入口申请退货退款，寄回时请保持商品完好、配件齐全，我们收到退货后会尽快为您退款～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: AfterSale,
        replies: &[reply(
            "亲，您的售后申请（订单{order_id}）正在处理中，可以在“订单详情-售后进度”里查看最新进展，有新进展我们也会第一时间通知您～",
            "亲，您的售后申请（订单{order_id}）正在处理中，可以在“订单详情-售后进度”里查看最新进展，有新进展我们也会第一时间通知您～",
        )],
        actions: &[SendAfterSaleEntry],
    },
    SolutionTemplate {
        intent: IntentId::RefundReturn,
        node: Closed,
        replies: &[reply(
            "亲，这笔订单（{order_id}）{close_reason}。如果是退款，款项一般1–3个工作日原路退回，请留意账户～",
            "亲，这笔订单（{order_id}）已经关闭。如果是退款，款项一般1–3个工作日原路退回，请留意账户～",
        )],
        actions: &[SendOrderCard],
    },
];

/// The reply the panel shows when the buyer has no order in this shop yet.
pub const NO_ORDER_REPLY: &str =
    "亲，没有查到您在本店的订单呢，麻烦发一下订单号或者订单卡片，我马上帮您查询～";

/// The catalogue entry for an intent and node, if the assistant covers it.
pub fn lookup(intent: IntentId, node: OrderNode) -> Option<&'static SolutionTemplate> {
    CATALOGUE
        .iter()
        .find(|s| s.intent == intent && s.node == node)
}

/// The intents the assistant covers: the catalogue has a solution for every node of each.
pub const COVERED: [IntentId; 5] = [
    IntentId::UrgeShipment,
    IntentId::Logistics,
    IntentId::ChangeAddress,
    IntentId::CancelOrder,
    IntentId::RefundReturn,
];

/// Whether the assistant has solutions for this intent at all (otherwise the robot may answer).
pub fn covers(intent: IntentId) -> bool {
    COVERED.contains(&intent)
}

/// The catalogue entries of one intent, in node order.
pub fn solutions_of(intent: IntentId) -> impl Iterator<Item = &'static SolutionTemplate> {
    CATALOGUE.iter().filter(move |s| s.intent == intent)
}

/// The catalogue entry with this id ("urge_shipment.overdue").
pub fn by_id(solution_id: &str) -> Option<&'static SolutionTemplate> {
    CATALOGUE.iter().find(|s| s.id() == solution_id)
}

/// A variable's value for this order at `now`, or None when the fact is missing.
pub fn variable(name: &str, order: &Order, now: Millis) -> Option<String> {
    let nonempty = |s: &Option<String>| s.as_ref().filter(|s| !s.trim().is_empty()).cloned();
    match name {
        "order_id" => Some(order.order_id.to_string()),
        "item_name" => Some(order.title()),
        "promised_ship_time" => order.promised_ship_by.map(deadline_text),
        // A concrete new date: within a day from now, on the hour.
        "new_ship_time" => Some(deadline_text(ceil_hour(now + DAY))),
        "coupon_amount" => Some(Fen::OVERDUE_COUPON.yuan_text()),
        "courier" => nonempty(&order.courier),
        "tracking_no" => nonempty(&order.tracking_no),
        "shipped_time" => order.shipped_at.map(beijing_text),
        "delivered_time" => order.delivered_at.map(beijing_text),
        "close_reason" => order.close_reason.map(|r| {
            match r {
                CloseReason::Cancelled => "已经取消",
                CloseReason::Refunded => "已经退款关闭",
            }
            .to_string()
        }),
        _ => None,
    }
}

/// The names inside `{...}` in a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Fills every placeholder, or None if any has no value (or is not a known variable).
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = template.to_string();
    for name in placeholders(template) {
        let v = value(name)?;
        out = out.replacen(&format!("{{{name}}}"), &v, 1);
    }
    Some(out)
}

/// A reply ready for the agent: the filled text, or the filled fallback.
pub fn render_reply(reply: &ReplyTemplate, order: &Order, now: Millis) -> String {
    let value = |name: &str| variable(name, order, now);
    fill(reply.text, value)
        .or_else(|| fill(reply.fallback, value))
        // Only a broken catalogue gets here; the tests keep it from shipping. Never leak braces.
        .unwrap_or_else(|| reply.fallback.replace(['{', '}'], ""))
}

/// A solution rendered for one order: what the panel shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub solution_id: String,
    pub intent: IntentId,
    pub node: OrderNode,
    pub replies: Vec<RenderedReply>,
    pub actions: Vec<RenderedAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedReply {
    pub index: usize,
    pub text: String,
    /// "official" for the platform's reply, "shop" for the shop's rewrite of it, "shop_extra"
    /// for a reply the shop added.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedAction {
    pub action_id: ActionKind,
    pub label: String,
    pub reaches_buyer: bool,
}

pub fn render(template: &SolutionTemplate, order: &Order, now: Millis) -> Solution {
    render_with(template, order, now, None)
}

/// Renders a solution with a shop's replies in place of the official ones, when it has edited
/// them (see `model::replies`). The shop's rewrite of the official reply falls back to the official
/// fallback sentence when a fact is missing; an extra reply that cannot be filled is left out.
pub fn render_with(
    template: &SolutionTemplate,
    order: &Order,
    now: Millis,
    edits: Option<&[String]>,
) -> Solution {
    let value = |name: &str| variable(name, order, now);
    let replies: Vec<(String, &str)> = match edits {
        Some(edits) if !edits.is_empty() => {
            let official = template.replies[0];
            let mut out = vec![(
                fill(&edits[0], value).unwrap_or_else(|| {
                    render_reply(
                        &ReplyTemplate {
                            text: official.fallback,
                            fallback: official.fallback,
                        },
                        order,
                        now,
                    )
                }),
                "shop",
            )];
            out.extend(
                edits[1..]
                    .iter()
                    .filter_map(|e| fill(e, value))
                    .map(|t| (t, "shop_extra")),
            );
            out
        }
        _ => template
            .replies
            .iter()
            .map(|r| (render_reply(r, order, now), "official"))
            .collect(),
    };
    Solution {
        solution_id: template.id(),
        intent: template.intent,
        node: template.node,
        replies: replies
            .into_iter()
            .enumerate()
            .map(|(index, (text, source))| RenderedReply {
                index,
                text,
                source: source.into(),
            })
            .collect(),
        actions: template
            .actions
            .iter()
            .map(|a| RenderedAction {
                action_id: *a,
                label: a.label().to_string(),
                reaches_buyer: a.reaches_buyer(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::order::fixtures::*;

    /// The 催发货 solution for `order`'s node at `T0`, filled with its facts.
    fn urge_shipment(order: &Order) -> Solution {
        let node = order.node_at(T0);
        render(lookup(IntentId::UrgeShipment, node).unwrap(), order, T0)
    }

    #[test]
    fn covered_intents_have_a_solution_for_all_seven_nodes() {
        for intent in COVERED {
            for node in OrderNode::ALL {
                let s = lookup(intent, node).expect("a solution per node");
                assert!(
                    !s.replies.is_empty() && !s.actions.is_empty(),
                    "{intent:?} {node:?}"
                );
            }
            assert!(covers(intent));
        }
        assert_eq!(CATALOGUE.len(), COVERED.len() * OrderNode::ALL.len());
        for intent in IntentId::ALL {
            assert_eq!(covers(intent), COVERED.contains(&intent), "{intent:?}");
        }
    }

    #[test]
    fn shipped_orders_get_courier_facts_in_every_covered_intent() {
        let o = order_in("100000000001", OrderNode::Shipped);
        for intent in [
            IntentId::Logistics,
            IntentId::ChangeAddress,
            IntentId::CancelOrder,
        ] {
            let s = render(lookup(intent, OrderNode::Shipped).unwrap(), &o, T0);
            assert!(
                s.replies[0].text.contains("ZT7312345678901"),
                "{intent:?}: {}",
                s.replies[0].text
            );
        }
        // Before shipping, an address change is offered as a form; after, the courier redirects.
        let before = lookup(IntentId::ChangeAddress, OrderNode::AwaitingShipment).unwrap();
        assert!(before.actions.contains(&ActionKind::SendAddressChangeForm));
        let after = lookup(IntentId::ChangeAddress, OrderNode::Shipped).unwrap();
        assert!(after.actions.contains(&ActionKind::RequestCourierIntercept));
        assert!(!after.actions.contains(&ActionKind::SendAddressChangeForm));
    }

    #[test]
    fn catalogue_uses_only_known_variables_and_safe_fallbacks() {
        for s in CATALOGUE {
            for r in s.replies {
                for p in placeholders(r.text) {
                    assert!(VARIABLES.contains(&p), "{}: unknown {{{p}}}", s.id());
                }
                for p in placeholders(r.fallback) {
                    assert!(
                        p == "order_id" || p == "item_name",
                        "{}: fallback may not need {{{p}}}",
                        s.id()
                    );
                }
            }
        }
    }

    #[test]
    fn replies_are_filled_with_the_orders_facts() {
        let o = order_in("100000000001", OrderNode::Shipped);
        let s = urge_shipment(&o);
        assert!(s.replies[0].text.contains("中通快递"));
        assert!(s.replies[0].text.contains("ZT7312345678901"));
        assert_eq!(s.solution_id, "urge_shipment.shipped");
        assert_eq!(s.actions[0].action_id, ActionKind::SendLogisticsCard);
    }

    #[test]
    fn overdue_reply_names_the_promise_a_new_date_and_the_coupon() {
        let o = order_in("100000000001", OrderNode::Overdue);
        let s = urge_shipment(&o);
        let text = &s.replies[0].text;
        assert!(
            text.contains(&deadline_text(o.promised_ship_by.unwrap())),
            "{text}"
        );
        assert!(text.contains(&deadline_text(ceil_hour(T0 + DAY))), "{text}");
        assert!(text.contains("3元优惠券"), "{text}");
    }

    #[test]
    fn missing_facts_use_the_fallback_and_never_leak_braces() {
        for t in CATALOGUE {
            let mut bare = order_in("100000000001", t.node);
            bare.courier = None;
            bare.tracking_no = Some("  ".into());
            bare.promised_ship_by = None;
            bare.close_reason = None;
            bare.shipped_at = None;
            bare.delivered_at = None;
            let s = render(t, &bare, T0);
            for r in &s.replies {
                assert!(
                    !r.text.contains('{') && !r.text.contains('}'),
                    "{}: {}",
                    t.id(),
                    r.text
                );
            }
        }
        let mut shipped = order_in("100000000001", OrderNode::Shipped);
        shipped.tracking_no = None;
        let s = urge_shipment(&shipped);
        assert_eq!(s.replies[0].text, CATALOGUE[3].replies[0].fallback);
    }

    #[test]
    fn a_shops_replies_replace_the_official_ones() {
        let t = lookup(IntentId::UrgeShipment, OrderNode::Shipped).unwrap();
        let o = order_in("100000000001", OrderNode::Shipped);
        let edits = vec![
            "单号{tracking_no}，已经在路上啦".to_string(),
            "还有问题随时找我～".to_string(),
        ];
        let s = render_with(t, &o, T0, Some(&edits));
        assert_eq!(s.replies.len(), 2);
        assert_eq!(s.replies[0].text, "单号ZT7312345678901，已经在路上啦");
        assert_eq!(s.replies[0].source, "shop");
        assert_eq!(s.replies[1].source, "shop_extra");
        assert_eq!(s.actions, render(t, &o, T0).actions);
        // A missing fact: the rewrite falls back to the official fallback; an extra is left out.
        let mut bare = o.clone();
        bare.tracking_no = None;
        let edits = vec![
            "单号{tracking_no}".to_string(),
            "{delivered_time}签收".to_string(),
        ];
        let s = render_with(t, &bare, T0, Some(&edits));
        assert_eq!(s.replies.len(), 1);
        assert_eq!(s.replies[0].text, t.replies[0].fallback);
    }

    #[test]
    fn fill_refuses_unknown_variables() {
        assert_eq!(fill("a {x} b", |_| None), None);
        assert_eq!(
            fill("a {x} b", |_| Some("1".into())).as_deref(),
            Some("a 1 b")
        );
        assert_eq!(placeholders("{a}{b} {c"), vec!["a", "b"]);
    }
}
