// 智能助手 · 本地工作台: a buyer pane and an agent pane over the local API (the same routes as the
// deployed HTTP API). Plain ES modules, no build step, no CDN. This module starts the page: it
// connects the two panes, fills the identity switchers, and polls only while a socket is down.
// `?pane=buyer` or `?pane=agent` shows one role's screen alone (`?as=` its demo identity), as a
// buyer's chat and an agent's console are in two browsers. The other modules:
//
//   state.js       the one state object
//   api.js         requests, errors, signing in
//   formatting.js  Beijing time, yuan, waits, and the few words the console owns
//   dom.js         element helpers, the toast, error lines
//   messages.js    a conversation's messages and cards
//   buyer.js       the buyer pane
//   agent.js       the agent pane: queue, conversation, assistant panel, robot badge
//   feedback.js    我要反馈
//   admin.js       the robot's switch, 编辑回复
//   orders.js      订单系统: the order system's events (shipped, delivered, refunded) for a demo order
//   push.js        the WebSocket push: each pane's socket, reconnects, catch-up

import * as agent from "./agent.js";
import { setUpAdmin } from "./admin.js";
import { api } from "./api.js";
import * as buyer from "./buyer.js";
import { $, el, showError, toast } from "./dom.js";
import { setUpFeedback } from "./feedback.js";
import { setUpOrderSystem } from "./orders.js";
import { ROLE_NAMES } from "./formatting.js";
import { allUp, SLOW_POLL_MS } from "./push.js";
import { PANES, POLL_MS, SHOP, state } from "./state.js";

// The panes call each other only through these, when the page shows both.
if (PANES.length === 2) {
  buyer.connectAgent({
    follow: (conv) => agent.follow(conv),
    refresh: () => { agent.refreshAgent().catch(() => {}); },
    refreshQueue: () => { agent.refreshQueue().catch(() => {}); },
  });
  agent.connectBuyer({
    refresh: () => { buyer.refreshBuyer().catch(() => {}); },
    open: (sub, conv) => { buyer.switchBuyer(sub, conv).catch((e) => showError("buyer-error", e)); },
  });
}
const shows = (pane) => PANES.includes(pane);

// The compensation sweep: locally by hand; deployed, the schedule runs it every minute.
async function runSweep() {
  const btn = $("run-sweep");
  btn.disabled = true;
  try {
    await api(null, "POST", "/local/compensate");
    toast("赔付扫描已完成");
    await refreshShown();
  } catch (e) {
    toast(`赔付扫描失败：${e.message}`);
  } finally {
    btn.disabled = false;
  }
}

/** Reads again what the shown panes show. */
function refreshShown() {
  return Promise.all([
    shows("buyer") ? buyer.refreshBuyer() : null,
    shows("agent") ? agent.refreshAgent() : null,
  ]);
}

// Pushed changes arrive over the panes' sockets (push.js); only while one is down does the page
// poll, every SLOW_POLL_MS.
let lastPoll = Date.now();
async function poll() {
  if (!allUp() && Date.now() - lastPoll >= SLOW_POLL_MS) {
    lastPoll = Date.now();
    try {
      await Promise.all([refreshShown(), shows("agent") ? agent.refreshQueue() : null]);
    } catch (_) { /* the next tick tries again */ }
  }
  setTimeout(poll, POLL_MS);
}

async function start() {
  const r = await api(null, "GET", "/local/identities");
  state.identities = r.identities;
  const buyers = r.identities.filter((i) => i.role === "buyer");
  const staff = r.identities.filter((i) => (i.role === "agent" || i.role === "shop_admin") && i.shop_id === SHOP);
  $("buyer-identity").replaceChildren(...buyers.map((i) => el("option", { value: i.sub }, `${ROLE_NAMES.buyer} ${i.sub}`)));
  $("agent-identity").replaceChildren(...staff.map((i) => el("option", { value: i.sub }, `${ROLE_NAMES[i.role]} ${i.sub}`)));
  // `?as=` signs the shown pane in as that demo identity (one role's screen); else the first.
  const as = new URLSearchParams(location.search).get("as");
  const pick = (list) => list.find((i) => i.sub === as) || list[0];
  if (PANES.length === 1) document.body.dataset.pane = PANES[0];
  if (shows("buyer")) buyer.setUpBuyer();
  if (shows("agent")) { agent.setUpAgent(); setUpFeedback(); setUpAdmin(); }
  $("run-sweep").addEventListener("click", runSweep);
  await setUpOrderSystem(() => refreshShown().catch(() => {}));
  if (shows("buyer")) await buyer.switchBuyer(pick(buyers).sub);
  if (shows("agent")) await agent.switchAgent(pick(staff).sub);
  document.body.dataset.ready = "true";
  poll();
}

start().catch((e) => { document.body.dataset.ready = "error"; showError("buyer-error", e); });
