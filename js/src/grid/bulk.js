// The grid's bulk actions: accept the open findings' suggestions, relabel to a class, remove,
// mark reviewed (or unmark), on the selection or on every row matching the current filter.
// Each one is ONE recorded change in the kernel (mark reviewed: one recorded event), so
// `ds.undo()` reverts a bulk change in one step, and the result line's Undo reopens what a
// "mark reviewed" marked. The buttons show how many samples they touch (asked of
// the kernel: `bulk_preview`); an action on the filter asks for a confirmation first, and
// sends the count it showed (`expect`): if the data changed since, the kernel refuses.
import { DisconnectedError, KernelError, h } from "../shared.js";
import { formatCount } from "./format.js";

/** Past tense of each action, for the result line. */
const DONE = {
  accept: "accepted",
  relabel: "relabeled",
  remove: "removed",
  review: "marked reviewed",
  unreview: "reopened (unmarked reviewed)",
};
/** The actions recorded as an event (no data change, no version): ds.undo() does not see them. */
const EVENTS = new Set(["review", "unreview"]);

export class BulkActions {
  /** view: the GridView (selection, pager filter, classes, findings action, channel, edit). */
  constructor(view) {
    this.view = view;
    this.scope = null; // "selection" | "filter"; null: follow the selection
    this.preview = null; // {scope, rows, accept, review, version} for the current scope
    this.gen = 0; // preview requests: only the newest answer counts
    this.confirming = null; // {action, label, n} waiting for Confirm
    this.busy = false;
    this.queued = false;
    this.toggle = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "bulk-toggle",
      text: "Bulk actions ▾",
      title: "Accept, relabel, remove or mark reviewed: the selection, or every row matching the filter",
      onclick: (e) => {
        e.stopPropagation();
        this.panel.hidden = !this.panel.hidden;
        this.toggle.setAttribute("aria-expanded", String(!this.panel.hidden));
        this.confirming = null;
        this.result.textContent = "";
        this.refresh();
      },
    });
    this.scopeSelect = h(
      "select",
      {
        "data-testid": "bulk-scope",
        "aria-label": "Apply to",
        onchange: () => {
          this.scope = this.scopeSelect.value;
          this.confirming = null;
          this.refresh();
        },
      },
      [h("option", { value: "selection" }), h("option", { value: "filter" })],
    );
    const button = (action, testid) =>
      h("button", {
        type: "button",
        className: "dcai-btn",
        "data-testid": testid,
        onclick: () => this.ask(action),
      });
    this.acceptBtn = button("accept", "bulk-accept");
    this.relabelBtn = button("relabel", "bulk-relabel");
    this.relabelTo = h("select", {
      "data-testid": "bulk-relabel-to",
      "aria-label": "Relabel to",
      onchange: () => {
        this.confirming = null;
        this.render(true);
      },
    });
    this.removeBtn = button("remove", "bulk-remove");
    this.reviewBtn = button("review", "bulk-review");
    this.unreviewBtn = button("unreview", "bulk-unreview");
    this.confirmText = h("span", { "data-testid": "bulk-confirm-text" });
    this.confirmBox = h("div", { className: "dcai-bulk-confirm", "data-testid": "bulk-confirm", hidden: true }, [
      this.confirmText,
      h("button", {
        type: "button",
        className: "dcai-btn dcai-btn-primary",
        "data-testid": "bulk-confirm-yes",
        text: "Confirm",
        onclick: () => this.run(),
      }),
      h("button", {
        type: "button",
        className: "dcai-btn",
        "data-testid": "bulk-confirm-no",
        text: "Cancel",
        onclick: () => {
          this.confirming = null;
          this.render(true);
        },
      }),
    ]);
    this.result = h("span", { className: "dcai-muted", "data-testid": "bulk-result" });
    this.panel = h("div", { className: "dcai-bulk-panel", "data-testid": "bulk-panel", hidden: true }, [
      h("div", { className: "dcai-bulk-row" }, [
        h("span", { className: "dcai-muted", text: "apply to" }),
        this.scopeSelect,
        this.acceptBtn,
        h("span", { className: "dcai-bulk-relabel" }, [this.relabelBtn, this.relabelTo]),
        this.removeBtn,
        this.reviewBtn,
        this.unreviewBtn,
      ]),
      this.confirmBox,
      this.result,
    ]);
    this.key = null;
    this.classesKey = null;
  }

  get hasFindings() {
    return Boolean(this.view.model.get("has_findings"));
  }

  /** The scope acted on: the one chosen, else the selection when there is one. */
  currentScope() {
    const n = this.view.selected.size;
    if (this.scope === "selection" && n === 0) return "filter";
    return this.scope ?? (n ? "selection" : "filter");
  }

  /** Whether the view shows a subset (a filter is on): only for the wording. */
  filtered() {
    const f = this.view.pager.filter;
    return f.label !== null || f.flagged || Boolean(f.text) || Boolean(f.review);
  }

  target(scope) {
    return scope === "selection"
      ? { scope, ids: [...this.view.selected] }
      : { scope, filter: { ...this.view.pager.filter } };
  }

  /** The selection, the filter, the data or a review changed: ask for the counts again. */
  refresh() {
    this.preview = null;
    this.confirming = null;
    if (this.panel.hidden || this.queued) {
      this.render(true);
      return;
    }
    this.queued = true; // several changes in one task: one request
    queueMicrotask(() => {
      this.queued = false;
      if (this.panel.hidden || this.view.disposed) return;
      const scope = this.currentScope();
      const gen = ++this.gen;
      this.view.channel.request({ type: "bulk_preview", ...this.target(scope) }).then(
        (answer) => {
          if (gen !== this.gen) return;
          this.preview = answer;
          this.render(true);
        },
        (err) => {
          if (gen !== this.gen || err instanceof DisconnectedError) return;
          this.result.textContent = err instanceof KernelError ? err.message : String(err);
        },
      );
      this.render(true);
    });
  }

  /** How many samples `action` touches in the current scope (null while not known). */
  count(action) {
    const p = this.preview;
    if (!p || p.scope !== this.currentScope()) return null;
    if (action === "accept" || action === "review" || action === "unreview") return p[action] ?? null;
    return p.rows;
  }

  where(scope) {
    return scope === "selection" ? "selected" : "filter";
  }

  label(action, n) {
    const c = n === null ? "…" : formatCount(n);
    const removes = this.view.action === "remove";
    return {
      accept: removes ? `Accept ${c} removals` : `Accept ${c} suggestions`,
      relabel: `Relabel ${c} to`,
      remove: `Remove ${c}`,
      review: `Mark ${c} reviewed`,
      unreview: `Unmark ${c} reviewed`,
    }[action];
  }

  /** Update the panel (cheap: the DOM is touched only when what it shows changed). */
  render(force = false) {
    const v = this.view;
    const classes = v.classes;
    const ck = JSON.stringify(classes);
    if (ck !== this.classesKey) {
      this.classesKey = ck;
      const keep = this.relabelTo.value;
      this.relabelTo.replaceChildren(...classes.map((c) => h("option", { value: String(c), text: String(c) })));
      if (classes.some((c) => String(c) === keep)) this.relabelTo.value = keep;
      force = true;
    }
    if (this.panel.hidden && !force) return;
    const scope = this.currentScope();
    const n = v.selected.size;
    const total = v.pager.total;
    const key = JSON.stringify([scope, n, total, this.preview, this.confirming, this.busy, this.filtered(), v.action]);
    if (!force && key === this.key) return;
    this.key = key;
    const [selOpt, filtOpt] = this.scopeSelect.options;
    selOpt.textContent = `the ${formatCount(n)} selected`;
    selOpt.disabled = n === 0;
    const rows = total === null || total === undefined ? "…" : formatCount(total);
    filtOpt.textContent = this.filtered() ? `all ${rows} rows matching the filter` : `all ${rows} rows`;
    this.scopeSelect.value = scope;
    const suffix = ` (${this.where(scope)})`;
    const canAccept = v.canAccept;
    for (const [btn, action] of [
      [this.acceptBtn, "accept"],
      [this.relabelBtn, "relabel"],
      [this.removeBtn, "remove"],
      [this.reviewBtn, "review"],
      [this.unreviewBtn, "unreview"],
    ]) {
      const c = this.count(action);
      btn.textContent = this.label(action, c) + (action === "relabel" ? "" : suffix);
      btn.disabled = this.busy || !c || Boolean(this.confirming);
      btn.dataset.count = c === null ? "" : String(c);
    }
    this.acceptBtn.hidden = !canAccept;
    this.reviewBtn.hidden = !this.hasFindings;
    // shown where there is something to reopen: rows marked reviewed in the scope
    this.unreviewBtn.hidden = !this.hasFindings || !this.count("unreview");
    this.relabelTo.disabled = this.busy || Boolean(this.confirming) || !classes.length;
    this.relabelBtn.title = `Set the label of every sample${suffix} to the class chosen beside: one recorded change`;
    this.acceptBtn.title = "Open findings only (not resolved since): one recorded change";
    this.reviewBtn.title = "Open findings only: one recorded event; every view shows them as reviewed";
    this.removeBtn.title = "Remove the samples from the dataset: one recorded change (ds.undo() reverts)";
    this.unreviewBtn.title = "Reopen the samples marked reviewed: one recorded event";
    const c = this.confirming;
    this.confirmBox.hidden = !c;
    if (c) {
      const what = c.action === "relabel" ? `${this.label("relabel", c.n)} ${c.label}` : this.label(c.action, c.n);
      const how =
        c.action === "review"
          ? "one recorded event; every view shows them as reviewed"
          : c.action === "unreview"
            ? "one recorded event; they are open again"
            : "one recorded change; ds.undo() reverts it";
      this.confirmText.textContent = `${what}: the samples ${this.filtered() ? "matching the filter" : "of the whole dataset"} (${how})? `;
    }
  }

  /** A button was pressed: an action on the filter asks first; on the selection it runs. */
  ask(action) {
    const n = this.count(action);
    if (!n || this.busy) return;
    const label = action === "relabel" ? this.relabelTo.value : null;
    const classes = this.view.classes;
    const value = action === "relabel" ? classes.find((c) => String(c) === label) : null;
    this.confirming = { action, label: value ?? label, n, scope: this.currentScope() };
    if (this.confirming.scope === "filter") this.render(true);
    else this.run();
  }

  run() {
    const c = this.confirming;
    if (!c || this.busy) return;
    this.busy = true;
    this.confirming = null;
    this.result.textContent = "";
    const on = c.ids ? { scope: "selection", ids: c.ids } : this.target(c.scope);
    const payload = { type: "bulk", action: c.action, ...on, expect: c.n };
    if (c.action === "relabel") payload.label = c.label;
    this.render(true);
    const done = () => {
      this.busy = false;
      this.refresh();
    };
    this.view.channel.request(payload).then(
      (answer) => {
        this.view.showError("");
        const to = c.action === "relabel" ? ` to ${c.label}` : "";
        const how = EVENTS.has(c.action) ? " (one recorded event)" : ` · v${answer.version} · ds.undo() reverts it`;
        const text = answer.changed ? `${formatCount(answer.n)} ${DONE[c.action]}${to}${how}` : "nothing to change";
        const marked = c.action === "review" && answer.changed && Array.isArray(answer.ids) ? answer.ids : [];
        if (marked.length) {
          // ds.undo() reverts data changes, not this event: the panel offers its own undo
          const undo = h("button", {
            type: "button",
            className: "dcai-btn",
            "data-testid": "bulk-undo",
            text: "Undo",
            title: `Reopen these ${formatCount(marked.length)} samples (one recorded unmark_reviewed event)`,
            onclick: () => {
              this.confirming = { action: "unreview", n: marked.length, scope: "selection", ids: marked };
              this.run();
            },
          });
          this.result.replaceChildren(`${text} `, undo);
        } else this.result.textContent = text;
        if (c.action === "remove" && c.scope === "selection") this.view.setSelection(new Set());
        done();
      },
      (err) => {
        if (!(err instanceof DisconnectedError)) {
          this.view.showError(err instanceof KernelError ? err.message : String(err));
        }
        done();
      },
    );
  }
}
