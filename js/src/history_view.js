// HistoryView timeline: the iterations of a dataset's history, paged from the kernel.
// Entries come newest first, one page at a time; selecting one asks the kernel to preview
// its diff (the preview grid and the charts are sibling widgets); "Revert to here" asks the
// kernel for ds.revert_to(v). Every value is rendered as text.
import { KernelView } from "./kernel_view.js";
import { KernelError, h } from "./shared.js";

function fmtMetric(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(4) : String(v);
}

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString();
}

class HistoryTimelineView extends KernelView {
  constructor(model, host) {
    super(model, host, { testid: "history", what: "this history" });
    this.offset = 0; // newest-first offset of the page shown
    this.items = [];
    this.total = 0;
    this.loadGen = 0;
    this.version = null; // the dataset version of the page shown
    this.disposed = false;
    this.build();
    this.onVersion = () => this.load();
    this.onSelected = () => this.renderSelection();
    this.onPreview = () => this.renderPreview();
    this.onAction = () => this.renderPreview();
    model.on("change:version", this.onVersion);
    model.on("change:n_iterations", this.onVersion);
    model.on("change:selected", this.onSelected);
    model.on("change:preview_text", this.onPreview);
    model.on("change:last_action", this.onAction);
    // Clicking a mark of the charts (a sibling output drawn by the notebook's Vega renderer)
    // selects the iteration of its version: vega labels every SVG mark with its fields.
    this.onChartClick = (e) => {
      const target = e.target instanceof Element ? e.target : null;
      const box = target?.closest(".dcai-history-view");
      if (!box || !box.contains(this.host) || !target.closest(".dcai-history-charts")) return;
      const mark = target.closest("[aria-label]");
      const m = /\bversion: (\d+)/.exec(mark?.getAttribute("aria-label") || "");
      if (m) this.selectVersion(Number(m[1]));
    };
    document.addEventListener("click", this.onChartClick);
    this.load();
  }

  async selectVersion(version) {
    try {
      await this.channel.request({ type: "select_version", version });
      this.showError("");
    } catch (err) {
      this.showError(err instanceof KernelError ? err.message : `cannot select: ${err}`);
    }
  }

  build() {
    this.root = h("div", { className: "dcai-widget dcai-hv", "data-testid": "history-view" });
    this.title = h("span", { className: "dcai-hv-title", "data-testid": "history-title" });
    this.status = h("span", { className: "dcai-status", "data-testid": "history-status" });
    this.root.append(h("div", { className: "dcai-hv-head" }, [this.title, this.status]), this.banner.el);
    this.list = h("div", { className: "dcai-hv-list", role: "listbox", "data-testid": "history-list" });
    this.root.append(this.list);
    this.previewText = h("span", { "data-testid": "history-preview-text" });
    this.revertBtn = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "history-revert",
      title: "Bring the data back to the end of the selected iteration: one new recorded change",
      text: "Revert to here",
      disabled: true,
      onclick: () => this.revert(),
    });
    this.root.append(h("div", { className: "dcai-hv-preview" }, [this.revertBtn, this.previewText]));
    this.newer = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "history-newer",
      text: "← Newer",
      onclick: () => this.page(-1),
    });
    this.older = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "history-older",
      text: "Older →",
      onclick: () => this.page(1),
    });
    this.range = h("span", { className: "dcai-status", "data-testid": "history-range" });
    this.root.append(h("div", { className: "dcai-hv-foot" }, [this.newer, this.older, this.range]));
    this.root.append(this.errorBox);
    this.host.append(this.root);
  }

  pageSize() {
    return Math.max(1, Math.min(200, this.model.get("page_size") || 50));
  }

  page(step) {
    const size = this.pageSize();
    const next = Math.max(0, this.offset + step * size);
    if (next >= this.total && step > 0) return;
    this.offset = next;
    this.load();
  }

  async load() {
    const gen = ++this.loadGen;
    try {
      const ans = await this.channel.request({ type: "page", offset: this.offset, limit: this.pageSize() });
      if (gen !== this.loadGen || this.disposed) return;
      this.items = ans.items || [];
      this.total = ans.total || 0;
      this.showError("");
      this.render(ans.version);
    } catch (err) {
      if (gen !== this.loadGen || this.disposed) return;
      this.showError(err instanceof KernelError ? err.message : `cannot load the history: ${err}`);
    }
  }

  render(version) {
    const name = this.model.get("dataset_name") || "dataset";
    this.title.textContent = `History of ${name}`;
    this.version = version ?? null;
    this.renderStatus();
    this.list.replaceChildren(...this.items.map((it) => this.item(it)));
    const first = this.total ? this.offset + 1 : 0;
    const last = Math.min(this.total, this.offset + this.items.length);
    this.range.textContent = `${first}–${last} of ${this.total}`;
    this.newer.disabled = this.offset === 0;
    this.older.disabled = last >= this.total;
    this.renderSelection();
    this.renderPreview();
  }

  item(it) {
    const versions = it.iteration === 0 ? "v0" : it.first === it.last ? `v${it.last}` : `v${it.first}–v${it.last}`;
    const kids = [
      h("span", { className: "dcai-hv-num", text: `#${it.iteration}` }),
      h("span", {}, [
        h("span", { className: "dcai-hv-src", "data-testid": "history-source", text: it.title }),
        "  ",
        h("span", { className: "dcai-hv-when", text: fmtTime(it.started) }),
      ]),
      h("span", { className: "dcai-hv-ver", text: `${versions} · ${it.rows} rows` }),
      h("span", {
        className: "dcai-hv-ops",
        "data-testid": "history-ops",
        text: it.iteration === 0 ? "the data the history started from" : it.summary,
      }),
    ];
    const names = Object.keys(it.metrics || {});
    if (names.length) {
      const shown = names.filter((k) => !k.startsWith("f1[")).concat(names.filter((k) => k.startsWith("f1[")));
      kids.push(
        h("span", {
          className: "dcai-hv-metrics",
          "data-testid": "history-metrics",
          text: shown.slice(0, 6).map((k) => `${k} ${fmtMetric(it.metrics[k])}`).join(" · ") +
            (shown.length > 6 ? ` · +${shown.length - 6} more` : ""),
        }),
      );
    }
    if (it.code) {
      kids.push(h("pre", { className: "dcai-hv-code", text: it.code + (it.code_clamped ? "\n…" : "") }));
    }
    const node = h(
      "div",
      {
        className: "dcai-hv-item",
        role: "option",
        "data-testid": "history-item",
        "data-iteration": String(it.iteration),
        "aria-selected": "false",
        tabindex: "0",
        onclick: () => this.select(it.iteration),
        onkeydown: (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            e.stopPropagation();
            this.select(it.iteration);
          }
        },
      },
      kids,
    );
    return node;
  }

  renderStatus() {
    const n = Math.max(0, this.total - 1);
    const parts = [`${n} iteration${n === 1 ? "" : "s"}`, `version ${this.version ?? this.model.get("version")}`];
    this.status.textContent = [...parts, this.healthText()].filter(Boolean).join(" · ");
  }

  renderSelection() {
    const sel = this.model.get("selected");
    for (const node of this.list.children) {
      node.setAttribute("aria-selected", String(Number(node.dataset.iteration) === sel));
    }
    this.revertBtn.disabled = sel < 0 || this.health === "gone";
  }

  renderPreview() {
    const action = this.model.get("last_action");
    const text = this.model.get("preview_text");
    this.previewText.textContent = [text, action].filter(Boolean).join(" — ");
  }

  async select(iteration) {
    try {
      await this.channel.request({ type: "select", iteration });
      this.showError("");
    } catch (err) {
      this.showError(err instanceof KernelError ? err.message : `cannot select: ${err}`);
    }
  }

  async revert() {
    const sel = this.model.get("selected");
    if (sel < 0) return;
    this.revertBtn.disabled = true;
    try {
      await this.channel.request({ type: "revert", iteration: sel });
      this.showError("");
    } catch (err) {
      this.showError(err instanceof KernelError ? err.message : `cannot revert: ${err}`);
    } finally {
      this.renderSelection();
    }
  }

  healthChanged() {
    this.renderStatus();
    this.renderSelection();
  }

  dispose() {
    this.disposed = true;
    this.model.off("change:version", this.onVersion);
    this.model.off("change:n_iterations", this.onVersion);
    this.model.off("change:selected", this.onSelected);
    this.model.off("change:preview_text", this.onPreview);
    this.model.off("change:last_action", this.onAction);
    document.removeEventListener("click", this.onChartClick);
    this.channel.dispose();
  }
}

function render({ model, el }) {
  const view = new HistoryTimelineView(model, el);
  return () => view.dispose();
}

export default { render };
