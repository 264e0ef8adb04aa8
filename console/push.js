// The WebSocket push (issue 17): one socket per pane, opened with a single-use ticket
// (POST /push/tickets) as that pane's identity, following what the pane shows (the buyer: their
// conversation; the agent: the shop's queue and the open conversation). A pane applies what is
// pushed (the messages, in its role's view; the queue's entry) and reads only what a push does not
// carry (the agent's panel when it changed, the buyer's open card); a socket that drops reconnects with backoff (1 s, doubling, at most 30 s)
// and catches up from the last cursor it was pushed (subscribe's `after`). While a pane's socket
// is down the page polls, slowly (main.js, SLOW_POLL_MS); while both are up it does not poll.

import { api } from "./api.js";
import { PANES, state } from "./state.js";

/** The slow polling while a socket is down, in milliseconds (at least 10 s: issue 17). */
export const SLOW_POLL_MS = 10000;
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30000;
/** A connection follows at most 20 topics; a fresh one is opened before that. */
const MAX_FOLLOWED = 18;

/** `list` with the pushed `incoming` messages added (each once, by id), in the conversation's
 *  order: when sent, then by id, as a cursor orders them. */
export function merged(list, incoming) {
  const byId = new Map(list.map((m) => [m.message_id, m]));
  for (const m of incoming || []) byId.set(m.message_id, m);
  return [...byId.values()].sort((x, y) => (x.sent_at - y.sent_at)
    || (x.message_id < y.message_id ? -1 : x.message_id > y.message_id ? 1 : 0));
}

/** The cursor of a message (subscribe's `after`): its send time in 13 digits, '.', its id. */
export function cursorOf(m) {
  return `${String(m.sent_at).padStart(13, "0")}.${m.message_id}`;
}

/** `side` shows `messages` of `conv` (read over HTTP): a reconnect catches up after the newest of
 *  them, even if nothing was pushed yet. Cursors order as strings. */
export function shown(side, conv, messages) {
  const p = state.push[side];
  for (const m of messages || []) {
    const c = cursorOf(m);
    if (!p.cursor[conv] || c > p.cursor[conv]) p.cursor[conv] = c;
  }
}

/** Whether the sockets of every pane shown are open. */
export function allUp() {
  return PANES.every((side) => state.push[side].up);
}

/** (Re)opens `side`'s socket as `who` (an object with a `token`), following `topics()` (a list of
 *  `{conversation_id}` / `{queue}`), and calling `onPush(payload)` for every change pushed. */
export function attach(side, who, topics, onPush) {
  const p = state.push[side];
  p.gen += 1;
  Object.assign(p, { who, topics, onPush, backoff: FIRST_RETRY_MS, cursor: {}, opens: 0 });
  if (p.ws) p.ws.close();
  p.ws = null;
  p.up = false;
  open(side, p.gen).catch(() => retry(side, p.gen));
}

/** Whether `side`'s socket is open and its subscription to conversation `conv` was answered (so
 *  every change of it from now on is pushed). */
export function follows(side, conv) {
  const p = state.push[side];
  return p.up && p.confirmed.has(conv);
}

/** What `side` shows changed: follow it too, from its cursor. A pane calls it once it read what
 *  it shows (`shown`), so that the subscribe catches up on whatever came between that read and
 *  the subscription. */
export function follow(side) {
  const p = state.push[side];
  if (p.up) sync(side);
}

async function open(side, gen) {
  const p = state.push[side];
  if (!p.who || !p.who.token || gen !== p.gen) return;
  const { url } = await api(null, "GET", "/local/push");
  if (!url) return; // no WebSocket API: the page keeps polling
  const { ticket } = await api(p.who, "POST", "/push/tickets");
  if (gen !== p.gen) return;
  const ws = new WebSocket(`${url}?ticket=${encodeURIComponent(ticket)}`);
  p.ws = ws;
  p.opens += 1;
  p.followed = new Set();
  p.confirmed = new Set();
  ws.onopen = () => {
    if (gen !== p.gen) { ws.close(); return; }
    p.up = true;
    p.backoff = FIRST_RETRY_MS;
    sync(side);
  };
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (_) { return; }
    received(side, m);
  };
  ws.onclose = () => {
    if (p.ws !== ws) return;
    p.ws = null;
    p.up = false;
    if (gen === p.gen) retry(side, gen);
  };
}

function retry(side, gen) {
  const p = state.push[side];
  const wait = p.backoff;
  p.backoff = Math.min(p.backoff * 2, LAST_RETRY_MS);
  setTimeout(() => {
    if (gen === p.gen && !p.ws) open(side, gen).catch(() => retry(side, gen));
  }, wait);
}

function sync(side) {
  const p = state.push[side];
  const wanted = (p.topics() || []).filter(Boolean);
  if (p.followed.size + wanted.length > MAX_FOLLOWED) {
    p.ws.close(); // reopened by onclose, following only what is shown now
    return;
  }
  for (const topic of wanted) {
    const key = JSON.stringify(topic);
    if (p.followed.has(key)) continue;
    p.followed.add(key);
    const after = topic.conversation_id && p.cursor[topic.conversation_id];
    p.ws.send(JSON.stringify({ action: "subscribe", ...topic, ...(after ? { after } : {}) }));
  }
}

function received(side, m) {
  const p = state.push[side];
  if (m.type === "conversation" || m.type === "queue") {
    if (m.cursor && !(p.cursor[m.conversation_id] > m.cursor)) p.cursor[m.conversation_id] = m.cursor;
    p.onPush(m);
    return;
  }
  // A subscribe's answer: what was missed while the socket was down.
  const missed = m.missed;
  const conv = m.subscribed && m.subscribed.conversation;
  if (conv) p.confirmed.add(conv);
  if (conv && missed) {
    p.cursor[conv] = missed.cursor;
    // All of it when the gap was longer than one read (no `messages`: the pane reads it all).
    if (!missed.complete) p.onPush({ type: "conversation", conversation_id: conv });
    // After a reconnect the panel may have moved meanwhile too (its pushes carry no cursor): the
    // agent reads it then.
    else p.onPush({ type: "conversation", conversation_id: conv, messages: missed.messages, panel_changed: p.opens > 1 });
  }
}
