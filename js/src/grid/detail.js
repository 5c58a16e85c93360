// What shows one item large over the rows: the sample detail (every field, its finding, its
// history, asked from the kernel) and a cell's full text (the cell expand).
import { DisconnectedError, KernelError, formatValue, h, safeImageSrc } from "../shared.js";

/** The sample detail pane of one GridView: the sample at a display index, large. */
export class Detail {
  constructor(view) {
    this.view = view;
    this.el = h("div", {
      className: "dcai-detail",
      "data-testid": "grid-detail",
      role: "dialog",
      "aria-label": "Sample detail",
      hidden: true,
    });
    this.index = null; // display index shown
    this.pending = null; // display index to show once its page is here
    this.gen = 0;
  }

  get hidden() {
    return this.el.hidden;
  }

  /** Open the sample at display index `index` large: every field, its finding, its history. */
  open(index) {
    const v = this.view;
    const it = index === null ? null : v.pager.item(index);
    if (!it) {
      this.pending = index; // shown once its page is here
      return;
    }
    this.pending = null;
    this.index = index;
    const gen = ++this.gen;
    this.el.hidden = false;
    this.el.dataset.id = String(it.id);
    this.el.replaceChildren(this.head(it.id, index), h("div", { className: "dcai-muted", text: "loading…" }));
    v.channel.request({ type: "detail", id: it.id }).then(
      (answer) => {
        if (gen === this.gen && !this.el.hidden) this.render(answer, index);
      },
      (err) => {
        if (gen !== this.gen || err instanceof DisconnectedError) return;
        this.el.replaceChildren(
          this.head(it.id, index),
          h("div", { className: "dcai-error", text: err instanceof KernelError ? err.message : String(err) }),
        );
      },
    );
  }

  /** A page arrived: open the sample waiting for it. */
  pageArrived() {
    if (this.pending !== null && this.view.pager.item(this.pending)) this.open(this.pending);
  }

  close() {
    this.gen++;
    this.index = null;
    this.pending = null;
    this.el.hidden = true;
  }

  head(id, index) {
    return h("div", { className: "dcai-detail-head" }, [
      h("strong", { "data-testid": "detail-title", text: `sample ${id}` }),
      h("span", {
        className: "dcai-muted",
        "data-testid": "detail-position",
        text: ` · ${index + 1} of ${this.view.total} in this sort and filter · ← → move · Esc closes`,
      }),
      h("span", { className: "dcai-spacer" }),
      h("button", {
        type: "button",
        className: "dcai-btn",
        "data-testid": "detail-close",
        text: "close",
        onclick: (e) => {
          e.stopPropagation();
          this.close();
        },
      }),
    ]);
  }

  render(a, index) {
    const table = (rows, testid) =>
      h(
        "table",
        { className: "dcai-fields" },
        rows.map(([name, v]) =>
          h("tr", { "data-testid": testid, "data-name": name }, [
            h("th", { text: name }),
            h("td", { text: formatValue(v, typeof v === "number" ? "number" : "text") }),
          ]),
        ),
      );
    const src = safeImageSrc(a.image);
    const parts = [this.head(a.id, index)];
    if (src) parts.push(h("img", { className: "dcai-detail-img", "data-testid": "detail-image", src, alt: "" }));
    parts.push(h("div", { className: "dcai-detail-section", text: "fields" }), table(a.fields, "detail-field"));
    if (a.finding && a.finding.length) {
      const state = a.resolved ? ` · resolved since: ${a.resolved}` : "";
      const op = this.view.findingsOp || "findings";
      parts.push(h("div", { className: "dcai-detail-section", text: `finding (${op})${state}` }));
      if (a.reason) parts.push(h("div", { className: "dcai-reason", "data-testid": "detail-reason", text: a.reason }));
      parts.push(table(a.finding, "detail-finding"));
    }
    parts.push(h("div", { className: "dcai-detail-section", text: `history of sample ${a.id}` }));
    const changes = (a.history || []).map((c) =>
      h("li", {
        "data-testid": "detail-change",
        text:
          `v${c.version} ${c.op} · ${c.source}` +
          (c.where ? ` (${c.where})` : "") +
          (c.reason ? ` · ${c.reason}` : ""),
      }),
    );
    parts.push(
      h(
        "ol",
        { className: "dcai-detail-history", "data-testid": "detail-history" },
        changes.length ? changes : [h("li", { className: "dcai-muted", text: "no recorded change" })],
      ),
    );
    this.el.replaceChildren(...parts);
  }
}

/** A cell's full text over the rows (a click elsewhere or Esc closes it). */
export class Expand {
  constructor() {
    this.el = h("div", { className: "dcai-expand", "data-testid": "cell-expand", hidden: true });
  }

  get hidden() {
    return this.el.hidden;
  }

  hide() {
    this.el.hidden = true;
  }

  show(name, text) {
    this.el.replaceChildren(
      h("div", { className: "dcai-expand-head" }, [
        h("strong", { text: name }),
        h("button", {
          type: "button",
          className: "dcai-btn",
          text: "close",
          onclick: (e) => {
            e.stopPropagation();
            this.hide();
          },
        }),
      ]),
      h("div", { className: "dcai-expand-text", text }),
    );
    this.el.hidden = false;
  }
}
