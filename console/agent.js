// The agent pane: the queue of waiting buyers, the conversation as staff see it, the assistant
// panel (智能助手提示) with the server's intent, order, replies and actions, the input box, and the
// robot badge. The intent, node and action labels and the panel's notes are the server's.

import { api, getOrNull, login } from "./api.js";
import { $, el, showError, toast } from "./dom.js";
import { actionDone, NOT_COVERED_NOTE, waited } from "./formatting.js";
import { renderMessages } from "./messages.js";
import * as push from "./push.js";
import { state } from "./state.js";

// What the buyer pane does when the agent acts; main.js connects it (the panes do not import
// each other).
const buyerSide = {
  refresh: () => {},
  /** The console plays both sides: show `conv` of demo buyer `sub` in the buyer pane. */
  open: (_sub, _conv) => {},
};

export function connectBuyer(side) {
  Object.assign(buyerSide, side);
}

export function setAgentConversation(conv) {
  const a = state.agent;
  a.conv = conv;
  a.panel = null;
  a.panelSig = "";
  a.panelVersion = 0;
  a.lastSig = "";
  a.copied = null;
  a.dismissedSig = null;
  a.messages = [];
  $("agent-conv-id").textContent = conv ? `会话 ${conv}` : "未选择会话";
  $("agent-input").value = "";
  renderAgentMessages(true);
  renderPanel();
  renderQueue();
  // Followed once its messages are read (refreshAgent), from the last of them.
}

/** The buyer wrote in `conv`: follow it when no conversation is open. */
export function follow(conv) {
  if (state.agent.conv) return;
  setAgentConversation(conv);
  refreshAgent().catch(() => {});
}

function renderAgentMessages(force) {
  const a = state.agent;
  const sig = JSON.stringify(a.messages.map((m) => m.message_id));
  if (!force && sig === a.lastSig) return;
  a.lastSig = sig;
  renderMessages("agent-messages", a.messages, "agent");
}

// ---------------------------------------------------------------------------------------------
// the assistant panel

/** What the panel shows, in one string: it is redrawn (or stays closed) only when this changes. */
export function panelSignature(p) {
  if (!p || p.state !== "ready" || !p.solution) return p ? `${p.state}|${p.intent && p.intent.intent}` : "";
  return `${p.solution.solution_id}|${p.order && p.order.order_id}|${p.solution.replies.map((r) => r.text).join("|")}`;
}

const SHOWN_STATES = ["ready", "awaiting_order", "no_order", "not_covered"];

export function renderPanel() {
  const a = state.agent;
  const p = a.panel;
  const box = $("assistant-panel");
  if (!p || !SHOWN_STATES.includes(p.state) || a.dismissedSig === panelSignature(p)) {
    box.hidden = true;
    updateAgentHint();
    return;
  }
  box.hidden = false;
  $("ap-intent").textContent = p.intent ? p.intent.label : "";
  $("ap-intent").title = p.intent ? `${p.intent.intent} · 置信度 ${(p.intent.confidence * 100).toFixed(0)}%` : "";
  $("ap-order").replaceChildren(p.order ? `订单 ${p.order.order_id} · ${p.order.title} · ${p.order.node_label}` : "");
  $("ap-note").textContent = p.note || (p.state === "not_covered" ? NOT_COVERED_NOTE : "");
  $("open-edit").hidden = !(a.robotOn && p.intent && p.state === "ready");
  const sol = p.state === "ready" ? p.solution : null;
  $("ap-replies-section").hidden = !sol;
  $("ap-actions-section").hidden = !sol || !(sol.actions || []).length;
  $("ap-replies").replaceChildren(...(sol ? sol.replies : []).map((r) => el("li", { "data-reply-index": r.index },
    el("span", { class: "text" }, r.text),
    el("span", { class: "ops" },
      el("button", { class: "small ghost copy", onclick: () => copyReply(sol, r) }, "复制"),
      el("button", { class: "small send", onclick: () => sendReply(sol, r) }, "发送")))));
  $("ap-actions").replaceChildren(...(sol ? sol.actions : []).map((act) => el("button", {
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

/** A change pushed to the agent's socket (push.js): applied, with the panel it carries (read
 * only when it changed and did not come along). */
function applyPush(m) {
  const a = state.agent;
  if (m.type === "queue") {
    const rest = a.queue.filter((q) => q.conversation_id !== m.conversation_id);
    a.queue = (m.waiting ? [...rest, m.waiting] : rest)
      .sort((x, y) => x.waiting_since - y.waiting_since).slice(0, 50);
    $("queue-note").textContent = a.queue.length ? "" : "暂无等待中的买家";
    renderQueue();
    // A buyer started waiting while no conversation is open: open theirs, as follow() does.
    if (m.waiting && !a.conv) openFromQueue(m.waiting);
    return;
  }
  if (m.conversation_id !== a.conv) return;
  if (!m.messages) { refreshAgent().catch(() => {}); return; }
  a.messages = push.merged(a.messages, m.messages);
  renderAgentMessages(false);
  if (m.panel) {
    // Two writers' pushes may cross: the panel of the newest version stays.
    if (m.panel_version > a.panelVersion) {
      a.panelVersion = m.panel_version;
      showPanel(m.panel);
    }
  } else if (m.panel_changed) refreshPanel().catch(() => {});
}

async function refreshPanel() {
  const a = state.agent;
  if (!a.token || !a.conv) return;
  const conv = a.conv;
  const told = a.panelVersion;
  const p = await getOrNull(a, `/conversations/${conv}/panel`);
  // A panel pushed while this read was out is at least as new.
  if (a.conv === conv && a.panelVersion === told) showPanel(p);
}

function showPanel(p) {
  const a = state.agent;
  a.panel = p;
  const sig = panelSignature(a.panel);
  if (sig !== a.panelSig) {
    a.panelSig = sig;
    if (a.copied && (!a.panel || !a.panel.solution || a.panel.solution.solution_id !== a.copied.solution_id)) a.copied = null;
    renderPanel();
  }
}

export async function refreshAgent() {
  const a = state.agent;
  if (!a.token || !a.conv) return;
  const conv = a.conv;
  const r = await getOrNull(a, `/conversations/${conv}/messages`);
  if (a.conv !== conv) return; // another conversation was opened meanwhile
  a.messages = (r && r.messages) || [];
  push.shown("agent", conv, a.messages);
  push.follow("agent");
  renderAgentMessages(false);
  await refreshPanel();
}

/** Redraws the panel at the next refresh, whatever it shows (after the shop's replies changed). */
export function refreshPanelSoon() {
  state.agent.panelSig = "";
  refreshAgent().catch(() => {});
}

async function panelEvent(body) {
  const a = state.agent;
  showError("agent-error", null);
  try {
    return await api(a, "POST", `/conversations/${a.conv}/panel/events`, body);
  } catch (e) {
    showError("agent-error", e.status === 409 ? "智能助手提示已更新，请看最新的推荐" : e);
    refreshPanelSoon();
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
  if (r) { toast(actionDone(act)); afterAgentSend(); }
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
  buyerSide.refresh();
  refreshQueue().catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// the queue: longest wait first

function renderQueue() {
  const a = state.agent;
  $("queue-list").replaceChildren(...a.queue.map((q) => el("li", {
    class: q.conversation_id === a.conv ? "current" : "",
    "data-conversation-id": q.conversation_id,
    onclick: () => openFromQueue(q),
  }, el("span", { class: "q-buyer" }, q.buyer_id),
     q.handed_off ? el("span", { class: "q-handoff" }, "机器人转人工") : null,
     el("span", { class: "q-wait" }, waited(q.waited_ms)),
     el("span", { class: "q-text" }, q.last_text || ""))));
  $("jump-longest").disabled = !a.queue.length;
}

export async function refreshQueue() {
  const a = state.agent;
  if (!a.token || !a.shop) return;
  try {
    const r = await api(a, "GET", `/shops/${a.shop}/queue`);
    a.queue = r.items || [];
    $("queue-note").textContent = a.queue.length ? "" : "暂无等待中的买家";
  } catch (e) {
    a.queue = [];
    $("queue-note").textContent = e.status === 404 && !e.code ? "排队功能尚未上线" : e.message;
  }
  renderQueue();
}

function openFromQueue(q) {
  if (state.agent.conv !== q.conversation_id) setAgentConversation(q.conversation_id);
  refreshAgent().catch(() => {});
  // The console plays both sides: the buyer pane follows when the buyer is a demo identity.
  const b = state.buyer;
  const sameBuyerPane = b.sub === q.buyer_id && b.conv === q.conversation_id;
  if (!sameBuyerPane && state.identities.some((i) => i.sub === q.buyer_id && i.role === "buyer")) {
    buyerSide.open(q.buyer_id, q.conversation_id);
  }
}

async function jumpLongest() {
  await refreshQueue();
  if (state.agent.queue.length) openFromQueue(state.agent.queue[0]);
}

// ---------------------------------------------------------------------------------------------
// the robot badge (the admin's switch is in admin.js)

export async function refreshRobot() {
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

// ---------------------------------------------------------------------------------------------
// signing in

/** Signs in as staff member `sub` (an agent or the admin of the shop) and keeps the conversation. */
export async function switchAgent(sub) {
  const who = state.identities.find((i) => i.sub === sub);
  const a = state.agent;
  a.sub = sub;
  a.role = who.role;
  a.shop = who.shop_id;
  a.token = await login(sub);
  push.attach("agent", a,
    () => [{ queue: a.shop }, a.conv ? { conversation_id: a.conv } : null],
    (m) => applyPush(m));
  $("agent-identity").value = sub;
  setAgentConversation(a.conv);
  await Promise.all([refreshAgent(), refreshQueue(), refreshRobot()]);
}

/** The pane's controls. */
export function setUpAgent() {
  $("agent-identity").addEventListener("change", (e) => switchAgent(e.target.value).catch((x) => showError("agent-error", x)));
  $("agent-form").addEventListener("submit", agentSend);
  $("agent-input").addEventListener("input", () => {
    if (!$("agent-input").value.trim()) { state.agent.copied = null; updateAgentHint(); }
  });
  $("jump-longest").addEventListener("click", () => jumpLongest().catch((e) => showError("agent-error", e)));
  $("ap-close").addEventListener("click", () => { state.agent.dismissedSig = panelSignature(state.agent.panel); renderPanel(); });
}
