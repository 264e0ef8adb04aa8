// A conversation's messages, as the buyer or as staff see them. The buyer's card and robot
// buttons call back into the buyer pane through `actions` (`answerCard`, `toggleOthers`,
// `rateRobot`), so this module knows no pane.

import { $, el } from "./dom.js";
import { beijing, yuan } from "./formatting.js";
import { state } from "./state.js";

/** One order line of a card; the node's label is the server's. */
function orderLine(o) {
  return el("div", { class: "order" },
    el("div", {}, el("div", { class: "title" }, o.title), el("div", { class: "oid" }, `订单号 ${o.order_id} · ${yuan(o.total)}`)),
    el("div", { class: "node" }, o.node_label));
}

// The buyer's view names an agent by the shop's display name (`name`); staff see the account.
function senderName(sender, viewer) {
  const role = sender && sender.role;
  if (role === "buyer") return viewer === "buyer" ? "我" : `买家 ${sender.id || ""}`;
  if (role === "agent") return viewer === "buyer" ? (sender.name || "客服") : `客服 ${sender.id || ""}`;
  if (role === "robot") return "飞鸽机器人";
  return "系统消息";
}

function cardView(card, viewer, messages, actions) {
  const b = state.buyer;
  const open = viewer === "buyer" && b.openCard && b.openCard.card_id === card.card_id;
  const box = el("div", { class: `card prediction${open ? "" : " closed"}`, "data-card-id": card.card_id },
    el("h4", {}, "订单预测卡片"),
    el("div", { class: "prompt" }, card.prompt),
    orderLine(card.guess));
  if (open) {
    box.append(el("div", { class: "buttons" },
      el("button", { class: "confirm", onclick: () => actions.answerCard({ via: "confirm", card_id: card.card_id }) }, "确认订单"),
      el("button", { class: "ghost pick-other", onclick: () => actions.toggleOthers() }, "选择其他订单")));
    if (b.showOthers) {
      const list = el("ul", { class: "others" });
      for (const o of card.others || []) {
        list.append(el("li", {}, orderLine(o),
          el("button", { class: "small", onclick: () => actions.answerCard({ via: "pick", card_id: card.card_id, order_id: o.order_id }) }, "选这个")));
      }
      if (!(card.others || []).length) list.append(el("li", { class: "muted" }, "没有其他订单"));
      box.append(list);
    }
  } else if (viewer === "buyer") {
    const answered = messages.some((m) => m.body && m.body.type === "card_answer" && m.body.card_id === card.card_id);
    box.append(el("div", { class: "muted" }, answered ? "已回复" : "已失效"));
  }
  return box;
}

// A message body carries its type and facts, not a title: the card titles are the console's.
function bodyView(m, viewer, messages, actions) {
  const b = m.body || {};
  switch (b.type) {
    case "text": return el("div", { class: "bubble" }, b.text);
    case "prediction_card": return cardView(b.card, viewer, messages, actions);
    case "card_answer":
      return el("div", { class: "card" }, el("h4", {}, b.answer === "confirmed" ? "已确认订单" : "已选择订单"), orderLine(b.order));
    case "order_card": return el("div", { class: "card" }, el("h4", {}, "订单卡片"), orderLine(b.order));
    case "promised_date_card":
      return el("div", { class: "card" }, el("h4", {}, "发货时效卡片"), el("div", {}, `订单 ${b.order_id}`), el("div", {}, `承诺发货时间：${b.promised_ship_time}`));
    case "logistics_card":
      return el("div", { class: "card" }, el("h4", {}, "物流卡片"),
        el("div", {}, `${b.courier} ${b.tracking_no}`), el("div", {}, b.status),
        b.signed_at ? el("div", { class: "muted" }, `签收时间：${b.signed_at}`) : null);
    case "after_sale_entry": return el("div", { class: "card" }, el("h4", {}, "售后入口"), el("div", {}, b.title));
    case "warehouse_reminder": return el("div", { class: "bubble" }, `内部备注：${b.urgent ? "已加急" : "已"}提醒仓库发货（订单 ${b.order_id}）`);
    case "shipping_delay_report": return el("div", { class: "bubble" }, `内部备注：已向平台报备发货延迟（订单 ${b.order_id}）`);
    case "address_change_form":
      return el("div", { class: "card" }, el("h4", {}, "修改地址卡片"), el("div", {}, `订单 ${b.order_id}`),
        el("div", { class: "muted" }, b.before_shipping ? "发货前可直接修改收货地址" : "已发货，将联系快递改派"));
    case "cancel_entry": return el("div", { class: "card" }, el("h4", {}, "取消订单入口"), el("div", {}, b.title));
    case "shipment_hold": return el("div", { class: "bubble" }, `内部备注：已通知仓库暂停发货（订单 ${b.order_id}）`);
    case "courier_intercept": return el("div", { class: "bubble" }, `内部备注：已申请快递拦截（${b.courier} ${b.tracking_no}）`);
    case "coupon": return el("div", { class: "bubble coupon" }, `【优惠券 ${yuan(b.amount)}】${b.text || ""}`);
    default: return el("div", { class: "bubble" }, b.text || JSON.stringify(b));
  }
}

function messageView(m, viewer, messages, actions) {
  const role = m.sender && m.sender.role;
  const mine = (viewer === "buyer" && role === "buyer") || (viewer === "agent" && role === "agent");
  const internal = m.visible_to_buyer === false;
  const cls = ["msg", mine ? "mine" : "", role === "system" ? "system" : "", role === "robot" ? "robot" : "", internal ? "internal" : ""].join(" ");
  const li = el("li", { class: cls, "data-message-id": m.message_id, "data-sender": role || "" },
    el("span", { class: "who" }, `${senderName(m.sender, viewer)} · ${beijing(m.sent_at)}`),
    bodyView(m, viewer, messages, actions));
  if (viewer === "buyer" && role === "robot" && !state.buyer.rated.has(m.message_id) && !handedOffAfter(messages, m)) {
    li.append(el("div", { class: "rating" }, el("span", {}, "这个回答有帮助吗？"),
      el("button", { class: "small ghost rate-good", onclick: () => actions.rateRobot(m.message_id, "good") }, "满意"),
      el("button", { class: "small ghost rate-bad", onclick: () => actions.rateRobot(m.message_id, "bad") }, "不满意")));
  }
  return li;
}

/** Whether the conversation was handed to a person (the system's 转接人工 message) since `m`. */
function handedOffAfter(messages, m) {
  return messages.some((x) => x.sender && x.sender.role === "system" && x.sent_at >= m.sent_at
    && x.body && x.body.type === "text" && x.body.text.includes("转接人工"));
}

/** Renders `messages` into the list `listId` for `viewer` ("buyer" or "agent"). */
export function renderMessages(listId, messages, viewer, actions = {}) {
  const list = $(listId);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...messages.map((m) => messageView(m, viewer, messages, actions)));
  if (atBottom || messages.length) list.scrollTop = list.scrollHeight;
}
