// Helpers shared by the widgets: DOM building (text only, never HTML; h() lives in dom.js),
// the request channel to the kernel, value formatting.

import { h } from "./dom.js";

export { h };

/**
 * Set an element's text (and title for the full value), safely. A text that is already shown
 * is not written again: textContent always replaces the text node, and each replacement costs
 * the page a style and layout pass on the next frame (a relabel re-renders every view).
 */
export function setText(node, value, title) {
  const text = String(value);
  if (node.childNodes.length > 1 || node.textContent !== text) node.textContent = text;
  if (title !== undefined && node.title !== title) node.title = title;
}

/** Set one inline style property, writing it only when it changes (see setText). */
export function setStyle(node, prop, value) {
  if (node.style[prop] !== value) node.style[prop] = value;
}

/** Show or hide an element, writing the attribute only when that changes (see setText). */
export function setHidden(node, hidden) {
  if (node.hidden !== Boolean(hidden)) node.hidden = Boolean(hidden);
}

/** Only data:image URLs produced by the kernel are used as image sources. */
export function safeImageSrc(value) {
  return typeof value === "string" && value.startsWith("data:image/") ? value : null;
}

export function formatNumber(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toFixed(4)));
}

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A count with thousands separators: 1797 -> "1,797". */
export function formatCount(n) {
  return typeof n === "number" && Number.isFinite(n) ? COUNT.format(n) : String(n ?? "");
}

const numberFormats = new Map(); // "decimals|group" -> Intl.NumberFormat

function numberFormat(decimals, group) {
  const key = `${decimals}|${group}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      useGrouping: group,
    });
    numberFormats.set(key, f);
  }
  return f;
}

/**
 * A number under its column's format `spec` ({decimals, group} or {exp}), the one format the
 * kernel chose from the column's values (widgets/_counts.py number_format), so that a value
 * reads the same in every view (grid cell, editor fact); without a spec, the per-value format.
 */
export function formatColumnNumber(v, spec) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number" || !Number.isFinite(v) || !spec) return formatNumber(v);
  if (typeof spec.exp === "number") return v.toExponential(Math.max(0, Math.min(10, spec.exp)));
  const d = Math.max(0, Math.min(10, Number(spec.decimals) || 0));
  return numberFormat(d, Boolean(spec.group)).format(v);
}

export function formatValue(v, kind) {
  if (v === null || v === undefined) return "";
  if (kind === "number" || kind === "id") return formatNumber(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

/** Index of a label value in the classes list (by value, then by text), or -1. */
export function classIndex(classes, value) {
  if (value === null || value === undefined) return -1;
  let i = classes.findIndex((c) => c === value);
  if (i < 0) i = classes.findIndex((c) => String(c) === String(value));
  return i;
}

/**
 * How keys pick a class: "name" when every class name is one distinct character (digits
 * 0-9, letters): the key is the class itself, so on digits `2` is the class "2"; otherwise
 * "position": 1..9 -> classes[0..8], 0 -> classes[9], the key shown on each class button.
 */
export function classKeyMode(classes) {
  if (!classes.length || classes.length > 36) return "position";
  const names = classes.map((c) => String(c));
  const single = names.every((n) => /^[0-9A-Za-z]$/.test(n));
  return single && new Set(names.map((n) => n.toLowerCase())).size === names.length ? "name" : "position";
}

/** The key that picks classes[i] (null when no key does). */
export function classKey(classes, i) {
  if (classKeyMode(classes) === "name") return String(classes[i]);
  return i < 10 ? String(i === 9 ? 0 : i + 1) : null;
}

/** The class a key picks (undefined when it picks none); see classKeyMode. */
export function classForKey(classes, key) {
  if (typeof key !== "string" || key.length !== 1) return undefined;
  if (classKeyMode(classes) === "name") {
    let i = classes.findIndex((c) => String(c) === key);
    if (i < 0) i = classes.findIndex((c) => String(c).toLowerCase() === key.toLowerCase());
    return i < 0 ? undefined : classes[i];
  }
  if (!/^[0-9]$/.test(key)) return undefined;
  const i = key === "0" ? 9 : Number(key) - 1;
  return i < classes.length ? classes[i] : undefined;
}

/** The help text of the class keys: which keys pick which class. */
export function classKeyHelp(classes) {
  if (!classes.length) return "";
  if (classKeyMode(classes) === "name") {
    const names = classes.map((c) => String(c));
    const span = names.length > 4 ? `${names[0]}-${names[names.length - 1]}` : names.join("/");
    return `keys ${span} pick the class of that name`;
  }
  const last = Math.min(classes.length, 10);
  const keys = last === 10 ? "1-9, 0" : last === 1 ? "1" : `1-${last}`;
  return `${keys} pick a class by position (key shown on the button)`;
}

/** Whether a letter command key is free (no class is picked by it). */
export function commandKeyFree(classes, key) {
  return classForKey(classes, key) === undefined;
}

export class KernelError extends Error {}

/** A request refused because the view's kernel object is gone: the banner says so already. */
export class DisconnectedError extends KernelError {}

const WAITING_MS = 2000;
const STALE_MS = 10000;
const PING_MS = 4000;

/**
 * One typed request/response channel over the widget's custom messages.
 * request(payload) -> Promise of the kernel's answer ({type: "page"|"ok"|"item", ...});
 * an answer {type: "error", message} rejects with a KernelError. Several views of one
 * model share the comm: each view's request ids carry its own prefix.
 * onHealth(state, seconds) is called with "ok" | "waiting" | "stale" when no answer comes,
 * and "gone" when the kernel side of the model is closed (kernel restart or shutdown).
 */
export class Channel {
  constructor(model, onHealth) {
    this.model = model;
    this.onHealth = onHealth || (() => {});
    this.prefix = Math.random().toString(36).slice(2, 10);
    this.seq = 0;
    this.pending = new Map();
    this.health = "ok";
    this.handler = (msg) => this.receive(msg);
    model.on("msg:custom", this.handler);
    // the kernel side of the model is gone (kernel restarted or shut down, widget closed)
    this.onGone = () => this.setHealth("gone", 0);
    model.on("destroy", this.onGone);
    model.on("comm:close", this.onGone);
    // JupyterLab / Notebook 7: the widget manager's kernel connection reports restarts
    // (the models and their views survive a restart, but their kernel objects do not)
    this.kernel = model.widget_manager?.kernel;
    this.onKernelStatus = (_, status) => {
      // "starting" after this view exists: the kernel was restarted (by the REST API the
      // browser only sees "starting"; from the Lab menu "restarting" first)
      if (["restarting", "autorestarting", "starting", "dead"].includes(status)) this.onGone();
    };
    try {
      this.kernel?.statusChanged?.connect(this.onKernelStatus);
      this.kernel?.disposed?.connect(this.onGone);
    } catch {
      this.kernel = null; // best effort only
    }
    this.timer = setInterval(() => this.check(), 500);
    // An idle view still notices a kernel restart nobody told the page about (another
    // client restarted it): a heartbeat that goes unanswered turns the view stale.
    this.heartbeat = setInterval(() => {
      if (this.health !== "gone" && this.pending.size === 0) {
        this.request({ type: "ping" }).catch(() => {});
      }
    }, PING_MS);
  }

  request(payload) {
    const request_id = `${this.prefix}-${++this.seq}`;
    if (this.health === "gone") {
      // nothing is sent to a kernel object that is gone: the view stays disconnected
      return Promise.reject(new DisconnectedError("disconnected: re-run the cell for a live view"));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(request_id, { resolve, reject, sent: Date.now() });
      try {
        this.model.send({ ...payload, request_id });
      } catch (err) {
        // the comm cannot send: the kernel side of this model is gone for good
        this.pending.delete(request_id);
        this.onGone();
        reject(new DisconnectedError(`disconnected (${err}): re-run the cell for a live view`));
      }
    });
  }

  receive(msg) {
    if (!msg || typeof msg !== "object" || typeof msg.request_id !== "string") return;
    const entry = this.pending.get(msg.request_id);
    if (!entry) return;
    this.pending.delete(msg.request_id);
    this.check();
    if (msg.type === "error") entry.reject(new KernelError(String(msg.message ?? "error")));
    else entry.resolve(msg);
  }

  check() {
    if (this.health === "gone") return;
    let oldest = Infinity;
    for (const { sent } of this.pending.values()) oldest = Math.min(oldest, sent);
    const age = oldest === Infinity ? 0 : Date.now() - oldest;
    const state = age >= STALE_MS ? "stale" : age >= WAITING_MS ? "waiting" : "ok";
    this.setHealth(state, Math.round(age / 1000));
  }

  setHealth(state, seconds) {
    if (state === this.health && state === "ok") return;
    // "gone" is final: only re-running the cell (a new model) gives a live view again
    if (this.health === "gone" && state !== "gone") return;
    if (state === "gone") {
      clearInterval(this.heartbeat);
      for (const entry of this.pending.values()) {
        entry.reject(new DisconnectedError("disconnected: re-run the cell for a live view"));
      }
      this.pending.clear();
      if (this.health === "gone") return;
    }
    this.health = state;
    this.onHealth(state, seconds);
  }

  dispose() {
    clearInterval(this.timer);
    clearInterval(this.heartbeat);
    this.model.off("msg:custom", this.handler);
    this.model.off("destroy", this.onGone);
    try {
      this.kernel?.statusChanged?.disconnect(this.onKernelStatus);
      this.kernel?.disposed?.disconnect(this.onGone);
    } catch {
      // ignore
    }
    this.model.off("comm:close", this.onGone);
    this.pending.clear();
  }
}

/**
 * The views of one dataset open in this page, by the dataset's key (the `dataset_key` trait).
 * A relabel patch one view receives is handed to the others of its dataset at once, so every
 * view shows the new labels in the same frame instead of one kernel message apart (each
 * view's own patch, with what is particular to it, still follows). Kept on globalThis: each
 * widget's module may be loaded once per model.
 */
const SIBLINGS = Symbol.for("dcai_jupyter.dataset_views");

function siblings() {
  if (!(globalThis[SIBLINGS] instanceof Map)) globalThis[SIBLINGS] = new Map();
  return globalThis[SIBLINGS];
}

/** Join the views of dataset `key`: `onSibling(msg)` gets what the others pass on. Returns leave(). */
export function joinDataset(key, onSibling) {
  if (!key) return () => {};
  const all = siblings();
  let set = all.get(key);
  if (!set) all.set(key, (set = new Set()));
  set.add(onSibling);
  return () => {
    set.delete(onSibling);
    if (!set.size && all.get(key) === set) all.delete(key);
  };
}

/** Hand `msg` to the other views of dataset `key` (not to `from`, the sender's onSibling). */
export function tellDataset(key, msg, from) {
  const set = key ? siblings().get(key) : undefined;
  if (!set) return;
  for (const fn of [...set]) {
    if (fn === from) continue;
    try {
      fn(msg);
    } catch (err) {
      console.error("dcai_jupyter: a view failed to follow a change", err); // eslint-disable-line no-console
    }
  }
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Keys typed in our widgets must not reach JupyterLab's notebook shortcuts. */
export function isEditable(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName))
  );
}

/**
 * Hand the keyboard focus from a widget back to the notebook, in command mode: the widget's
 * cell gets the focus (JupyterLab and Notebook 7 then take `b`, `a`, `Esc`, arrows as their
 * command-mode keys). Outside a notebook cell the widget just lets the focus go.
 */
export function focusNotebook(node) {
  const cell = node.closest(".jp-Cell");
  if (cell instanceof HTMLElement) {
    if (!cell.hasAttribute("tabindex")) cell.tabIndex = -1;
    cell.focus({ preventScroll: true });
  }
  if (node.contains(document.activeElement)) document.activeElement.blur();
}

/**
 * While the focus is in `root`, a click elsewhere in its notebook cell (the prompt, the cell's
 * margin) hands the focus to the cell: JupyterLab keeps the focus where it is when the cell
 * clicked is already the active one, and the widget would go on taking the keys. Returns a
 * function that stops listening.
 */
export function releaseFocusOnOutsideClick(root) {
  const onDown = (e) => {
    if (!root.contains(document.activeElement) || root.contains(e.target)) return;
    const cell = root.closest(".jp-Cell");
    if (!cell || !(e.target instanceof Node) || !cell.contains(e.target)) return;
    // after JupyterLab's own handling of the click (it may move the focus itself)
    setTimeout(() => {
      if (root.contains(document.activeElement)) focusNotebook(root);
    }, 0);
  };
  document.addEventListener("mousedown", onDown, true);
  return () => document.removeEventListener("mousedown", onDown, true);
}
