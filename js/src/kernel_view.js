// What every view backed by a kernel model shares: the request channel, the error line and
// the connection banner, and how the channel's health reaches the page.
import { h } from "./dom.js";
import { Channel } from "./shared.js";

/**
 * The connection banner every view shows above its content: hidden while the kernel
 * answers; "Disconnected: ..." while it does not (stale) or once the view's kernel object is
 * gone (kernel restarted or shut down). `what` names the view ("this grid"), `asOf()` adds
 * what the rows on screen are as of.
 */
export class ConnectionBanner {
  constructor(testid, what, asOf = () => "") {
    this.what = what;
    this.asOf = asOf;
    this.el = h("div", { className: "dcai-stale", "data-testid": testid, role: "status", hidden: true });
  }

  update(state, seconds) {
    const asOf = this.asOf();
    const tail = asOf ? ` ${asOf}` : "";
    let text = "";
    if (state === "gone") {
      text =
        `Disconnected: ${this.what}'s kernel object is gone (kernel restarted or shut down). ` +
        `Re-run the cell for a live view.${tail}`;
    } else if (state === "stale") {
      text =
        `Disconnected: no answer from the kernel for ${seconds} s (busy, or restarted: then ` +
        `re-run the cell).${tail}`;
    }
    this.el.textContent = text;
    this.el.hidden = !text;
  }
}

/** Whether a health state means the kernel is out of reach. */
export function isDisconnected(state) {
  return state === "stale" || state === "gone";
}

/**
 * Base of the grid, editor and history views. It owns `channel` (requests to the kernel),
 * `errorBox` (`<testid>-error`: the last refused request, hidden when empty) and `banner`
 * (`<testid>-stale`: the connection banner); the subclass places both in its DOM and sets
 * `root`. On a health change the root's `data-state` follows, the banner updates, then the
 * subclass's `healthChanged()` redraws what depends on it.
 *
 * options: testid (prefix of the two test ids), what (the banner's name for the view),
 * asOf (see ConnectionBanner).
 */
export class KernelView {
  constructor(model, host, { testid, what, asOf }) {
    this.model = model;
    this.host = host;
    this.root = null;
    this.health = "ok";
    this.errorBox = h("div", { className: "dcai-error", "data-testid": `${testid}-error`, role: "alert" });
    this.banner = new ConnectionBanner(`${testid}-stale`, what, asOf);
    this.channel = new Channel(model, (state, s) => this.onHealth(state, s));
  }

  onHealth(state, seconds) {
    this.health = state;
    if (this.root) this.root.dataset.state = state;
    this.banner.update(state, seconds);
    this.healthChanged();
  }

  /** Redraw what shows the health (a status line, buttons); called after each change. */
  healthChanged() {}

  /** The health as a status-line part: "waiting for the kernel…", "disconnected" or "". */
  healthText() {
    if (this.health === "waiting") return "waiting for the kernel…";
    return isDisconnected(this.health) ? "disconnected" : "";
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }
}
