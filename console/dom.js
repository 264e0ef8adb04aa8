// DOM helpers: element lookup, element building, the toast and the error lines.

import { state } from "./state.js";

export const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `on…` listeners, others as attributes) and children. */
export function el(tag, attrs, ...children) {
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

export function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(state.ui.toastTimer);
  state.ui.toastTimer = setTimeout(() => { t.hidden = true; }, 2600);
}

/** Shows an error (an Error or a sentence) in the error line `id`; null clears it. */
export function showError(id, e) {
  $(id).textContent = e ? (e.message || String(e)) : "";
}
