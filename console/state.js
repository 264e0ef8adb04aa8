// The console's one state object: everything the page knows and remembers lives here, and every
// module reads and writes it through this import (no module keeps state of its own).

/** The demo shop the console works in (the buyer writes to it; its staff sign in on the right). */
export const SHOP = "xiaolu-home";
/** How often the page looks whether it must poll (only while a socket is down: push.js). */
export const POLL_MS = 1000;

/** The panes this page shows: both (the workbench), or one role's screen with `?pane=buyer` or
 *  `?pane=agent` (as a buyer's chat window and an agent's console are apart, in two browsers). */
export const PANES = (() => {
  const only = new URLSearchParams(location.search).get("pane");
  return only === "buyer" || only === "agent" ? [only] : ["buyer", "agent"];
})();

export const state = {
  /** The seeded demo identities (`sub`, `role`, `shop_id`), from GET /local/identities. */
  identities: [],
  buyer: {
    sub: null,
    token: null,
    conv: null,
    /** The conversation's messages as the buyer sees them. */
    messages: [],
    /** The open prediction card (GET …/prediction-card), or null. */
    openCard: null,
    /** Whether 选择其他订单 lists the card's other orders. */
    showOthers: false,
    /** Robot answers this page has rated (their rating buttons go away). */
    rated: new Set(),
    lastSig: "",
  },
  agent: {
    sub: null,
    role: null,
    shop: null,
    token: null,
    conv: null,
    /** The conversation's messages as staff see them (internal notes included). */
    messages: [],
    /** The queue of waiting buyers, longest wait first. */
    queue: [],
    /** The assistant panel (pushed with the change that moved it, or GET …/panel), or null. */
    panel: null,
    panelSig: "",
    /** The conversation version of the newest pushed panel (0: none yet). */
    panelVersion: 0,
    lastSig: "",
    /** The reply copied into the input box: `solution_id`, `reply_index`, `text`. */
    copied: null,
    /** The panel the agent closed (收起), by its signature. */
    dismissedSig: null,
    /** The shop's robot (GET /shops/{shop}/robot), or null. */
    robot: null,
    robotOn: false,
    /** The replies being edited in 编辑回复: `intent`, `version`, `solution_id`. */
    editing: null,
  },
  ui: {
    toastTimer: null,
  },
  /** Each pane's socket (push.js): open or not, what it follows, its cursors, its retry. */
  push: {
    buyer: { ws: null, up: false, gen: 0, who: null, topics: () => [], onPush: () => {}, followed: new Set(), confirmed: new Set(), cursor: {}, backoff: 1000 },
    agent: { ws: null, up: false, gen: 0, who: null, topics: () => [], onPush: () => {}, followed: new Set(), confirmed: new Set(), cursor: {}, backoff: 1000 },
  },
};
