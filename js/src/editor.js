// LabelEditor front end: one sample at a time, large, decided with one key.
// The queue, the position and the decisions live in the kernel; this view asks for the
// current item and sends decisions. What is shown about a finding comes from its declared
// roles (suggestion, score, reason, group, keeper). All values are rendered as text.
// editor/sample.js shows the sample, editor/keys.js maps keys to actions and says so.
import { acceptable, keyAction, keyHelp } from "./editor/keys.js";
import { SamplePane } from "./editor/sample.js";
import { KernelView } from "./kernel_view.js";
import {
  DisconnectedError,
  KernelError,
  classIndex,
  classKey,
  focusNotebook,
  formatCount,
  h,
  isEditable,
  releaseFocusOnOutsideClick,
  setText,
} from "./shared.js";

class EditorView extends KernelView {
  constructor(model, host) {
    super(model, host, { testid: "editor", what: "this editor" });
    this.item = null; // last item answer shown
    this.loadingIndex = null;
    this.loadGen = 0;
    this.busy = false; // a decision/move is on its way: further keys wait in `queued`
    this.queued = [];
    this.disposed = false;
    this.toldVersion = null; // the newest version a "changed" message carried (see datasetVersion)
    this.build();
    this.listen();
    this.load(model.get("position"));
  }

  // ---------------------------------------------------------------- DOM
  build() {
    const button = (testid, text, title, action) =>
      h("button", {
        type: "button",
        className: "dcai-btn",
        "data-testid": testid,
        tabindex: "-1",
        title,
        text,
        onmousedown: (e) => e.preventDefault(), // keep the keyboard focus on the editor
        onclick: (e) => {
          e.stopPropagation();
          this.root.focus({ preventScroll: true });
          this.act(action);
        },
      });
    this.progress = h("span", { className: "dcai-progress", "data-testid": "editor-progress" });
    this.status = h("span", { className: "dcai-status", "data-testid": "editor-status" });
    this.counts = h("span", { className: "dcai-counts", "data-testid": "editor-counts" });
    this.sample = new SamplePane(this.model);
    this.classBar = h("div", { className: "dcai-classes" });
    const action = this.model.get("action") || "";
    this.acceptButton = button(
      "editor-accept",
      action === "remove" ? "Remove (Enter)" : "Accept (Enter)",
      action === "remove" ? "Accept the finding: remove this sample" : "Accept the suggested label",
      { kind: "accept" },
    );
    this.actions = h("div", { className: "dcai-actions" }, [
      this.acceptButton,
      button("editor-remove", "Remove (Del)", "Remove this sample from the dataset", { kind: "remove" }),
      action === "remove"
        ? button("editor-keep", "Keep", "Keep this sample (a decision; nothing changes)", { kind: "keep" })
        : null,
      button("editor-prev", "← Prev", "Previous sample (← or k)", { kind: "move", step: -1 }),
      button("editor-skip", "Skip (s)", "Skip without deciding", { kind: "move", step: 1 }),
      button("editor-undo", "Undo (u)", "Undo the last decision", { kind: "undo" }),
    ]);
    this.done = h("div", { className: "dcai-done", "data-testid": "editor-done", hidden: true });
    this.focusHint = h("div", {
      className: "dcai-focus-hint",
      "data-testid": "editor-focus-hint",
      text: "Click here to review: keys go elsewhere while the editor is not focused",
    });
    this.help = h("div", { className: "dcai-help", "data-testid": "editor-help" });
    const sample = this.sample;
    this.panel = h("div", { className: "dcai-editor-panel" }, [
      sample.facts(),
      sample.reason,
      sample.findingFacts,
      sample.decision,
      this.classBar,
      this.actions,
      sample.fields,
    ]);
    this.main = h("div", { className: "dcai-editor-main" }, [sample.current, this.panel]);
    const op = this.model.get("findings_op");
    this.root = h(
      "div",
      {
        className: "dcai-editor dcai-widget",
        "data-testid": "dcai-editor",
        tabindex: "0",
        "data-lm-suppress-shortcuts": "true",
        "aria-label": "Label editor",
      },
      [
        h("div", { className: "dcai-toolbar" }, [
          h("strong", { text: op ? `Review: ${op}` : "Label review" }),
          this.progress,
          this.counts,
          this.status,
        ]),
        this.focusHint,
        this.errorBox,
        this.banner.el,
        this.main,
        sample.peers,
        this.done,
        this.help,
      ],
    );
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.stopReleasing = releaseFocusOnOutsideClick(this.root);
    this.root.addEventListener("mousedown", (e) => {
      if (!isEditable(e.target)) this.root.focus({ preventScroll: true });
    });
    this.onFocusChange = () => this.renderFocus();
    this.root.addEventListener("focusin", this.onFocusChange);
    this.root.addEventListener("focusout", () => requestAnimationFrame(this.onFocusChange));
    this.host.append(this.root);
    this.buildClasses();
    this.renderProgress();
    this.renderFocus();
    this.autofocus();
  }

  /** Whether the keyboard focus is in this editor (its keys reach it). */
  get focused() {
    return this.root.contains(document.activeElement);
  }

  renderFocus() {
    if (this.disposed) return;
    const focused = this.focused;
    this.root.classList.toggle("dcai-unfocused", !focused);
    this.root.dataset.focused = focused ? "true" : "false";
    this.focusHint.hidden = focused;
  }

  /**
   * Take the keyboard focus once, when the editor is first displayed (its cell was run), so
   * that the first Enter decides instead of typing into the next cell. The model's
   * `autofocus` is then cleared (and saved), so a later render (page reload, a second view
   * of the same editor) never steals the focus.
   */
  autofocus() {
    if (!this.model.get("autofocus")) return;
    let tries = 0;
    const attempt = () => {
      if (this.disposed || !this.model.get("autofocus")) return;
      if (!this.root.isConnected || this.root.offsetParent === null) {
        if (++tries < 100) setTimeout(attempt, 50); // not attached / shown yet
        return;
      }
      this.root.focus({ preventScroll: true });
      this.renderFocus();
      this.model.set("autofocus", false);
      try {
        this.model.save_changes();
      } catch {
        // the kernel is gone: nothing to save
      }
    };
    requestAnimationFrame(attempt);
  }

  /** Whether Enter accepts something on the sample shown (see `acceptable`). */
  canAccept(item = this.item) {
    const action = this.model.get("action") || "";
    if (!acceptable(action, this.model.get("has_suggestions"))) return false;
    if (action === "remove" || !item || item.done) return true;
    return item.suggested !== null && item.suggested !== undefined;
  }

  renderAccept() {
    const can = this.canAccept();
    this.acceptButton.hidden = !acceptable(this.model.get("action") || "", this.model.get("has_suggestions"));
    this.acceptButton.disabled = !can;
    setText(this.help, keyHelp(this.model.get("action") || "", this.model.get("classes") || [], can));
  }

  buildClasses() {
    const classes = this.model.get("classes") || [];
    this.renderAccept();
    this.classBar.replaceChildren(
      ...classes.map((c, i) => {
        const key = classKey(classes, i);
        // by name the button is the key itself; by position the key is shown before the name
        const text = key === null || key === String(c) ? String(c) : `${key} · ${c}`;
        return h("button", {
          type: "button",
          className: "dcai-btn dcai-class",
          "data-testid": "editor-class",
          "data-class": String(c),
          "data-key": key,
          tabindex: "-1",
          // the whole name: a long one is cut short on the button (ellipsis)
          title: key === null ? String(c) : `${c} (key ${key})`,
          text,
          onmousedown: (e) => e.preventDefault(),
          onclick: (e) => {
            e.stopPropagation();
            this.root.focus({ preventScroll: true });
            this.act({ kind: "label", label: c });
          },
        });
      }),
    );
  }

  listen() {
    const m = this.model;
    this.onModel = {
      "change:position": () => this.load(m.get("position")),
      "change:version": () => this.versionChanged(),
      "change:reviewed": () => this.renderProgress(),
      "change:total": () => this.renderProgress(),
      "change:resolved_count": () => this.renderProgress(),
      "change:open_count": () => this.renderProgress(),
      "change:classes": () => this.buildClasses(),
      "change:formats": () => this.item && this.show(this.item),
      "change:error": () => this.showError(m.get("error") || ""),
    };
    for (const [ev, fn] of Object.entries(this.onModel)) m.on(ev, fn);
    // The kernel names the samples of each change before the new version arrives: the item
    // shown is read again only when the change touched it (or a member of its group).
    this.onChanged = (msg) => {
      if (!msg || msg.type !== "changed") return;
      this.followChange(msg);
      // the message carries the new version: the kernel sends no version message after it
      if (typeof msg.version === "number" && msg.version > this.datasetVersion()) {
        this.toldVersion = msg.version;
        this.versionChanged();
      }
    };
    m.on("msg:custom", this.onChanged);
  }

  /**
   * The dataset's newest version this view knows: the `version` trait, or the version a
   * "changed" message carried (the kernel updates the trait without a message of its own then).
   */
  datasetVersion() {
    const synced = this.model.get("version");
    return this.toldVersion !== null && this.toldVersion > synced ? this.toldVersion : synced;
  }

  versionChanged() {
    // a change that did not touch the item shown was followed already ("changed")
    if (!this.busy && !this.upToDate(this.datasetVersion())) this.refresh();
  }

  /** Whether the item shown is as of `version` (nothing to load for that version). */
  upToDate(version) {
    const item = this.item;
    return Boolean(item) && this.loadingIndex === null && item.version >= version;
  }

  /**
   * A change {version, op, ids} was recorded. An item it did not touch is the same at the
   * new version: it is marked so (no round trip). Otherwise the change:version that follows
   * reloads it (coalesced with one already on its way).
   */
  followChange(msg) {
    const item = this.item;
    if (!item || item.done || this.loadingIndex !== null || !Array.isArray(msg.ids)) return;
    if (typeof msg.version !== "number" || item.version !== msg.version - 1) return;
    const touched = new Set(msg.ids);
    const peers = item.group && Array.isArray(item.group.peers) ? item.group.peers : [];
    if (touched.has(item.id) || peers.some((p) => touched.has(p.id))) return;
    item.version = msg.version;
    this.renderProgress();
  }

  dispose() {
    this.disposed = true;
    this.stopReleasing?.();
    this.model.off("msg:custom", this.onChanged);
    for (const [ev, fn] of Object.entries(this.onModel)) this.model.off(ev, fn);
    this.channel.dispose();
  }

  healthChanged() {
    this.renderProgress();
  }

  renderProgress() {
    const m = this.model;
    // shown once the first sample is on screen, so "done / total" means "ready"; done: the
    // queue entries decided here or resolved elsewhere since the editor was made
    const done = m.get("total") - m.get("open_count");
    setText(this.progress, this.item ? `${done} / ${m.get("total")}` : "loading…");
    if (m.get("findings_op")) {
      // decided here, or resolved elsewhere (before the editor was made or since, in another
      // view or by a cell): resolved; the rest of the queue: to review
      const resolved = m.get("resolved_count") + m.get("reviewed");
      setText(this.counts, `${formatCount(m.get("open_count"))} to review · ${formatCount(resolved)} resolved`);
    }
    const v = this.item ? this.item.version : this.datasetVersion();
    setText(this.status, [`v${v}`, this.healthText()].filter(Boolean).join(" · "));
  }

  // ---------------------------------------------------------------- items
  /**
   * The dataset changed: show the current item as it is now. Changes that come while an
   * item is on its way are coalesced into one more request once it arrived (not one each).
   */
  refresh() {
    if (this.loadingIndex !== null) {
      this.reloadAfter = true;
      return;
    }
    this.load(this.model.get("position"));
  }

  load(index) {
    this.reloadAfter = false;
    const gen = ++this.loadGen;
    this.loadingIndex = index;
    this.channel.request({ type: "item", index }).then(
      (item) => {
        if (gen !== this.loadGen || this.disposed) return;
        this.loadingIndex = null;
        this.show(item);
        this.busy = false;
        this.drain();
        if (this.reloadAfter && !this.busy && this.loadingIndex === null) {
          if (item.version < this.datasetVersion()) this.load(this.model.get("position"));
          else this.reloadAfter = false;
        }
      },
      (err) => {
        if (gen !== this.loadGen || this.disposed) return;
        this.loadingIndex = null;
        this.busy = false;
        this.queued = [];
        if (!(err instanceof DisconnectedError)) this.showError(err instanceof KernelError ? err.message : String(err));
      },
    );
  }

  show(item) {
    this.item = item;
    const done = Boolean(item.done);
    this.done.hidden = !done;
    this.main.hidden = done;
    if (done) {
      const m = this.model;
      this.sample.clear();
      this.done.textContent =
        m.get("total") === 0
          ? "Nothing to review: the queue is empty."
          : `Done: ${m.get("reviewed")} of ${m.get("total")} reviewed. Press ← or k to go back, u to undo.`;
      this.renderProgress();
      return;
    }
    this.sample.show(item);
    const classes = this.model.get("classes") || [];
    const gi = classIndex(classes, item.given);
    for (const [i, b] of [...this.classBar.children].entries()) b.classList.toggle("dcai-current", i === gi);
    this.renderAccept();
    this.renderProgress();
  }

  // ---------------------------------------------------------------- actions
  onKey(e) {
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") {
      // back to the notebook in command mode: its keys (b, a, arrows) work at once
      e.preventDefault();
      e.stopPropagation();
      focusNotebook(this.root);
      return;
    }
    const action = keyAction(this.model.get("classes") || [], e.key);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    this.act(action);
  }

  act(action) {
    if (this.busy || this.loadingIndex !== null) {
      if (this.queued.length < 50) this.queued.push(action);
      return;
    }
    const item = this.item;
    if (!item) return;
    if (action.kind === "accept" && !item.done && !this.canAccept(item)) {
      // nothing is sent: say what to do instead
      this.showError(`sample ${item.id} has no suggestion to accept: pick a class`);
      return;
    }
    this.busy = true;
    this.showError("");
    let payload;
    if (action.kind === "move") {
      payload = { type: "move", to: Math.max(0, item.index + action.step) };
    } else if (action.kind === "undo") {
      payload = { type: "undo" };
    } else {
      if (item.done) {
        this.busy = false;
        return;
      }
      payload = { type: "decide", index: item.index, id: item.id, action: action.kind };
      if (action.kind === "label") payload.label = action.label;
    }
    this.channel.request(payload).then(
      (answer) => {
        if (this.disposed) return;
        const pos = answer.position ?? this.model.get("position");
        // the position trait normally changed first and its item is on its way; when it
        // did not change (last entry, undo to the same entry), load the entry again
        if (this.loadingIndex !== pos) this.load(pos);
      },
      (err) => {
        if (this.disposed) return;
        this.busy = false;
        this.queued = [];
        if (!(err instanceof DisconnectedError)) this.showError(err instanceof KernelError ? err.message : String(err));
      },
    );
  }

  drain() {
    if (this.busy || !this.queued.length) return;
    this.act(this.queued.shift());
  }
}

function render({ model, el }) {
  const view = new EditorView(model, el);
  return () => view.dispose();
}

export default { render };
