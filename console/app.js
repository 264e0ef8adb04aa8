// 智能助手 · 本地工作台: a buyer pane and an agent pane over the local API (the same routes as the
// deployed HTTP API). Plain JS, no build step, no CDN.
"use strict";

const SHOP = "xiaolu-home";
const POLL_MS = 1500;
const $ = (id) => document.getElementById(id);

const ROLE_NAMES = { buyer: "买家", agent: "客服", shop_admin: "店铺管理员", platform: "平台运营" };
const ACTION_DONE = {
  send_order_card: "已发送订单卡片",
  send_promised_date_card: "已发送发货时效卡片",
  send_logistics_card: "已发送物流卡片",
  send_logistics_card_with_proof: "已发送物流卡片（含签收凭证）",
  send_after_sale_entry: "已发送售后入口",
  remind_warehouse: "已提醒仓库发货",
  remind_warehouse_urgent: "已加急提醒仓库发货",
  report_shipping_delay: "已报备发货延迟",
  send_address_change_form: "已发送修改地址卡片",
  send_cancel_entry: "已发送取消订单入口",
  hold_shipment: "已通知仓库暂停发货",
  request_courier_intercept: "已申请快递拦截",
};

const state = {
  identities: [],
  buyer: { sub: null, token: null, conv: null, openCard: null, showOthers: false, lastSig: "" },
  agent: { sub: null, role: null, token: null, conv: null, panel: null, panelSig: "", lastSig: "",
           copied: null, dismissedSig: null, robotOn: false },
};

// ---------------------------------------------------------------------------------------------
// the API

class ApiError extends Error {
  constructor(status, body) {
    const err = body && body.error;
    super((err && err.message) || (body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = err ? err.code : null;
  }
}

async function api(who, method, path, body) {
  const headers = {};
  if (who && who.token) headers.authorization = `Bearer ${who.token}`;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const resp = await fetch(path, { method, headers, body: payload });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

async function login(sub) {
  const r = await api(null, "POST", "/local/login", { sub });
  return r.token;
}

// ---------------------------------------------------------------------------------------------
// formatting: Beijing time, yuan

const bj = new Intl.DateTimeFormat("zh-CN", {
  timeZone: "Asia/Shanghai", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
});
function beijing(ms) {
  const parts = Object.fromEntries(bj.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.month}月${parts.day}日 ${parts.hour}:${parts.minute}`;
}
const yuan = (fen) => `¥${(Number(fen) / 100).toFixed(2)}`;
function waited(ms) {
  const m = Math.floor(ms / 60000);
  if (m < 1) return `已等待 ${Math.max(1, Math.floor(ms / 1000))} 秒`;
  if (m < 60) return `已等待 ${m} 分钟`;
  return `已等待 ${Math.floor(m / 60)} 小时 ${m % 60} 分钟`;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 2600);
}

function showError(id, e) {
  $(id).textContent = e ? (e.message || String(e)) : "";
}

// ---------------------------------------------------------------------------------------------
// messages

function orderLine(o) {
  return el("div", { class: "order" },
    el("div", {}, el("div", { class: "title" }, o.title), el("div", { class: "oid" }, `订单号 ${o.order_id} · ${yuan(o.total)}`)),
    el("div", { class: "node" }, o.node_label || o.node));
}

function senderName(sender, viewer) {
  const role = sender && sender.role;
  if (role === "buyer") return viewer === "buyer" ? "我" : `买家 ${sender.id || ""}`;
  if (role === "agent") return viewer === "buyer" ? "客服" : `客服 ${sender.id || ""}`;
  if (role === "robot") return "飞鸽机器人";
  return "系统消息";
}

function cardView(card, viewer) {
  const open = viewer === "buyer" && state.buyer.openCard && state.buyer.openCard.card_id === card.card_id;
  const box = el("div", { class: `card prediction${open ? "" : " closed"}`, "data-card-id": card.card_id },
    el("h4", {}, "订单预测卡片"),
    el("div", { class: "prompt" }, card.prompt || "请确认您咨询的订单"),
    orderLine(card.guess));
  if (open) {
    box.append(el("div", { class: "buttons" },
      el("button", { class: "confirm", onclick: () => answerCard({ via: "confirm", card_id: card.card_id }) }, "确认订单"),
      el("button", { class: "ghost pick-other", onclick: () => { state.buyer.showOthers = !state.buyer.showOthers; renderBuyer(true); } }, "选择其他订单")));
    if (state.buyer.showOthers) {
      const list = el("ul", { class: "others" });
      for (const o of card.others || []) {
        list.append(el("li", {}, orderLine(o),
          el("button", { class: "small", onclick: () => answerCard({ via: "pick", card_id: card.card_id, order_id: o.order_id }) }, "选这个")));
      }
      if (!(card.others || []).length) list.append(el("li", { class: "muted" }, "没有其他订单"));
      box.append(list);
    }
  } else if (viewer === "buyer") {
    const answered = buyerMessages.some((m) => m.body && m.body.type === "card_answer" && m.body.card_id === card.card_id);
    box.append(el("div", { class: "muted" }, answered ? "已回复" : "已失效"));
  }
  return box;
}

function bodyView(m, viewer) {
  const b = m.body || {};
  switch (b.type) {
    case "text": return el("div", { class: "bubble" }, b.text);
    case "prediction_card": return cardView(b.card, viewer);
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

function messageView(m, viewer) {
  const role = m.sender && m.sender.role;
  const mine = (viewer === "buyer" && role === "buyer") || (viewer === "agent" && role === "agent");
  const internal = m.visible_to_buyer === false;
  const cls = ["msg", mine ? "mine" : "", role === "system" ? "system" : "", role === "robot" ? "robot" : "", internal ? "internal" : ""].join(" ");
  const li = el("li", { class: cls, "data-message-id": m.message_id, "data-sender": role || "" },
    el("span", { class: "who" }, `${senderName(m.sender, viewer)} · ${beijing(m.sent_at)}`),
    bodyView(m, viewer));
  const handedOff = buyerMessages.some((x) => x.sender && x.sender.role === "system" && x.sent_at >= m.sent_at
    && x.body && x.body.type === "text" && x.body.text.includes("转接人工"));
  if (viewer === "buyer" && role === "robot" && !rated.has(m.message_id) && !handedOff) {
    li.append(el("div", { class: "rating" }, el("span", {}, "这个回答有帮助吗？"),
      el("button", { class: "small ghost rate-good", onclick: () => rateRobot(m.message_id, "good") }, "满意"),
      el("button", { class: "small ghost rate-bad", onclick: () => rateRobot(m.message_id, "bad") }, "不满意")));
  }
  return li;
}

function renderMessages(listId, messages, viewer) {
  const list = $(listId);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...messages.map((m) => messageView(m, viewer)));
  if (atBottom || messages.length) list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------------------------------------
// buyer pane

let buyerMessages = [];
// Robot answers this page has rated (the rating buttons go away).
const rated = new Set();

function newConversationId(buyer) {
  const slug = buyer.replace(/[^A-Za-z0-9_-]/g, "").slice(0, 30) || "buyer";
  return `c-${slug}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

function setBuyerConversation(conv) {
  state.buyer.conv = conv;
  state.buyer.openCard = null;
  state.buyer.showOthers = false;
  state.buyer.lastSig = "";
  buyerMessages = [];
  $("buyer-conv-id").textContent = `会话 ${conv}`;
  renderBuyer(true);
}

function renderBuyer(force) {
  const sig = JSON.stringify([buyerMessages.map((m) => m.message_id), state.buyer.openCard && state.buyer.openCard.card_id, state.buyer.showOthers]);
  if (!force && sig === state.buyer.lastSig) return;
  state.buyer.lastSig = sig;
  renderMessages("buyer-messages", buyerMessages, "buyer");
}

async function refreshBuyer() {
  const b = state.buyer;
  if (!b.token || !b.conv) return;
  try {
    const r = await api(b, "GET", `/conversations/${b.conv}/messages`);
    buyerMessages = r.messages || [];
  } catch (e) {
    if (e.status !== 404) throw e;
    buyerMessages = [];
  }
  try {
    b.openCard = await api(b, "GET", `/conversations/${b.conv}/prediction-card`);
  } catch (e) {
    if (e.status !== 404) throw e;
    b.openCard = null;
  }
  renderBuyer(false);
}

async function buyerSend(ev) {
  ev.preventDefault();
  const input = $("buyer-input");
  const text = input.value.trim();
  if (!text) return;
  showError("buyer-error", null);
  $("buyer-send").disabled = true;
  try {
    await api(state.buyer, "POST", `/conversations/${state.buyer.conv}/messages`, { shop_id: SHOP, text });
    input.value = "";
    if (!state.agent.conv) setAgentConversation(state.buyer.conv);
    await refreshBuyer();
    refreshAgent().catch(() => {});
  } catch (e) {
    showError("buyer-error", e);
  } finally {
    $("buyer-send").disabled = false;
  }
}

async function answerCard(selection) {
  showError("buyer-error", null);
  try {
    await api(state.buyer, "POST", `/conversations/${state.buyer.conv}/order-selection`, selection);
    state.buyer.showOthers = false;
    await refreshBuyer();
    refreshAgent().catch(() => {});
  } catch (e) {
    showError("buyer-error", e.status === 409 ? "这张卡片已失效，请重新咨询" : e);
    refreshBuyer().catch(() => {});
  }
}

async function rateRobot(messageId, rating) {
  showError("buyer-error", null);
  try {
    const r = await api(state.buyer, "POST", `/conversations/${state.buyer.conv}/robot-rating`, { message_id: messageId, rating });
    rated.add(messageId);
    state.buyer.lastSig = "";
    toast(r.handed_off ? "已为您转接人工客服" : "感谢您的评价");
    await refreshBuyer();
    refreshQueue().catch(() => {});
  } catch (e) {
    showError("buyer-error", e);
  }
}

async function switchBuyer(sub, conv) {
  state.buyer.sub = sub;
  state.buyer.token = await login(sub);
  $("buyer-identity").value = sub;
  setBuyerConversation(conv || newConversationId(sub));
  await refreshBuyer();
}

// ---------------------------------------------------------------------------------------------
// agent pane

let agentMessages = [];
let queueItems = [];

function setAgentConversation(conv) {
  const a = state.agent;
  a.conv = conv;
  a.panel = null;
  a.panelSig = "";
  a.lastSig = "";
  a.copied = null;
  a.dismissedSig = null;
  agentMessages = [];
  $("agent-conv-id").textContent = conv ? `会话 ${conv}` : "未选择会话";
  $("agent-input").value = "";
  renderAgentMessages(true);
  renderPanel();
  renderQueue();
}

function renderAgentMessages(force) {
  const sig = JSON.stringify(agentMessages.map((m) => m.message_id));
  if (!force && sig === state.agent.lastSig) return;
  state.agent.lastSig = sig;
  renderMessages("agent-messages", agentMessages, "agent");
}

function panelSignature(p) {
  if (!p || p.state !== "ready" || !p.solution) return p ? `${p.state}|${p.intent && p.intent.intent}` : "";
  return `${p.solution.solution_id}|${p.order && p.order.order_id}|${p.solution.replies.map((r) => r.text).join("|")}`;
}

function renderPanel() {
  const a = state.agent;
  const p = a.panel;
  const box = $("assistant-panel");
  const showable = p && (p.state === "ready" || p.state === "awaiting_order" || p.state === "no_order" || p.state === "not_covered");
  if (!showable || a.dismissedSig === panelSignature(p)) {
    box.hidden = true;
    updateAgentHint();
    return;
  }
  box.hidden = false;
  $("ap-intent").textContent = p.intent ? p.intent.label : "";
  $("ap-intent").title = p.intent ? `${p.intent.intent} · 置信度 ${(p.intent.confidence * 100).toFixed(0)}%` : "";
  $("ap-order").replaceChildren(p.order ? `订单 ${p.order.order_id} · ${p.order.title} · ${p.order.node_label}` : "");
  const notes = {
    awaiting_order: "已向买家发送订单预测卡片，等待买家确认订单…",
    no_order: "买家在本店没有可匹配的订单。",
    not_covered: "智能助手暂未覆盖这个问题，请人工回复。",
  };
  $("ap-note").textContent = p.note || notes[p.state] || "";
  $("open-edit").hidden = !(a.robotOn && p.intent && p.state === "ready");
  const replies = $("ap-replies");
  const actions = $("ap-actions");
  const sol = p.state === "ready" ? p.solution : null;
  $("ap-replies-section").hidden = !sol;
  $("ap-actions-section").hidden = !sol || !(sol.actions || []).length;
  replies.replaceChildren(...(sol ? sol.replies : []).map((r) => el("li", { "data-reply-index": r.index },
    el("span", { class: "text" }, r.text),
    el("span", { class: "ops" },
      el("button", { class: "small ghost copy", onclick: () => copyReply(sol, r) }, "复制"),
      el("button", { class: "small send", onclick: () => sendReply(sol, r) }, "发送")))));
  actions.replaceChildren(...(sol ? sol.actions : []).map((act) => el("button", {
    class: "small ghost action", "data-action-id": act.action_id,
    title: act.reaches_buyer ? "买家可见" : "内部操作，买家不可见",
    onclick: () => sendAction(sol, act),
  }, act.label)));
  updateAgentHint();
}

function updateAgentHint() {
  const a = state.agent;
  $("agent-send").disabled = !a.conv;
  $("agent-hint").textContent = a.copied
    ? "已复制推荐话术：可直接发送，也可修改后发送（修改只对这一次回复生效）"
    : a.conv ? "可直接输入回复，或点推荐话术的「复制」放进输入框" : "在左侧选择一个会话，或等买家发来消息";
}

async function refreshAgent() {
  const a = state.agent;
  if (!a.token || !a.conv) return;
  try {
    const r = await api(a, "GET", `/conversations/${a.conv}/messages`);
    agentMessages = r.messages || [];
  } catch (e) {
    if (e.status !== 404) throw e;
    agentMessages = [];
  }
  renderAgentMessages(false);
  try {
    a.panel = await api(a, "GET", `/conversations/${a.conv}/panel`);
  } catch (e) {
    if (e.status !== 404) throw e;
    a.panel = null;
  }
  const sig = panelSignature(a.panel);
  if (sig !== a.panelSig) {
    a.panelSig = sig;
    if (a.copied && (!a.panel || !a.panel.solution || a.panel.solution.solution_id !== a.copied.solution_id)) a.copied = null;
    renderPanel();
  }
}

async function panelEvent(body) {
  const a = state.agent;
  showError("agent-error", null);
  try {
    const r = await api(a, "POST", `/conversations/${a.conv}/panel/events`, body);
    return r;
  } catch (e) {
    showError("agent-error", e.status === 409 ? "智能助手提示已更新，请看最新的推荐" : e);
    a.panelSig = "";
    refreshAgent().catch(() => {});
    return null;
  }
}

async function copyReply(sol, reply) {
  const r = await panelEvent({ solution_id: sol.solution_id, event: "copied", reply_index: reply.index });
  if (!r) return;
  const input = $("agent-input");
  input.value = reply.text;
  state.agent.copied = { solution_id: sol.solution_id, reply_index: reply.index, text: reply.text };
  updateAgentHint();
  input.focus();
}

async function sendReply(sol, reply) {
  const r = await panelEvent({ solution_id: sol.solution_id, event: "sent", reply_index: reply.index });
  if (r) { toast("已发送"); afterAgentSend(); }
}

async function sendAction(sol, act) {
  const r = await panelEvent({ solution_id: sol.solution_id, event: "sent", action_id: act.action_id });
  if (r) { toast(ACTION_DONE[act.action_id] || "已执行"); afterAgentSend(); }
}

async function agentSend(ev) {
  ev.preventDefault();
  const a = state.agent;
  const text = $("agent-input").value.trim();
  if (!a.conv || !text) return;
  let ok;
  if (a.copied) {
    // A copied reply: sent as it is, or edited for this one answer.
    const edited = text !== a.copied.text;
    const body = { solution_id: a.copied.solution_id, event: edited ? "edited_sent" : "sent", reply_index: a.copied.reply_index };
    if (edited) body.text = text;
    ok = await panelEvent(body);
  } else {
    // The agent's own words.
    showError("agent-error", null);
    try {
      ok = await api(a, "POST", `/conversations/${a.conv}/messages`, { text });
    } catch (e) {
      showError("agent-error", e);
      ok = null;
    }
  }
  if (ok) {
    $("agent-input").value = "";
    a.copied = null;
    toast("已发送");
    afterAgentSend();
  }
}

function afterAgentSend() {
  updateAgentHint();
  refreshAgent().catch(() => {});
  refreshBuyer().catch(() => {});
  refreshQueue().catch(() => {});
}

// the queue: longest wait first

function renderQueue() {
  const list = $("queue-list");
  list.replaceChildren(...queueItems.map((q) => el("li", {
    class: q.conversation_id === state.agent.conv ? "current" : "",
    "data-conversation-id": q.conversation_id,
    onclick: () => openFromQueue(q),
  }, el("span", { class: "q-buyer" }, q.buyer_id),
     q.handed_off ? el("span", { class: "q-handoff" }, "机器人转人工") : null,
     el("span", { class: "q-wait" }, waited(q.waited_ms)),
     el("span", { class: "q-text" }, q.last_text || ""))));
  $("jump-longest").disabled = !queueItems.length;
}

async function refreshQueue() {
  const a = state.agent;
  if (!a.token || !a.shop) return;
  try {
    const r = await api(a, "GET", `/shops/${a.shop}/queue`);
    queueItems = r.items || [];
    $("queue-note").textContent = queueItems.length ? "" : "暂无等待中的买家";
  } catch (e) {
    queueItems = [];
    $("queue-note").textContent = e.status === 404 && !e.code ? "排队功能尚未上线" : e.message;
  }
  renderQueue();
}

function openFromQueue(q) {
  if (state.agent.conv !== q.conversation_id) setAgentConversation(q.conversation_id);
  refreshAgent().catch(() => {});
  // The console plays both sides: the buyer pane follows when the buyer is a demo identity.
  const sameBuyerPane = state.buyer.sub === q.buyer_id && state.buyer.conv === q.conversation_id;
  if (!sameBuyerPane && state.identities.some((i) => i.sub === q.buyer_id && i.role === "buyer")) {
    switchBuyer(q.buyer_id, q.conversation_id).catch((e) => showError("buyer-error", e));
  }
}

async function jumpLongest() {
  await refreshQueue();
  if (queueItems.length) openFromQueue(queueItems[0]);
}

async function refreshRobot() {
  const a = state.agent;
  if (!a.token || !a.shop) return;
  try {
    a.robot = await api(a, "GET", `/shops/${a.shop}/robot`);
    a.robotOn = !!a.robot.on;
  } catch (_) {
    a.robot = null;
    a.robotOn = false;
  }
  const tag = $("robot-state");
  tag.textContent = `飞鸽机器人：${a.robotOn ? "已开启" : "未开启"}`;
  tag.classList.toggle("on", a.robotOn);
  const admin = a.role === "shop_admin" && a.robot;
  tag.disabled = !admin;
  tag.title = admin ? `点击${a.robotOn ? "关闭" : "开启"}飞鸽机器人` : "只有店铺管理员可以开关飞鸽机器人";
  renderPanel();
}

async function toggleRobot() {
  const a = state.agent;
  if (a.role !== "shop_admin" || !a.robot) return;
  try {
    await api(a, "PUT", `/shops/${a.shop}/robot`, { on: !a.robot.on, expected_version: a.robot.version });
    toast(a.robot.on ? "飞鸽机器人已关闭" : "飞鸽机器人已开启");
  } catch (e) {
    showError("agent-error", e);
  }
  await refreshRobot();
}

async function switchAgent(sub) {
  const who = state.identities.find((i) => i.sub === sub);
  const a = state.agent;
  a.sub = sub;
  a.role = who.role;
  a.shop = who.shop_id;
  a.token = await login(sub);
  $("agent-identity").value = sub;
  setAgentConversation(a.conv);
  await Promise.all([refreshAgent(), refreshQueue(), refreshRobot()]);
}

// ---------------------------------------------------------------------------------------------
// 我要反馈

function openFeedback() {
  const p = state.agent.panel;
  $("fb-intent").value = p && p.intent ? `${p.intent.label}（${p.intent.intent}）` : "";
  $("fb-description").value = "";
  $("fb-files").value = "";
  showError("fb-error", null);
  $("feedback-dialog").showModal();
}

async function submitFeedback(ev) {
  const submitter = ev.submitter;
  if (!submitter || submitter.value !== "submit") return;
  ev.preventDefault();
  const a = state.agent;
  const p = a.panel;
  const description = $("fb-description").value.trim();
  const files = Array.from($("fb-files").files);
  if (!description) { showError("fb-error", "请填写问题描述"); return; }
  if (files.length > 3) { showError("fb-error", "最多上传 3 张截图"); return; }
  const form = new FormData();
  form.append("intent", p && p.intent ? p.intent.intent : "other");
  if (p && p.solution) form.append("solution_id", p.solution.solution_id);
  if (a.conv) form.append("conversation_id", a.conv);
  form.append("description", description);
  for (const f of files) form.append("screenshot", f, f.name);
  $("fb-submit").disabled = true;
  try {
    const r = await api(a, "POST", "/feedback", form);
    $("feedback-dialog").close();
    const fb = r.feedback;
    toast(`反馈已提交（编号 ${fb.feedback_id}，截图 ${fb.screenshots.length} 张）`);
    document.body.dataset.lastFeedback = fb.feedback_id;
  } catch (e) {
    const known = { 413: "截图太大了（每张不超过 1 MB，合计不超过 4 MB）", 415: "只支持 PNG、JPEG、WebP 格式的截图" };
    showError("fb-error", known[e.status] || e);
  } finally {
    $("fb-submit").disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// 编辑回复

let editing = null;

async function openEdit() {
  const a = state.agent;
  const p = a.panel;
  if (!p || !p.intent || !p.solution) return;
  showError("edit-error", null);
  try {
    const doc = await api(a, "GET", `/shops/${a.shop}/replies/${p.intent.intent}`);
    const sol = doc.solutions.find((s) => s.solution_id === p.solution.solution_id) || doc.solutions[0];
    editing = { intent: p.intent.intent, version: doc.version, solution_id: sol.solution_id };
    $("edit-title").textContent = `${p.intent.label} · ${sol.title}`;
    $("edit-vars").textContent = (doc.variables || []).map((v) => `{${v}}`).join(" ");
    $("edit-official").value = sol.official;
    for (let i = 0; i < 3; i++) $(`edit-r${i}`).value = sol.replies[i] || "";
    $("edit-dialog").showModal();
  } catch (e) {
    showError("agent-error", e);
  }
}

async function submitEdit(ev) {
  const submitter = ev.submitter;
  if (!submitter || (submitter.value !== "save" && submitter.value !== "reset")) return;
  ev.preventDefault();
  const a = state.agent;
  const body = { expected_version: editing.version, solution_id: editing.solution_id };
  if (submitter.value === "reset") {
    body.reset = true;
  } else {
    body.replies = [0, 1, 2].map((i) => $(`edit-r${i}`).value.trim()).filter((t) => t);
  }
  try {
    await api(a, "PUT", `/shops/${a.shop}/replies/${editing.intent}`, body);
    $("edit-dialog").close();
    toast("回复已保存，全店生效");
    a.panelSig = "";
    refreshAgent().catch(() => {});
  } catch (e) {
    const msg = e.status === 403 ? "只有店铺管理员可以编辑回复" : e.status === 409 && e.code === "conflict" ? "回复刚被其他人修改过，请重新打开后再编辑" : e.message;
    showError("edit-error", msg);
  }
}

// ---------------------------------------------------------------------------------------------
// the compensation sweep (locally by hand; deployed, the schedule runs it every minute)

async function runSweep() {
  const btn = $("run-sweep");
  btn.disabled = true;
  try {
    await api(null, "POST", "/local/compensate");
    toast("赔付扫描已完成");
    await Promise.all([refreshBuyer(), refreshAgent()]);
  } catch (e) {
    toast(`赔付扫描失败：${e.message}`);
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// start

async function poll() {
  try {
    await Promise.all([refreshBuyer(), refreshAgent(), refreshQueue()]);
  } catch (_) { /* the next tick tries again */ }
  setTimeout(poll, POLL_MS);
}

async function start() {
  const r = await api(null, "GET", "/local/identities");
  state.identities = r.identities;
  const buyers = r.identities.filter((i) => i.role === "buyer");
  const staff = r.identities.filter((i) => (i.role === "agent" || i.role === "shop_admin") && i.shop_id === SHOP);
  $("buyer-identity").replaceChildren(...buyers.map((i) => el("option", { value: i.sub }, `${ROLE_NAMES.buyer} ${i.sub}`)));
  $("agent-identity").replaceChildren(...staff.map((i) => el("option", { value: i.sub }, `${ROLE_NAMES[i.role]} ${i.sub}`)));
  $("buyer-identity").addEventListener("change", (e) => switchBuyer(e.target.value).catch((x) => showError("buyer-error", x)));
  $("agent-identity").addEventListener("change", (e) => switchAgent(e.target.value).catch((x) => showError("agent-error", x)));
  $("new-conversation").addEventListener("click", () => { setBuyerConversation(newConversationId(state.buyer.sub)); });
  $("buyer-form").addEventListener("submit", buyerSend);
  $("agent-form").addEventListener("submit", agentSend);
  $("agent-input").addEventListener("input", () => {
    if (!$("agent-input").value.trim()) { state.agent.copied = null; updateAgentHint(); }
  });
  $("jump-longest").addEventListener("click", () => jumpLongest().catch((e) => showError("agent-error", e)));
  $("ap-close").addEventListener("click", () => { state.agent.dismissedSig = panelSignature(state.agent.panel); renderPanel(); });
  $("open-feedback").addEventListener("click", openFeedback);
  $("feedback-form").addEventListener("submit", submitFeedback);
  $("open-edit").addEventListener("click", openEdit);
  $("edit-form").addEventListener("submit", submitEdit);
  $("run-sweep").addEventListener("click", runSweep);
  $("robot-state").addEventListener("click", () => toggleRobot());
  await switchBuyer(buyers[0].sub);
  await switchAgent(staff[0].sub);
  document.body.dataset.ready = "true";
  poll();
}

start().catch((e) => { document.body.dataset.ready = "error"; showError("buyer-error", e); });
