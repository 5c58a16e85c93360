// SampleGrid front end: a virtual-scrolling table / gallery whose rows are paged from the
// kernel on request. Only the rows in view are in the DOM; all values are rendered as text.
// GridView wires its parts together and renders: pager.js asks for pages, viewport.js places
// the items in view, cells.js renders them; controls.js (toolbar), columns.js (header and
// column chooser), query.js (sort and filter), status.js (status and counts lines), bulk.js
// (bulk actions), detail.js (sample detail, cell expand), keys.js (focus, keys, clicks) and
// edits.js (relabel, accept, remove) hold one idea each.
import { BulkActions } from "./grid/bulk.js";
import { Cells } from "./grid/cells.js";
import { ColumnHeader } from "./grid/columns.js";
import { Controls } from "./grid/controls.js";
import { Detail, Expand } from "./grid/detail.js";
import { Keys } from "./grid/keys.js";
import { Pager } from "./grid/pager.js";
import { Query } from "./grid/query.js";
import { Status } from "./grid/status.js";
import { Viewport } from "./grid/viewport.js";
import { KernelView } from "./kernel_view.js";
import { DisconnectedError, h, joinDataset, setStyle, tellDataset } from "./shared.js";

class GridView extends KernelView {
  constructor(model, host) {
    super(model, host, {
      testid: "grid",
      what: "this view",
      asOf: () => `The rows shown are as of v${this.pager.version ?? "?"} and may be stale.`,
    });
    this.labelCol = model.get("label_column");
    this.setColumns(model.get("schema") || []);
    this.selected = new Set(model.get("selected_ids") || []);
    this.epoch = 0; // bumped to force items to rebuild (e.g. after a refused edit)
    this.pageKeys = new WeakMap(); // page answer -> its number in the items' tokens
    this.pageSerial = 0;
    this.disposed = false;
    this.toldVersion = null; // the newest version a relabel patch carried (see datasetVersion)
    this.frame = null;
    this.pager = new Pager(this.channel, () => this.pageSize, {
      onPage: () => {
        this.showError(this.model.get("error") || "");
        this.detail.pageArrived();
        this.schedule();
      },
      onError: (message, err) => {
        if (!(err instanceof DisconnectedError)) this.showError(message);
        this.renderStatus();
      },
    });
    this.cells = new Cells(this);
    this.keys = new Keys(this);
    this.detail = new Detail(this);
    this.expand = new Expand();
    this.widths = {}; // column name -> px, as a person dragged it
    this.query = new Query(this);
    this.query.restore();
    this.build();
    this.viewport = new Viewport(this.scroll, this.body);
    this.applyLayout();
    this.listen();
    this.schedule();
  }

  // ---------------------------------------------------------------- model reads
  setColumns(schema) {
    this.columns = schema.filter((c) => !c.hidden);
    this.roleColumn = {}; // findings role -> column name
    for (const c of this.columns) if (c.role === "finding" && c.finding !== "extra") this.roleColumn[c.finding] = c.name;
  }
  get gallery() {
    return this.model.get("mode") === "gallery";
  }
  get pageSize() {
    return Math.max(1, this.model.get("page_size") || 50);
  }
  get classes() {
    return this.model.get("classes") || [];
  }
  get action() {
    return this.model.get("action") || "";
  }
  get findingsOp() {
    return this.model.get("findings_op") || "";
  }
  get total() {
    return this.pager.total ?? this.model.get("row_count");
  }
  get canAccept() {
    return ["relabel", "remove", "label"].includes(this.action);
  }

  // ---------------------------------------------------------------- DOM skeleton
  /** The toolbar, the lines above the rows, the header, the scrolling body and what shows over it. */
  build() {
    this.controls = new Controls(this);
    this.head = new ColumnHeader(this);
    this.bulk = new BulkActions(this);
    this.status = new Status(this);
    this.body = h("div", { className: "dcai-body", role: "rowgroup" });
    this.scroll = h("div", { className: "dcai-scroll", "data-testid": "grid-scroll", tabindex: "-1" }, [this.body]);
    this.help = h("div", { className: "dcai-help", "data-testid": "grid-help" });
    this.root = h(
      "div",
      {
        className: "dcai-grid dcai-widget",
        "data-testid": "dcai-grid",
        "data-lm-suppress-shortcuts": "true",
        role: "grid",
      },
      [
        this.controls.toolbar(this.bulk.toggle, this.head.button),
        this.head.panel,
        this.bulk.panel,
        this.status.counts,
        this.status.line,
        this.errorBox,
        this.banner.el,
        this.head.wrap,
        this.scroll,
        this.expand.el,
        this.detail.el,
        this.help,
      ],
    );
    this.host.append(this.root);
    this.fillControls();
  }

  /** Fill the controls from the columns, the classes and the query restored at start. */
  fillControls() {
    this.head.build();
    this.head.renderButton();
    this.controls.fillFilterOptions();
    this.controls.fillSortOptions();
    this.controls.fillFilters();
    this.help.textContent = this.keys.help();
    this.showError(this.model.get("error") || "");
  }

  applyLayout() {
    const gallery = this.gallery;
    this.root.classList.toggle("dcai-is-gallery", gallery);
    this.root.classList.toggle("dcai-is-cards", gallery && this.cells.cards);
    this.controls.renderLayout(gallery);
    this.head.wrap.hidden = gallery;
    this.fitHeight(null);
    this.viewport.clear();
    this.schedule();
  }

  // ---------------------------------------------------------------- events
  listen() {
    const m = this.model;
    this.onModel = {
      "change:version": () => this.versionChanged(),
      "change:row_count": () => this.schedule(),
      "change:review_generation": () => {
        this.pager.invalidate();
        this.bulk.refresh();
        this.schedule();
      },
      "change:classes": () => {
        this.controls.fillFilterOptions();
        this.help.textContent = this.keys.help();
        this.epoch++;
        this.schedule();
      },
      "change:schema": () => {
        // a column appeared (e.g. origins, once an operation made rows): same rows, new cells
        this.setColumns(m.get("schema") || []);
        this.head.renderButton();
        this.head.build();
        this.controls.fillSortOptions();
        this.pager.reset();
        this.viewport.clear();
        this.schedule();
      },
      "change:selected_ids": () => {
        this.selected = new Set(m.get("selected_ids") || []);
        this.bulk.refresh();
        this.schedule();
      },
      "change:mode": () => this.applyLayout(),
      "change:height": () => this.applyLayout(),
      "change:error": () => this.showError(m.get("error") || ""),
    };
    for (const [ev, fn] of Object.entries(this.onModel)) m.on(ev, fn);
    // another view of this dataset received a relabel patch: show its labels now (this
    // view's own patch, with its counts and resolved states, follows)
    this.onSibling = (msg) => {
      if (!this.query.labelDependent() && this.pager.patchLabels(msg, this.labelCol)) this.schedule();
    };
    this.leaveDataset = joinDataset(m.get("dataset_key"), this.onSibling);
    this.onPatch = (msg) => {
      if (msg && msg.type === "counts") {
        // the samples per label of a large dataset, counted in the background
        this.pager.takeLabels(msg.labels);
        this.schedule();
        return;
      }
      if (!msg || msg.type !== "patch") return;
      tellDataset(m.get("dataset_key"), msg, this.onSibling);
      if (this.query.labelDependent()) this.pager.takeCounts(msg); // its rows are fetched again
      else this.pager.patch(msg, this.labelCol);
      // the patch carries the new version: the kernel sends no version message after it
      if (typeof msg.version === "number" && msg.version > this.datasetVersion()) {
        this.toldVersion = msg.version;
        this.versionChanged();
      } else this.schedule();
    };
    m.on("msg:custom", this.onPatch);
    this.onScroll = () => {
      this.head.wrap.scrollLeft = this.scroll.scrollLeft;
      this.head.pin();
      this.schedule();
    };
    this.scroll.addEventListener("scroll", this.onScroll, { passive: true });
    this.root.addEventListener("keydown", (e) => this.keys.onKey(e));
    this.body.addEventListener("dblclick", (e) => {
      const item = e.target instanceof HTMLElement ? e.target.closest("[data-index]") : null;
      if (item && !e.target.closest("select, button, input")) this.detail.open(Number(item.dataset.index));
    });
    this.root.addEventListener("click", (e) => {
      if (!this.expand.hidden && !this.expand.el.contains(e.target)) this.expand.hide();
    });
    if (typeof ResizeObserver !== "undefined") {
      this.resize = new ResizeObserver(() => this.schedule());
      this.resize.observe(this.scroll);
    }
  }

  /**
   * The dataset's newest version this view knows: the `version` trait, or the version a relabel
   * patch carried (the kernel updates the trait without a message of its own then).
   */
  datasetVersion() {
    const synced = this.model.get("version");
    return this.toldVersion !== null && this.toldVersion > synced ? this.toldVersion : synced;
  }

  versionChanged() {
    this.pager.retry(); // a refused page may succeed on the new version
    this.bulk.refresh();
    this.schedule();
  }

  dispose() {
    this.disposed = true;
    this.leaveDataset?.();
    this.model.off("msg:custom", this.onPatch);
    for (const [ev, fn] of Object.entries(this.onModel)) this.model.off(ev, fn);
    this.channel.dispose();
    this.pager.dispose();
    this.resize?.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
  }

  schedule() {
    if (this.frame || this.disposed) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  healthChanged() {
    this.renderStatus();
  }

  // ---------------------------------------------------------------- render
  /** Whether the item at `index` starts a duplicate group (its predecessor is in another). */
  groupStart(it, index) {
    const name = this.roleColumn.group;
    if (!name || index === 0) return Boolean(name);
    const prev = this.pager.item(index - 1);
    const g = this.cells.value(it, name);
    return !prev || String(this.cells.value(prev, name)) !== String(g);
  }

  render() {
    if (this.disposed) return;
    const gallery = this.gallery;
    const m = this.viewport.measure(this.total, gallery, this.cells.rowHeight, this.cells.cards);
    setStyle(this.body, "height", `${Math.max(m.virtH, 1)}px`);
    this.fitHeight(m);
    setStyle(this.body, "width", gallery ? "100%" : `${this.cells.rowWidth()}px`);
    const r = this.viewport.range(m, this.model.get("height") || 480);
    this.pager.want(r.i0, r.i1, this.datasetVersion());
    this.viewport.place(m, r, (index) => {
      const it = this.pager.item(index);
      if (!it) return { token: "loading", make: () => this.cells.placeholder(gallery), live: false };
      const start = this.groupStart(it, index);
      const res = this.cells.resolved(it);
      // a patch changes a label in place: only the rows whose label changed are rebuilt
      const label = this.cells.value(it, this.labelCol);
      const token = `${it.id}|${this.pageKey(it.page)}|${label}|${res}|${this.selected.has(it.id)}|${this.epoch}|${gallery}|${start}`;
      const make = () => (gallery ? this.cells.tile(it, index, start) : this.cells.row(it, index, start));
      return { token, make, live: true };
    });
    this.keys.arrived();
    this.renderStatus();
  }

  /** A number per page answer held (a page patched in place keeps its number). */
  pageKey(page) {
    let key = this.pageKeys.get(page);
    if (key === undefined) this.pageKeys.set(page, (key = ++this.pageSerial));
    return key;
  }

  /**
   * The scrolling area is `height` px at most, and no taller than its rows (a 3-row dataset
   * is not a 480-px empty box): the content height plus room for a horizontal scrollbar.
   */
  fitHeight(m) {
    const max = Math.max(120, this.model.get("height") || 480);
    const px = m === null ? max : Math.min(max, Math.max(64, m.virtH + 18));
    const css = `${px}px`;
    setStyle(this.scroll, "height", css);
  }

  /** The status and counts lines, the selection's buttons and the bulk actions. */
  renderStatus() {
    this.status.render();
    this.controls.renderSelection(this.selected.size);
    this.bulk.render();
  }

  setSelection(set) {
    this.selected = set;
    this.model.set("selected_ids", [...set]);
    if (this.health !== "gone") this.model.save_changes();
    this.schedule();
  }
}

function render({ model, el }) {
  const view = new GridView(model, el);
  return () => view.dispose();
}

export default { render };
