// SampleGrid front end: a virtual-scrolling table / gallery whose rows are paged from the
// kernel on request. Only the rows in view are in the DOM; all values are rendered as text.
// pager.js asks for pages, viewport.js places the items in view, cells.js renders them.
import { BulkActions } from "./grid/bulk.js";
import { Cells } from "./grid/cells.js";
import { formatCount } from "./grid/format.js";
import { Pager } from "./grid/pager.js";
import { Viewport } from "./grid/viewport.js";
import { KernelView } from "./kernel_view.js";
import {
  DisconnectedError,
  KernelError,
  classForKey,
  classIndex,
  classKeyHelp,
  commandKeyFree,
  debounce,
  focusNotebook,
  formatValue,
  h,
  isEditable,
  joinDataset,
  safeImageSrc,
  setHidden,
  setStyle,
  setText,
  tellDataset,
} from "./shared.js";

/** The tooltip of a label chip in the toolbar counts. */
function chipTitle(value, n) {
  return `${formatCount(n)} samples labelled ${value} (click: show only them)`;
}

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
    this.focusIndex = null;
    this.anchorIndex = null;
    this.epoch = 0; // bumped to force items to rebuild (e.g. after a refused edit)
    this.pageKeys = new WeakMap(); // page answer -> its number in the items' tokens
    this.pageSerial = 0;
    this.disposed = false;
    this.toldVersion = null; // the newest version a relabel patch carried (see datasetVersion)
    this.frame = null;
    this.pager = new Pager(this.channel, () => this.pageSize, {
      onPage: () => {
        this.showError(this.model.get("error") || "");
        if (this.pendingDetail !== null && this.pager.item(this.pendingDetail)) this.openDetail(this.pendingDetail);
        this.schedule();
      },
      onError: (message, err) => {
        if (!(err instanceof DisconnectedError)) this.showError(message);
        this.renderStatus();
      },
    });
    this.cells = new Cells(this);
    this.detailIndex = null; // display index shown in the detail view
    this.pendingDetail = null; // display index to show once its page is here
    this.detailGen = 0;
    this.widths = {}; // column name -> px, as a person dragged it
    this.restoreQuery();
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
  build() {
    this.buildFilters();
    this.buildSortControls();
    this.buildSelectionButtons();
    this.buildColumnChooser();
    this.bulk = new BulkActions(this);
    this.counts = h("div", { className: "dcai-counts", "data-testid": "grid-counts" });
    this.status = h("div", { className: "dcai-status", "data-testid": "grid-status" });
    this.buildTable();
    this.root = h(
      "div",
      {
        className: "dcai-grid dcai-widget",
        "data-testid": "dcai-grid",
        "data-lm-suppress-shortcuts": "true",
        role: "grid",
      },
      [
        this.toolbar(),
        this.columnPanel,
        this.bulk.panel,
        this.counts,
        this.status,
        this.errorBox,
        this.banner.el,
        this.headerWrap,
        this.scroll,
        this.expand,
        this.detail,
        this.help,
      ],
    );
    this.host.append(this.root);
    this.fillControls();
  }

  /** Fill the controls from the columns, the classes and the query restored at start. */
  fillControls() {
    this.buildHeader();
    this.renderColumnsButton();
    this.buildFilterOptions();
    this.buildSortOptions();
    this.filterFlagged.checked = this.pager.filter.flagged;
    this.filterText.value = this.pager.filter.text;
    this.filterReview.value = this.pager.filter.review;
    this.renderHelp();
    this.showError(this.model.get("error") || "");
  }

  /** The toolbar's filters: label, flagged only, review state, text search. */
  buildFilters() {
    this.filterLabel = h("select", {
      "data-testid": "filter-label",
      "aria-label": "Filter by label",
      onchange: () => {
        const i = this.filterLabel.selectedIndex - 1;
        this.pager.filter.label = i >= 0 ? this.classes[i] : null;
        this.queryChanged();
      },
    });
    this.filterFlagged = h("input", {
      type: "checkbox",
      "data-testid": "filter-issues",
      disabled: !this.model.get("has_findings"),
      onchange: () => {
        this.pager.filter.flagged = this.filterFlagged.checked;
        this.queryChanged();
      },
    });
    this.filterReview = h(
      "select",
      {
        "data-testid": "filter-review",
        "aria-label": "Filter by review state",
        disabled: !this.model.get("has_findings"),
        onchange: () => {
          this.pager.filter.review = this.filterReview.value;
          this.queryChanged();
        },
      },
      [
        h("option", { value: "", text: "any state" }),
        h("option", { value: "open", text: "to review" }),
        h("option", { value: "resolved", text: "resolved" }),
      ],
    );
    const applyText = debounce(() => {
      this.pager.filter.text = this.filterText.value.trim();
      this.queryChanged();
    }, 250);
    this.filterText = h("input", {
      type: "search",
      placeholder: "search text",
      "data-testid": "filter-text",
      "aria-label": "Search text",
      oninput: applyText,
      onkeydown: (e) => {
        if (e.key === "Enter") {
          applyText.cancel();
          this.pager.filter.text = this.filterText.value.trim();
          this.queryChanged();
        }
      },
    });
  }

  /** The gallery's sort (column, direction) and the table / gallery toggle. */
  buildSortControls() {
    this.gallerySort = h("select", {
      "data-testid": "gallery-sort",
      "aria-label": "Sort by",
      onchange: () => {
        const col = this.gallerySort.value;
        this.setSort(col ? { column: col, ascending: this.firstAscending(col) } : null);
      },
    });
    this.galleryDir = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "gallery-sort-dir",
      title: "Sort direction",
      onclick: () => {
        const sort = this.pager.sort;
        if (sort) this.setSort({ ...sort, ascending: !sort.ascending });
      },
    });
    this.layoutToggle = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "layout-toggle",
      onclick: () => {
        this.model.set("mode", this.gallery ? "table" : "gallery");
        this.model.save_changes();
      },
    });
  }

  /** Accept, remove and clear for the selection (kept in place, invisible, while there is none). */
  buildSelectionButtons() {
    this.acceptBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "accept-selected",
      title: "Accept the findings of the selected samples (key a): one recorded change",
      onclick: () => this.accept([...this.selected]),
    });
    this.removeBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "remove-selected",
      title: "Remove the selected samples from the dataset (recorded; ds.undo() reverts)",
      onclick: () => this.removeSelected(),
    });
    this.clearBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "clear-selection",
      text: "Clear selection",
      onclick: () => this.setSelection(new Set()),
    });
  }

  /** The column chooser's button and the panel it opens. */
  buildColumnChooser() {
    this.columnsBtn = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "column-chooser",
      title: "Choose the columns shown",
      onclick: (e) => {
        e.stopPropagation();
        this.columnPanel.hidden = !this.columnPanel.hidden;
        if (!this.columnPanel.hidden) this.buildColumnPanel();
      },
    });
    this.columnPanel = h("div", { className: "dcai-column-panel", "data-testid": "column-panel", hidden: true });
  }

  /** The header, the scrolling body and what shows over it: cell expand, sample detail, key help. */
  buildTable() {
    this.header = h("div", { className: "dcai-header", role: "row" });
    this.headerWrap = h("div", { className: "dcai-header-wrap" }, [this.header]);
    this.body = h("div", { className: "dcai-body", role: "rowgroup" });
    this.scroll = h("div", { className: "dcai-scroll", "data-testid": "grid-scroll", tabindex: "-1" }, [this.body]);
    this.expand = h("div", { className: "dcai-expand", "data-testid": "cell-expand", hidden: true });
    this.help = h("div", { className: "dcai-help", "data-testid": "grid-help" });
    this.detail = h("div", {
      className: "dcai-detail",
      "data-testid": "grid-detail",
      role: "dialog",
      "aria-label": "Sample detail",
      hidden: true,
    });
  }

  /** The toolbar row, from the controls built above. */
  toolbar() {
    return h("div", { className: "dcai-toolbar" }, [
      this.filterLabel,
      h("label", { className: "dcai-check" }, [this.filterFlagged, " flagged only"]),
      this.model.get("has_findings") ? this.filterReview : null,
      this.filterText,
      h("span", { className: "dcai-gallery-only" }, [" sort ", this.gallerySort, this.galleryDir]),
      h("span", { className: "dcai-spacer" }),
      this.clearBtn,
      this.acceptBtn,
      this.removeBtn,
      this.bulk.toggle,
      this.columnsBtn,
      this.layoutToggle,
    ]);
  }

  renderHelp() {
    const pick = classKeyHelp(this.classes).replace(" pick ", " relabel the focused item to ");
    const parts = [
      "click selects (Ctrl/Shift+click: more)",
      pick,
      "arrows, Home / End, PgUp / PgDn move",
      "Space or double-click opens the sample (← → through this sort and filter, Esc closes)",
      "Esc back to the notebook",
      commandKeyFree(this.classes, "x") ? "x toggles the selection" : "",
    ].filter(Boolean);
    if (this.canAccept && commandKeyFree(this.classes, "a")) {
      const what = this.action === "remove" ? "remove" : "set the suggested label";
      parts.push(`a accepts the finding (${what})`);
    }
    this.help.textContent = parts.join(" · ");
  }

  buildHeader() {
    const sort = this.pager?.sort ?? null;
    this.header.replaceChildren();
    this.header.style.gridTemplateColumns = this.cells.templateColumns();
    this.header.style.width = `${this.cells.rowWidth()}px`;
    const frozen = this.cells.frozen();
    for (const c of this.columns) {
      const sorted = sort && sort.column === c.name;
      const cell = h(
        "div",
        {
          className: `dcai-th dcai-kind-${c.kind}${c.sortable ? " dcai-sortable" : ""}`,
          "data-testid": "header",
          "data-col": c.name,
          "data-role": c.role === "finding" ? c.finding : c.role,
          role: "columnheader",
          title: c.sortable ? `Sort by ${c.name}` : c.name,
          "aria-sort": sorted ? (sort.ascending ? "ascending" : "descending") : "none",
          style: { width: `${this.cells.width(c)}px` },
          onclick: () => c.sortable && this.cycleSort(c.name),
        },
        [
          h("span", { className: "dcai-th-name", text: c.name }),
          h("span", {
            className: "dcai-resize",
            "data-testid": "col-resize",
            title: `Drag to resize ${c.name}`,
            onpointerdown: (e) => this.startResize(e, c),
            onclick: (e) => e.stopPropagation(),
          }),
        ],
      );
      if (frozen.has(c.name)) cell.classList.add("dcai-frozen"); // pinned by pinHeader()
      if (sorted) cell.append(h("span", { className: "dcai-arrow", text: sort.ascending ? " ▲" : " ▼" }));
      this.header.append(cell);
    }
    this.pinHeader();
  }

  /** The frozen header cells follow the sideways scroll (the rows' cells are sticky). */
  pinHeader() {
    const x = this.scroll ? this.scroll.scrollLeft : 0;
    for (const th of this.header.querySelectorAll(".dcai-frozen")) th.style.transform = x ? `translateX(${x}px)` : "";
  }

  /** "Columns 40 of 61": every column of the schema is reachable through the chooser. */
  renderColumnsButton() {
    const all = this.model.get("schema") || [];
    this.columnsBtn.textContent = `Columns ${this.columns.length} of ${all.length}`;
  }

  buildColumnPanel() {
    const all = this.model.get("schema") || [];
    const fixed = (c) => c.role === "id" || c.role === "label";
    this.columnPanel.replaceChildren(
      ...all.map((c) =>
        h("label", { className: "dcai-check" }, [
          h("input", {
            type: "checkbox",
            "data-testid": "column-option",
            "data-col": c.name,
            checked: !c.hidden,
            disabled: fixed(c),
            onchange: () => {
              const hidden = [...this.columnPanel.querySelectorAll('input[type="checkbox"]')]
                .filter((box) => !box.checked)
                .map((box) => box.dataset.col);
              this.model.set("hidden_columns", hidden);
              if (this.health !== "gone") this.model.save_changes();
            },
          }),
          ` ${c.name}`,
        ]),
      ),
    );
  }

  /** Drag a header's right edge: the column's width follows; kept in the widget's state. */
  startResize(e, c) {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX;
    const w0 = this.cells.width(c);
    const move = (ev) => {
      this.widths[c.name] = Math.max(40, Math.round(w0 + ev.clientX - x0));
      this.buildHeader();
      this.epoch++;
      this.schedule();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      this.saveQuery();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  buildFilterOptions() {
    const current = this.pager.filter.label;
    this.filterLabel.replaceChildren(h("option", { value: "", text: "all labels" }));
    for (const c of this.classes) this.filterLabel.append(h("option", { value: String(c), text: String(c) }));
    const i = current === null ? -1 : classIndex(this.classes, current);
    this.filterLabel.selectedIndex = i + 1;
    if (current !== null && i < 0) {
      this.pager.filter.label = null;
      this.queryChanged();
    }
  }

  buildSortOptions() {
    const sort = this.pager.sort;
    this.gallerySort.replaceChildren(h("option", { value: "", text: "row order" }));
    for (const c of this.columns) {
      if (c.sortable) this.gallerySort.append(h("option", { value: c.name, text: c.name }));
    }
    this.gallerySort.value = sort ? sort.column : "";
    this.galleryDir.textContent = sort && !sort.ascending ? "▼" : "▲";
    this.galleryDir.disabled = !sort;
  }

  applyLayout() {
    const gallery = this.gallery;
    this.root.classList.toggle("dcai-is-gallery", gallery);
    this.root.classList.toggle("dcai-is-cards", gallery && this.cells.cards);
    this.layoutToggle.textContent = gallery ? "Table view" : "Gallery view";
    this.headerWrap.hidden = gallery;
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
        this.buildFilterOptions();
        this.renderHelp();
        this.epoch++;
        this.schedule();
      },
      "change:schema": () => {
        // a column appeared (e.g. origins, once an operation made rows): same rows, new cells
        this.setColumns(m.get("schema") || []);
        this.renderColumnsButton();
        this.buildHeader();
        this.buildSortOptions();
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
      if (!this.labelDependent() && this.pager.patchLabels(msg, this.labelCol)) this.schedule();
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
      if (this.labelDependent()) this.pager.takeCounts(msg); // its rows are fetched again
      else this.pager.patch(msg, this.labelCol);
      // the patch carries the new version: the kernel sends no version message after it
      if (typeof msg.version === "number" && msg.version > this.datasetVersion()) {
        this.toldVersion = msg.version;
        this.versionChanged();
      } else this.schedule();
    };
    m.on("msg:custom", this.onPatch);
    this.onScroll = () => {
      this.headerWrap.scrollLeft = this.scroll.scrollLeft;
      this.pinHeader();
      this.schedule();
    };
    this.scroll.addEventListener("scroll", this.onScroll, { passive: true });
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.body.addEventListener("dblclick", (e) => {
      const item = e.target instanceof HTMLElement ? e.target.closest("[data-index]") : null;
      if (item && !e.target.closest("select, button, input")) this.openDetail(Number(item.dataset.index));
    });
    this.root.addEventListener("click", (e) => {
      if (!this.expand.hidden && !this.expand.contains(e.target)) this.expand.hidden = true;
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

  /** Whether the rows of the current query depend on the labels (then a relabel refetches). */
  labelDependent() {
    const { sort, filter } = this.pager;
    return filter.label !== null || Boolean(filter.text) || Boolean(filter.review) || sort?.column === this.labelCol;
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

  // ---------------------------------------------------------------- query
  /** The direction a first click sorts `column`: the findings' score most suspicious first. */
  firstAscending(column) {
    return column !== this.roleColumn.score;
  }

  cycleSort(column) {
    const sort = this.pager.sort;
    const first = this.firstAscending(column);
    if (!sort || sort.column !== column) this.setSort({ column, ascending: first });
    else if (sort.ascending === first) this.setSort({ column, ascending: !first });
    else this.setSort(null);
  }

  setSort(sort) {
    this.pager.sort = sort;
    this.buildHeader();
    this.buildSortOptions();
    this.queryChanged();
  }

  /** The sort and filter kept in the widget's state (`query`): a reloaded page shows them. */
  restoreQuery() {
    const q = this.model.get("query") || {};
    const s = q.sort;
    if (s && this.columns.some((c) => c.name === s.column && c.sortable)) {
      this.pager.sort = { column: s.column, ascending: s.ascending !== false };
    }
    const f = q.filter || {};
    for (const [name, px] of Object.entries(q.widths || {})) {
      if (typeof px === "number" && px >= 40) this.widths[name] = px;
    }
    const findings = Boolean(this.model.get("has_findings"));
    this.pager.filter = {
      label: f.label ?? null,
      flagged: findings && f.flagged === true,
      text: typeof f.text === "string" ? f.text : "",
      review: findings && ["open", "resolved"].includes(f.review) ? f.review : "",
    };
  }

  saveQuery() {
    this.model.set("query", { sort: this.pager.sort, filter: { ...this.pager.filter }, widths: { ...this.widths } });
    if (this.health !== "gone") this.model.save_changes();
  }

  queryChanged() {
    this.bulk.refresh();
    this.saveQuery();
    this.pager.reset();
    this.focusIndex = null;
    this.anchorIndex = null;
    this.scroll.scrollTop = 0;
    this.viewport.clear();
    this.schedule();
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
    this.focusArrived();
    this.renderStatus();
  }

  /**
   * The keyboard moved to an item whose row is still on its way (Home, End, a page away):
   * the grid's scroll area holds the focus meanwhile (keys keep working), and the row takes
   * it when it arrives, unless the focus went elsewhere in the meantime.
   */
  focusArrived() {
    const index = this.pendingFocus;
    if (index === null || index === undefined) return;
    if (document.activeElement !== this.scroll) {
      this.pendingFocus = null;
      return;
    }
    const node = this.viewport.items.get(index);
    if (node && node.dataset.token !== "loading") {
      this.pendingFocus = null;
      node.focus({ preventScroll: true });
    }
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

  renderStatus() {
    const sort = this.pager.sort;
    const parts = [`${formatCount(this.total)} rows`];
    const latest = this.datasetVersion();
    const version = this.pager.version ?? latest;
    parts.push(`v${version}`);
    const pool = this.pager.pool;
    if (pool) {
      parts.push(`${formatCount(pool.labeled)} labeled · ${formatCount(pool.unlabeled)} in the pool`);
    }
    if (this.selected.size) parts.push(`${formatCount(this.selected.size)} selected`);
    if (sort) parts.push(`sorted by ${sort.column} ${sort.ascending ? "↑" : "↓"}`);
    if (this.pager.version !== null && this.pager.version < latest) {
      parts.push(`refreshing to v${latest}…`);
    }
    const health = this.healthText();
    if (health) parts.push(health);
    setText(this.status, parts.join(" · "));
    // the selection's buttons keep their place while there is no selection (invisible, not
    // removed), so the toolbar does not reflow when a selection appears
    const n = this.selected.size;
    setText(this.removeBtn, `Remove ${n} selected`);
    this.removeBtn.classList.toggle("dcai-invisible", n === 0);
    setText(this.acceptBtn, `Accept ${n} selected`);
    setHidden(this.acceptBtn, !this.canAccept);
    this.acceptBtn.classList.toggle("dcai-invisible", n === 0);
    this.clearBtn.classList.toggle("dcai-invisible", n === 0);
    this.renderCounts();
    this.bulk.render();
  }

  /**
   * The toolbar's counts, updated live (page answers and relabel patches carry them):
   * "181 of 1,797 flagged · 12 resolved" with findings, and the samples per label; a label
   * clicked filters on it.
   */
  renderCounts() {
    const counts = this.pager.counts;
    const labels = this.pager.labels;
    const rows = this.pager.rowCount ?? this.model.get("row_count");
    const key = JSON.stringify([counts, labels, rows, this.pager.filter.label]);
    if (key === this.countsKey) return; // unchanged: keep the DOM (and a hover) as it is
    this.countsKey = key;
    const findingsText = counts
      ? `${formatCount(counts.flagged)} of ${formatCount(rows)} flagged · ${formatCount(counts.resolved)} resolved`
      : null;
    const values = labels && labels.values.length ? labels.values : [];
    const current = this.pager.filter.label;
    const otherText = labels?.other_classes
      ? `+${formatCount(labels.other_classes)} more labels (${formatCount(labels.other_rows)})`
      : null;
    // the same chips in the same order (a relabel moves one sample): only numbers change
    const shape = JSON.stringify([Boolean(counts), values.map(([v]) => String(v)), current, Boolean(otherText)]);
    if (shape === this.countsShape) {
      if (findingsText !== null) setText(this.countsParts.findings, findingsText);
      values.forEach(([value, n], i) => {
        const chip = this.countsParts.chips[i];
        setText(chip.n, formatCount(n));
        const title = chipTitle(value, n);
        if (chip.button.title !== title) chip.button.title = title;
      });
      if (otherText !== null) setText(this.countsParts.other, otherText);
      return;
    }
    this.countsShape = shape;
    const parts = [];
    const refs = { findings: null, chips: [], other: null };
    if (findingsText !== null) {
      refs.findings = h("span", { className: "dcai-count-findings", "data-testid": "counts-findings", text: findingsText });
      parts.push(refs.findings);
    }
    if (values.length) {
      const chips = values.map(([value, n]) => {
        const nSpan = h("span", { className: "dcai-count-n", text: formatCount(n) });
        const button = h(
          "button",
          {
            type: "button",
            className: `dcai-count${current !== null && String(current) === String(value) ? " dcai-count-on" : ""}`,
            "data-testid": "label-count",
            "data-label": String(value),
            title: chipTitle(value, n),
            onclick: () => this.filterByLabel(value),
          },
          [h("span", { className: "dcai-count-label", text: String(value) }), " ", nSpan],
        );
        refs.chips.push({ button, n: nSpan });
        return button;
      });
      if (otherText !== null) {
        refs.other = h("span", { className: "dcai-muted", text: otherText });
        chips.push(refs.other);
      }
      parts.push(h("span", { className: "dcai-count-labels", "data-testid": "counts-labels" }, chips));
    }
    this.countsParts = refs;
    this.counts.replaceChildren(...parts);
    setHidden(this.counts, parts.length === 0);
  }

  /** Show only the samples labelled `value` (the same as the label filter); again: all. */
  filterByLabel(value) {
    const current = this.pager.filter.label;
    const same = current !== null && String(current) === String(value);
    const i = same ? -1 : classIndex(this.classes, value);
    if (!same && i < 0) return; // a label outside the classes: the filter cannot name it
    this.pager.filter.label = same ? null : this.classes[i];
    this.filterLabel.selectedIndex = i + 1;
    this.queryChanged();
  }

  showExpand(name, text) {
    this.expand.replaceChildren(
      h("div", { className: "dcai-expand-head" }, [
        h("strong", { text: name }),
        h("button", {
          type: "button",
          className: "dcai-btn",
          text: "close",
          onclick: (e) => {
            e.stopPropagation();
            this.expand.hidden = true;
          },
        }),
      ]),
      h("div", { className: "dcai-expand-text", text }),
    );
    this.expand.hidden = false;
  }

  // ---------------------------------------------------------------- selection + edits
  setSelection(set) {
    this.selected = set;
    this.model.set("selected_ids", [...set]);
    if (this.health !== "gone") this.model.save_changes();
    this.schedule();
  }

  // ---------------------------------------------------------------- detail view
  /** Open the sample at display index `index` large: every field, its finding, its history. */
  openDetail(index) {
    const it = index === null ? null : this.pager.item(index);
    if (!it) {
      this.pendingDetail = index; // shown once its page is here
      return;
    }
    this.pendingDetail = null;
    this.detailIndex = index;
    const gen = ++this.detailGen;
    this.detail.hidden = false;
    this.detail.dataset.id = String(it.id);
    this.detail.replaceChildren(this.detailHead(it.id, index), h("div", { className: "dcai-muted", text: "loading…" }));
    this.channel.request({ type: "detail", id: it.id }).then(
      (answer) => {
        if (gen === this.detailGen && !this.detail.hidden) this.renderDetail(answer, index);
      },
      (err) => {
        if (gen !== this.detailGen || err instanceof DisconnectedError) return;
        this.detail.replaceChildren(
          this.detailHead(it.id, index),
          h("div", { className: "dcai-error", text: err instanceof KernelError ? err.message : String(err) }),
        );
      },
    );
  }

  closeDetail() {
    this.detailGen++;
    this.detailIndex = null;
    this.pendingDetail = null;
    this.detail.hidden = true;
  }

  detailHead(id, index) {
    return h("div", { className: "dcai-detail-head" }, [
      h("strong", { "data-testid": "detail-title", text: `sample ${id}` }),
      h("span", {
        className: "dcai-muted",
        "data-testid": "detail-position",
        text: ` · ${index + 1} of ${this.total} in this sort and filter · ← → move · Esc closes`,
      }),
      h("span", { className: "dcai-spacer" }),
      h("button", {
        type: "button",
        className: "dcai-btn",
        "data-testid": "detail-close",
        text: "close",
        onclick: (e) => {
          e.stopPropagation();
          this.closeDetail();
        },
      }),
    ]);
  }

  renderDetail(a, index) {
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
    const parts = [this.detailHead(a.id, index)];
    if (src) parts.push(h("img", { className: "dcai-detail-img", "data-testid": "detail-image", src, alt: "" }));
    parts.push(h("div", { className: "dcai-detail-section", text: "fields" }), table(a.fields, "detail-field"));
    if (a.finding && a.finding.length) {
      const state = a.resolved ? ` · resolved since: ${a.resolved}` : "";
      parts.push(h("div", { className: "dcai-detail-section", text: `finding (${this.findingsOp || "findings"})${state}` }));
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
    this.detail.replaceChildren(...parts);
  }

  onItemClick(e, index, id) {
    if (e.target instanceof HTMLElement && e.target.closest("select, button, input")) return;
    if (!this.detail.hidden && !e.shiftKey && !e.ctrlKey && !e.metaKey) this.openDetail(index);
    const next = new Set(this.selected);
    if (e.shiftKey && this.anchorIndex !== null) {
      const [a, b] = [Math.min(this.anchorIndex, index), Math.max(this.anchorIndex, index)];
      for (let k = a; k <= b; k++) {
        const it = this.pager.item(k);
        if (it) next.add(it.id);
      }
    } else if (e.ctrlKey || e.metaKey) {
      if (next.has(id)) next.delete(id);
      else next.add(id);
      this.anchorIndex = index;
    } else {
      const only = next.size === 1 && next.has(id);
      next.clear();
      if (!only) next.add(id);
      this.anchorIndex = index;
    }
    this.focusIndex = index;
    this.viewport.focus(index);
    this.setSelection(next);
  }

  /** Send an edit; a refused one shows its message and puts the items back as the kernel has them. */
  edit(payload, after) {
    this.channel.request(payload).then(
      (answer) => {
        this.showError("");
        after?.(answer);
      },
      (err) => {
        if (!(err instanceof DisconnectedError)) this.showError(err instanceof KernelError ? err.message : String(err));
        this.epoch++;
        this.schedule();
      },
    );
  }

  relabel(ids, label) {
    this.edit({ type: "relabel", ids, label });
  }

  accept(ids) {
    if (!ids.length) return;
    this.edit({ type: "accept", ids }, (answer) => {
      if (answer.op === "remove") this.setSelection(new Set([...this.selected].filter((i) => !ids.includes(i))));
    });
  }

  removeSelected() {
    const ids = [...this.selected];
    if (!ids.length) return;
    this.edit({ type: "remove", ids }, () => this.setSelection(new Set()));
  }

  /** The ids a key acts on: the selection when the focused item is part of it, else the focused item. */
  targets() {
    const it = this.focusIndex === null ? null : this.pager.item(this.focusIndex);
    if (!it) return [];
    return this.selected.has(it.id) && this.selected.size > 1 ? [...this.selected] : [it.id];
  }

  onKey(e) {
    if (!this.detail.hidden && !isEditable(e.target)) {
      const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[e.key];
      if (e.key === "Escape" || e.key === " " || step) {
        e.preventDefault();
        e.stopPropagation();
        if (!step) this.closeDetail();
        else {
          this.moveFocus((this.detailIndex ?? this.focusIndex ?? 0) + step);
          this.openDetail(this.focusIndex);
        }
        return;
      }
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      // a second Esc (nothing open to close) goes back to the notebook, in command mode
      if (!this.expand.hidden) this.expand.hidden = true;
      else focusNotebook(this.root);
      return;
    }
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const index = this.focusIndex;
    const m =
      this.viewport.metrics || this.viewport.measure(this.total, this.gallery, this.cells.rowHeight, this.cells.cards);
    let handled = true;
    const label = classForKey(this.classes, e.key);
    if (label !== undefined) {
      const ids = this.targets();
      if (ids.length) this.relabel(ids, label);
    } else if (e.key === "a" && this.canAccept && commandKeyFree(this.classes, "a")) {
      this.accept(this.targets());
    } else if (["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      const step = { ArrowDown: m.perUnit, ArrowUp: -m.perUnit, ArrowLeft: -1, ArrowRight: 1 }[e.key];
      if (!m.gallery && (e.key === "ArrowLeft" || e.key === "ArrowRight")) handled = false;
      else this.moveFocus(index === null ? 0 : index + step);
    } else if (["Home", "End", "PageUp", "PageDown"].includes(e.key)) {
      // moved by the grid itself, not by the browser's scrolling: the focused row would
      // leave the DOM and the focus fall to the page (arrows would then stop working)
      const page = m.perUnit * Math.max(1, Math.floor((this.scroll.clientHeight || m.unitH) / m.unitH) - 1);
      const at = index === null ? 0 : index;
      const to = { Home: 0, End: this.total - 1, PageUp: at - page, PageDown: at + page }[e.key];
      this.moveFocus(to);
    } else if (e.key === " ") {
      this.openDetail(index === null ? 0 : index);
    } else if (e.key === "x") {
      const it = index === null ? null : this.pager.item(index);
      if (it) {
        const next = new Set(this.selected);
        if (next.has(it.id)) next.delete(it.id);
        else next.add(it.id);
        this.setSelection(next);
      }
    } else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  moveFocus(index) {
    if (this.total === 0) return;
    index = Math.max(0, Math.min(this.total - 1, index));
    this.focusIndex = index;
    this.pendingFocus = null;
    this.viewport.reveal(index);
    this.render();
    this.viewport.focus(index);
    if (!this.viewport.items.get(index)?.contains(document.activeElement)) {
      this.scroll.focus({ preventScroll: true });
      this.pendingFocus = index;
    }
  }
}

function render({ model, el }) {
  const view = new GridView(model, el);
  return () => view.dispose();
}

export default { render };
