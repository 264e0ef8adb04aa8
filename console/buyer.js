// The buyer pane: the conversation as the buyer sees it, the prediction card (确认订单 /
// 选择其他订单), robot answers with 满意 / 不满意, and the buyer's input box.

import { api, getOrNull, login } from "./api.js";
import { $, showError, toast } from "./dom.js";
import { renderMessages } from "./messages.js";
import * as push from "./push.js";
import { SHOP, state } from "./state.js";

// What the agent pane does when the buyer acts; main.js connects it (the panes do not import
// each other).
const agentSide = {
  /** The buyer wrote in `conv`: the agent pane follows it when it shows no conversation. */
  follow: (_conv) => {},
  refresh: () => {},
  refreshQueue: () => {},
};

export function connectAgent(side) {
  Object.assign(agentSide, side);
}

const cardActions = {
  answerCard: (selection) => answerCard(selection),
  toggleOthers: () => { state.buyer.showOthers = !state.buyer.showOthers; renderBuyer(true); },
  rateRobot: (messageId, rating) => rateRobot(messageId, rating),
};

/** Shows conversation `conv`, or (null) a new one: the server opens it, and mints its id, with
 *  the buyer's first message. */
export function setBuyerConversation(conv) {
  const b = state.buyer;
  b.conv = conv || null;
  b.openKey = null;
  b.openCard = null;
  b.showOthers = false;
  b.lastSig = "";
  b.messages = [];
  $("buyer-conv-id").textContent = b.conv ? `会话 ${b.conv}` : "新会话（发出第一条消息后开始）";
  renderBuyer(true);
  // Followed once its messages are read (refreshBuyer), from the last of them.
}

function renderBuyer(force) {
  const b = state.buyer;
  const sig = JSON.stringify([b.messages.map((m) => m.message_id), b.openCard && b.openCard.card_id, b.showOthers]);
  if (!force && sig === b.lastSig) return;
  b.lastSig = sig;
  renderMessages("buyer-messages", b.messages, "buyer", cardActions);
}

/** The messages that open or close the buyer's card. */
const CARD_TYPES = ["prediction_card", "card_answer"];

/** A change pushed to the buyer's socket (push.js): its messages applied, the open card read. */
function applyPush(m) {
  const b = state.buyer;
  if (m.type !== "conversation" || m.conversation_id !== b.conv) return;
  if (!m.messages) { refreshBuyer().catch(() => {}); return; }
  b.messages = push.merged(b.messages, m.messages);
  renderBuyer(false);
  // The open card changes only with a card or its answer: read it then, not on every push.
  if (!m.messages.some((x) => x.body && CARD_TYPES.includes(x.body.type))) return;
  getOrNull(b, `/conversations/${b.conv}/prediction-card`).then((card) => {
    if (b.conv !== m.conversation_id) return;
    b.openCard = card;
    renderBuyer(false);
  }).catch(() => {});
}

export async function refreshBuyer() {
  const b = state.buyer;
  if (!b.token || !b.conv) return;
  const conv = b.conv;
  const r = await getOrNull(b, `/conversations/${conv}/messages`);
  if (b.conv !== conv) return; // another conversation was opened meanwhile
  b.messages = (r && r.messages) || [];
  push.shown("buyer", conv, b.messages);
  push.follow("buyer");
  b.openCard = await getOrNull(b, `/conversations/${b.conv}/prediction-card`);
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
    const b = state.buyer;
    // In a conversation the socket follows, what the message brings (the card, the robot's
    // answer) is pushed: nothing to read back.
    let pushed = false;
    if (b.conv) {
      pushed = push.follows("buyer", b.conv);
      const r = await api(b, "POST", `/conversations/${b.conv}/messages`, { text });
      // The answer holds the message and the robot's reply: shown at once, push or not.
      b.messages = push.merged(b.messages, [r.message, r.robot_reply].filter(Boolean));
      if (r.card) b.openCard = r.card;
      renderBuyer(false);
    } else {
      // One key per opening, kept until it succeeds: a retry meets the conversation it opened.
      b.openKey = b.openKey || `open-${crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`}`;
      const opened = await api(b, "POST", "/conversations", { shop_id: SHOP, text }, { "idempotency-key": b.openKey });
      b.openKey = null;
      setBuyerConversation(opened.conversation_id);
    }
    input.value = "";
    agentSide.follow(state.buyer.conv);
    if (!pushed) await refreshBuyer();
    agentSide.refresh();
  } catch (e) {
    showError("buyer-error", e);
  } finally {
    $("buyer-send").disabled = false;
  }
}

async function answerCard(selection) {
  showError("buyer-error", null);
  try {
    const pushed = push.follows("buyer", state.buyer.conv);
    await api(state.buyer, "POST", `/conversations/${state.buyer.conv}/order-selection`, selection);
    state.buyer.showOthers = false;
    if (pushed) renderBuyer(true); else await refreshBuyer();
    agentSide.refresh();
  } catch (e) {
    showError("buyer-error", e.status === 409 ? "这张卡片已失效，请重新咨询" : e);
    refreshBuyer().catch(() => {});
  }
}

async function rateRobot(messageId, rating) {
  showError("buyer-error", null);
  try {
    const r = await api(state.buyer, "POST", `/conversations/${state.buyer.conv}/robot-rating`, { message_id: messageId, rating });
    state.buyer.rated.add(messageId);
    state.buyer.lastSig = "";
    toast(r.handed_off ? "已为您转接人工客服" : "感谢您的评价");
    await refreshBuyer();
    agentSide.refreshQueue();
  } catch (e) {
    showError("buyer-error", e);
  }
}

/** Signs in as buyer `sub` and opens `conv` (a new conversation when none is given). */
export async function switchBuyer(sub, conv) {
  state.buyer.sub = sub;
  state.buyer.token = await login(sub);
  push.attach("buyer", state.buyer,
    () => (state.buyer.conv ? [{ conversation_id: state.buyer.conv }] : []),
    (m) => applyPush(m));
  $("buyer-identity").value = sub;
  setBuyerConversation(conv || null);
  await refreshBuyer();
}

/** The pane's controls. */
export function setUpBuyer() {
  $("buyer-identity").addEventListener("change", (e) => switchBuyer(e.target.value).catch((x) => showError("buyer-error", x)));
  $("new-conversation").addEventListener("click", () => { setBuyerConversation(null); });
  $("buyer-form").addEventListener("submit", buyerSend);
}
