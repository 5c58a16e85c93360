// SampleGrid front end: a virtual-scrolling table / gallery whose rows are paged from the
// kernel on request. Only the rows in view are in the DOM; all values are rendered as text.
import {
  Channel,
  KernelError,
  classForKey,
  classIndex,
  debounce,
  formatValue,
  h,
  isEditable,
  safeImageSrc,
} from "./shared.js";

const ROW_H = 32;
const ROW_H_IMAGES = 44;
const TILE_W = 76;
const TILE_H = 90;
const MAX_SCROLL_PX = 6_000_000; // browsers cap element heights; larger grids scroll scaled
const MAX_INFLIGHT = 4;
const MAX_CACHED_PAGES = 60;
const WIDTHS = { id: 84, image: 56, label: 130, number: 110, bool: 64, datetime: 170, text: 280 };

class GridView {
  constructor(model, host) {
    this.model = model;
    this.host = host;
    this.columns = (model.get("schema") || []).filter((c) => !c.hidden);
    this.labelCol = model.get("label_column");
    this.sort = null; // {column, ascending}
    this.filter = { label: null, issues_only: false, text: "" };
    this.queryGen = 0;
    this.pages = new Map(); // page number -> {version, offset, ids, columns}
    this.inflight = new Map(); // page number -> query generation
    this.total = model.get("row_count");
    this.dataVersion = null; // dataset version of the rows on screen
    this.items = new Map(); // item index -> element
    this.selected = new Set(model.get("selected_ids") || []);
    this.focusIndex = null;
    this.anchorIndex = null;
    this.epoch = 0; // bumped to force rows to rebuild (e.g. after a refused edit)
    this.health = "ok";
    this.disposed = false;
    this.frame = null;
    this.channel = new Channel(model, (state, s) => this.onHealth(state, s));
    this.build();
    this.listen();
    this.schedule();
  }

  // ---------------------------------------------------------------- layout helpers
  get gallery() {
    return this.model.get("mode") === "gallery";
  }
  get pageSize() {
    return Math.max(1, this.model.get("page_size") || 50);
  }
  get classes() {
    return this.model.get("classes") || [];
  }
  get rowHeight() {
    return this.columns.some((c) => c.kind === "image") ? ROW_H_IMAGES : ROW_H;
  }
  colWidth(c) {
    const byName = Math.min(220, 7.5 * String(c.name).length + 28);
    return Math.max(WIDTHS[c.kind] ?? 120, c.kind === "image" ? 0 : byName);
  }
  templateColumns() {
    return this.columns.map((c) => `${this.colWidth(c)}px`).join(" ");
  }
  rowWidth() {
    return this.columns.reduce((s, c) => s + this.colWidth(c), 0);
  }

  // ---------------------------------------------------------------- DOM skeleton
  build() {
    const m = this.model;
    this.filterLabel = h("select", {
      "data-testid": "filter-label",
      "aria-label": "Filter by label",
      onchange: () => {
        const i = this.filterLabel.selectedIndex - 1;
        this.filter.label = i >= 0 ? this.classes[i] : null;
        this.queryChanged();
      },
    });
    this.filterIssues = h("input", {
      type: "checkbox",
      "data-testid": "filter-issues",
      disabled: !m.get("has_issues"),
      onchange: () => {
        this.filter.issues_only = this.filterIssues.checked;
        this.queryChanged();
      },
    });
    const applyText = debounce(() => {
      this.filter.text = this.filterText.value.trim();
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
          this.filter.text = this.filterText.value.trim();
          this.queryChanged();
        }
      },
    });
    this.gallerySort = h("select", {
      "data-testid": "gallery-sort",
      "aria-label": "Sort by",
      onchange: () => {
        const col = this.gallerySort.value;
        this.setSort(col ? { column: col, ascending: this.sort?.ascending ?? true } : null);
      },
    });
    this.galleryDir = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "gallery-sort-dir",
      title: "Sort direction",
      onclick: () => {
        if (this.sort) this.setSort({ ...this.sort, ascending: !this.sort.ascending });
      },
    });
    this.layoutToggle = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "layout-toggle",
      onclick: () => {
        m.set("mode", this.gallery ? "table" : "gallery");
        m.save_changes();
      },
    });
    this.removeBtn = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "remove-selected",
      hidden: true,
      title: "Remove the selected samples from the dataset (recorded; ds.undo() reverts)",
      onclick: () => this.removeSelected(),
    });
    this.clearBtn = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "clear-selection",
      text: "Clear selection",
      hidden: true,
      onclick: () => this.setSelection(new Set()),
    });
    this.status = h("div", { className: "dcai-status", "data-testid": "grid-status" });
    this.errorBox = h("div", { className: "dcai-error", "data-testid": "grid-error", role: "alert" });
    this.staleBox = h("div", { className: "dcai-stale", "data-testid": "grid-stale", hidden: true });
    this.header = h("div", { className: "dcai-header", role: "row" });
    this.headerWrap = h("div", { className: "dcai-header-wrap" }, [this.header]);
    this.body = h("div", { className: "dcai-body", role: "rowgroup" });
    this.scroll = h(
      "div",
      { className: "dcai-scroll", "data-testid": "grid-scroll", tabindex: "-1" },
      [this.body],
    );
    this.expand = h("div", { className: "dcai-expand", "data-testid": "cell-expand", hidden: true });
    this.root = h(
      "div",
      {
        className: "dcai-grid dcai-widget",
        "data-testid": "dcai-grid",
        "data-lm-suppress-shortcuts": "true",
        role: "grid",
      },
      [
        h("div", { className: "dcai-toolbar" }, [
          this.filterLabel,
          h("label", { className: "dcai-check" }, [this.filterIssues, " issues only"]),
          this.filterText,
          h("span", { className: "dcai-gallery-only" }, [" sort ", this.gallerySort, this.galleryDir]),
          h("span", { className: "dcai-spacer" }),
          this.clearBtn,
          this.removeBtn,
          this.layoutToggle,
        ]),
        this.status,
        this.errorBox,
        this.staleBox,
        this.headerWrap,
        this.scroll,
        this.expand,
      ],
    );
    this.host.append(this.root);
    this.buildHeader();
    this.buildFilterOptions();
    this.buildSortOptions();
    this.applyLayout();
    this.showError(m.get("error") || "");
  }

  buildHeader() {
    this.header.replaceChildren();
    this.header.style.gridTemplateColumns = this.templateColumns();
    this.header.style.width = `${this.rowWidth()}px`;
    for (const c of this.columns) {
      const sorted = this.sort && this.sort.column === c.name;
      const cell = h(
        "div",
        {
          className: `dcai-th dcai-kind-${c.kind}${c.sortable ? " dcai-sortable" : ""}`,
          "data-testid": "header",
          "data-col": c.name,
          role: "columnheader",
          title: c.sortable ? `Sort by ${c.name}` : c.name,
          "aria-sort": sorted ? (this.sort.ascending ? "ascending" : "descending") : "none",
          onclick: () => c.sortable && this.cycleSort(c.name),
        },
        [h("span", { className: "dcai-th-name", text: c.name })],
      );
      if (sorted) cell.append(h("span", { className: "dcai-arrow", text: this.sort.ascending ? " ▲" : " ▼" }));
      this.header.append(cell);
    }
  }

  buildFilterOptions() {
    const current = this.filter.label;
    this.filterLabel.replaceChildren(h("option", { value: "", text: "all labels" }));
    for (const c of this.classes) this.filterLabel.append(h("option", { value: String(c), text: String(c) }));
    const i = current === null ? -1 : classIndex(this.classes, current);
    this.filterLabel.selectedIndex = i + 1;
    if (current !== null && i < 0) {
      this.filter.label = null;
      this.queryChanged();
    }
  }

  buildSortOptions() {
    this.gallerySort.replaceChildren(h("option", { value: "", text: "row order" }));
    for (const c of this.columns) {
      if (c.sortable) this.gallerySort.append(h("option", { value: c.name, text: c.name }));
    }
    this.gallerySort.value = this.sort ? this.sort.column : "";
    this.galleryDir.textContent = this.sort && !this.sort.ascending ? "▼" : "▲";
    this.galleryDir.disabled = !this.sort;
  }

  applyLayout() {
    const gallery = this.gallery;
    this.root.classList.toggle("dcai-is-gallery", gallery);
    this.layoutToggle.textContent = gallery ? "Table view" : "Gallery view";
    this.headerWrap.hidden = gallery;
    this.scroll.style.height = `${Math.max(120, this.model.get("height") || 480)}px`;
    this.clearItems();
    this.schedule();
  }

  // ---------------------------------------------------------------- events
  listen() {
    const m = this.model;
    this.onModel = {
      "change:version": () => {
        this.failedGen = null; // a refused page may succeed on the new version
        this.schedule();
      },
      "change:row_count": () => this.schedule(),
      "change:classes": () => {
        this.buildFilterOptions();
        this.epoch++;
        this.schedule();
      },
      "change:selected_ids": () => {
        this.selected = new Set(m.get("selected_ids") || []);
        this.schedule();
      },
      "change:mode": () => this.applyLayout(),
      "change:height": () => this.applyLayout(),
      "change:error": () => this.showError(m.get("error") || ""),
    };
    for (const [ev, fn] of Object.entries(this.onModel)) m.on(ev, fn);
    this.onScroll = () => {
      this.headerWrap.scrollLeft = this.scroll.scrollLeft;
      this.schedule();
    };
    this.scroll.addEventListener("scroll", this.onScroll, { passive: true });
    this.root.addEventListener("keydown", (e) => this.onKey(e));
    this.root.addEventListener("click", (e) => {
      if (!this.expand.hidden && !this.expand.contains(e.target)) this.expand.hidden = true;
    });
    if (typeof ResizeObserver !== "undefined") {
      this.resize = new ResizeObserver(() => this.schedule());
      this.resize.observe(this.scroll);
    }
  }

  dispose() {
    this.disposed = true;
    for (const [ev, fn] of Object.entries(this.onModel)) this.model.off(ev, fn);
    this.channel.dispose();
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

  onHealth(state, seconds) {
    this.health = state;
    this.root.dataset.state = state;
    const asOf = `The rows shown are as of v${this.dataVersion ?? "?"} and may be stale.`;
    if (state === "gone") {
      this.staleBox.hidden = false;
      this.staleBox.textContent =
        `Disconnected: this view's kernel object is gone (kernel restarted or shut down). ` +
        `Re-run the cell for a live view. ${asOf}`;
    } else if (state === "stale") {
      this.staleBox.hidden = false;
      this.staleBox.textContent =
        `Disconnected: no answer from the kernel for ${seconds} s (busy, or restarted: then ` +
        `re-run the cell). ${asOf}`;
    } else {
      this.staleBox.hidden = true;
      this.staleBox.textContent = "";
    }
    this.renderStatus();
  }

  showError(message) {
    this.errorBox.textContent = message;
    this.errorBox.hidden = !message;
  }

  // ---------------------------------------------------------------- query
  cycleSort(column) {
    if (!this.sort || this.sort.column !== column) this.setSort({ column, ascending: true });
    else if (this.sort.ascending) this.setSort({ column, ascending: false });
    else this.setSort(null);
  }

  setSort(sort) {
    this.sort = sort;
    this.buildHeader();
    this.buildSortOptions();
    this.queryChanged();
  }

  queryChanged() {
    this.queryGen++;
    this.pages.clear();
    this.inflight.clear();
    this.focusIndex = null;
    this.anchorIndex = null;
    this.scroll.scrollTop = 0;
    this.clearItems();
    this.schedule();
  }

  queryPayload(page) {
    const P = this.pageSize;
    return {
      type: "page",
      offset: page * P,
      limit: P,
      sort: this.sort,
      filter: {
        label: this.filter.label,
        issues_only: this.filter.issues_only,
        text: this.filter.text,
      },
    };
  }

  requestPage(page) {
    const gen = this.queryGen;
    this.inflight.set(page, gen);
    this.channel
      .request(this.queryPayload(page))
      .then((answer) => {
        if (this.inflight.get(page) === gen) this.inflight.delete(page);
        if (gen !== this.queryGen || this.disposed) return;
        this.pages.set(page, answer);
        if (this.pages.size > MAX_CACHED_PAGES) this.evictPages(page);
        this.total = answer.total;
        this.dataVersion = answer.version;
        this.showError(this.model.get("error") || "");
        this.schedule();
      })
      .catch((err) => {
        if (this.inflight.get(page) === gen) this.inflight.delete(page);
        if (gen !== this.queryGen || this.disposed) return;
        this.failedGen = gen;
        this.showError(err instanceof KernelError ? err.message : String(err));
        this.renderStatus();
      });
  }

  evictPages(keep) {
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - keep) - Math.abs(a - keep));
    while (this.pages.size > MAX_CACHED_PAGES) this.pages.delete(far.shift());
  }

  item(index) {
    const P = this.pageSize;
    const page = this.pages.get(Math.floor(index / P));
    if (!page) return null;
    const i = index - page.offset;
    if (i < 0 || i >= page.ids.length) return null;
    return { page, i, id: page.ids[i] };
  }

  // ---------------------------------------------------------------- render
  metrics() {
    const gallery = this.gallery;
    const width = this.scroll.clientWidth || 800;
    const perUnit = gallery ? Math.max(1, Math.floor((width - 4) / TILE_W)) : 1;
    const unitH = gallery ? TILE_H : this.rowHeight;
    const units = Math.ceil(this.total / perUnit);
    const fullH = units * unitH;
    return { gallery, perUnit, unitH, units, fullH, virtH: Math.min(fullH, MAX_SCROLL_PX) };
  }

  firstUnit(m, scrollTop, viewH) {
    if (m.fullH <= MAX_SCROLL_PX) return scrollTop / m.unitH;
    const maxScroll = Math.max(1, m.virtH - viewH);
    const ratio = Math.min(1, scrollTop / maxScroll);
    return ratio * Math.max(0, m.units - viewH / m.unitH);
  }

  render() {
    if (this.disposed) return;
    const m = this.metrics();
    this.metricsCache = m;
    this.body.style.height = `${Math.max(m.virtH, 1)}px`;
    this.body.style.width = m.gallery ? "100%" : `${this.rowWidth()}px`;
    const viewH = this.scroll.clientHeight || this.model.get("height") || 480;
    const scrollTop = this.scroll.scrollTop;
    const first = this.firstUnit(m, scrollTop, viewH);
    const over = m.gallery ? 1 : 6;
    const u0 = Math.max(0, Math.floor(first) - over);
    const u1 = Math.min(m.units, Math.ceil(first + viewH / m.unitH) + over);
    const i0 = u0 * m.perUnit;
    const i1 = Math.min(this.total, u1 * m.perUnit);
    this.range = [i0, i1];

    // pages: ask for what is missing or older than the dataset version
    const want = this.model.get("version");
    const P = this.pageSize;
    const needed = [];
    if (this.failedGen !== this.queryGen) {
      const p0 = Math.floor(i0 / P);
      const p1 = this.total === 0 ? p0 : Math.floor(Math.max(i0, i1 - 1) / P);
      for (let p = p0; p <= p1; p++) {
        const page = this.pages.get(p);
        if ((!page || page.version < want) && this.inflight.get(p) !== this.queryGen) needed.push(p);
      }
      if (this.pages.size === 0 && this.inflight.size === 0 && needed.length === 0) needed.push(p0);
    }
    for (const p of needed) {
      if (this.inflight.size >= MAX_INFLIGHT) break;
      this.requestPage(p);
    }

    // items in view
    for (const [index, node] of this.items) {
      if (index < i0 || index >= i1) {
        node.remove();
        this.items.delete(index);
      }
    }
    for (let index = i0; index < i1; index++) {
      const unit = Math.floor(index / m.perUnit);
      const top = scrollTop + (unit - first) * m.unitH;
      const left = m.gallery ? (index % m.perUnit) * TILE_W : 0;
      const it = this.item(index);
      const token = it
        ? `${it.id}|${it.page.version}|${this.selected.has(it.id)}|${this.epoch}|${m.gallery}`
        : "loading";
      let node = this.items.get(index);
      if (!node || node.dataset.token !== token) {
        const fresh = it ? (m.gallery ? this.buildTile(it, index) : this.buildRow(it, index)) : this.buildPlaceholder(m);
        fresh.dataset.token = token;
        fresh.dataset.index = String(index);
        if (node) {
          const hadFocus = node.contains(document.activeElement);
          node.replaceWith(fresh);
          if (hadFocus && it) fresh.focus({ preventScroll: true });
        } else this.body.append(fresh);
        node = fresh;
        this.items.set(index, node);
      }
      node.style.transform = `translate(${left}px, ${top}px)`;
    }
    this.renderStatus();
  }

  clearItems() {
    for (const node of this.items.values()) node.remove();
    this.items.clear();
  }

  renderStatus() {
    const parts = [`${this.total} rows`];
    const version = this.dataVersion ?? this.model.get("version");
    parts.push(`v${version}`);
    if (this.selected.size) parts.push(`${this.selected.size} selected`);
    if (this.sort) parts.push(`sorted by ${this.sort.column} ${this.sort.ascending ? "↑" : "↓"}`);
    if (this.dataVersion !== null && this.dataVersion < this.model.get("version")) {
      parts.push(`refreshing to v${this.model.get("version")}…`);
    }
    if (this.health === "waiting") parts.push("waiting for the kernel…");
    if (this.health === "stale" || this.health === "gone") parts.push("disconnected");
    this.status.textContent = parts.join(" · ");
    this.removeBtn.textContent = `Remove ${this.selected.size} selected`;
    this.removeBtn.hidden = this.selected.size === 0;
    this.clearBtn.hidden = this.selected.size === 0;
  }

  buildPlaceholder(m) {
    return h(
      "div",
      {
        className: m.gallery ? "dcai-tile dcai-loading" : "dcai-row dcai-loading",
        "data-testid": "grid-placeholder",
        style: m.gallery ? {} : { height: `${this.rowHeight}px`, width: `${this.rowWidth()}px` },
      },
      [h("span", { text: "…" })],
    );
  }

  value(it, name) {
    if (name === "sample_id") return it.id;
    const col = it.page.columns[name];
    return col ? col[it.i] : null;
  }

  buildRow(it, index) {
    const id = it.id;
    const selected = this.selected.has(id);
    const row = h("div", {
      className: `dcai-row${selected ? " dcai-selected" : ""}${this.value(it, "is_issue") ? " dcai-issue-row" : ""}`,
      "data-testid": "grid-row",
      "data-id": String(id),
      role: "row",
      tabindex: "-1",
      "aria-selected": selected ? "true" : "false",
      style: {
        gridTemplateColumns: this.templateColumns(),
        height: `${this.rowHeight}px`,
        width: `${this.rowWidth()}px`,
      },
    });
    for (const c of this.columns) row.append(this.buildCell(it, c));
    row.addEventListener("click", (e) => this.onItemClick(e, index, id));
    return row;
  }

  buildCell(it, c) {
    const v = this.value(it, c.name);
    const cell = h("div", {
      className: `dcai-td dcai-kind-${c.kind}`,
      "data-testid": "cell",
      "data-col": c.name,
      role: "gridcell",
    });
    if (c.kind === "image") {
      const src = safeImageSrc(v);
      if (src) cell.append(h("img", { "data-testid": "thumb", src, alt: "", draggable: "false" }));
      else cell.append(h("span", { className: "dcai-muted", text: "no image" }));
    } else if (c.role === "label") {
      cell.append(this.labelSelect(it.id, v));
    } else if (c.name === "is_issue") {
      if (v) cell.append(h("span", { className: "dcai-badge", "data-testid": "issue-badge", text: "issue" }));
    } else if (c.kind === "text") {
      const text = formatValue(v, c.kind);
      cell.textContent = text;
      cell.title = text;
      cell.classList.add("dcai-clamp");
      if (text.length > 40) {
        cell.classList.add("dcai-expandable");
        cell.addEventListener("click", (e) => {
          e.stopPropagation();
          this.showExpand(c.name, text);
        });
      }
    } else {
      const text = formatValue(v, c.kind);
      cell.textContent = text;
      cell.title = text;
      if (c.name === "suggested_label" && v !== null && v !== this.value(it, this.labelCol)) {
        cell.classList.add("dcai-suggest");
      }
    }
    return cell;
  }

  labelSelect(id, value) {
    const classes = this.classes;
    const select = h("select", {
      "data-testid": "label-select",
      "aria-label": `Label of sample ${id}`,
      className: "dcai-label-select",
    });
    let idx = classIndex(classes, value);
    if (idx < 0) {
      select.append(h("option", { value: "", text: value === null ? "—" : String(value), disabled: true }));
    }
    for (const c of classes) select.append(h("option", { value: String(c), text: String(c) }));
    select.selectedIndex = idx < 0 ? 0 : idx;
    select.addEventListener("click", (e) => e.stopPropagation());
    select.addEventListener("keydown", (e) => e.stopPropagation());
    select.addEventListener("change", () => {
      const off = idx < 0 ? 1 : 0;
      const k = select.selectedIndex - off;
      if (k >= 0 && k < classes.length) this.relabel([id], classes[k]);
    });
    return select;
  }

  buildTile(it, index) {
    const id = it.id;
    const selected = this.selected.has(id);
    const label = this.value(it, this.labelCol);
    const issue = Boolean(this.value(it, "is_issue"));
    const imageCol = this.columns.find((c) => c.kind === "image");
    const tile = h("div", {
      className: `dcai-tile${selected ? " dcai-selected" : ""}${issue ? " dcai-issue-tile" : ""}`,
      "data-testid": "tile",
      "data-id": String(id),
      tabindex: "-1",
      role: "gridcell",
      "aria-selected": selected ? "true" : "false",
      title: `sample ${id}`,
    });
    if (imageCol) {
      const src = safeImageSrc(this.value(it, imageCol.name));
      tile.append(
        src
          ? h("img", { "data-testid": "thumb", src, alt: "", draggable: "false" })
          : h("div", { className: "dcai-noimg", text: "no image" }),
      );
    } else {
      const textCol = this.columns.find((c) => c.kind === "text") || this.columns.find((c) => c.role === "feature");
      const text = textCol ? formatValue(this.value(it, textCol.name), textCol.kind) : "";
      tile.append(h("div", { className: "dcai-tile-text", text, title: text }));
    }
    const meta = h("div", { className: "dcai-tile-meta" }, [
      h("span", { className: "dcai-tile-label", "data-testid": "tile-label", text: formatValue(label, "label") }),
    ]);
    if (issue) {
      const suggested = this.value(it, "suggested_label");
      const quality = this.value(it, "label_quality");
      const badge = h("span", {
        className: "dcai-badge",
        "data-testid": "tile-badge",
        text: suggested !== null && suggested !== undefined ? `→ ${suggested}` : "issue",
        title:
          `flagged label issue` +
          (suggested !== null && suggested !== undefined ? `; suggested ${suggested}` : "") +
          (quality !== null && quality !== undefined ? `; label quality ${formatValue(quality, "number")}` : ""),
      });
      meta.append(badge);
    }
    tile.append(meta);
    tile.addEventListener("click", (e) => this.onItemClick(e, index, id));
    return tile;
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
    this.model.save_changes();
    this.schedule();
  }

  onItemClick(e, index, id) {
    if (e.target instanceof HTMLElement && e.target.closest("select, button, input")) return;
    const next = new Set(this.selected);
    if (e.shiftKey && this.anchorIndex !== null) {
      const [a, b] = [Math.min(this.anchorIndex, index), Math.max(this.anchorIndex, index)];
      for (let k = a; k <= b; k++) {
        const it = this.item(k);
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
    this.items.get(index)?.focus({ preventScroll: true });
    this.setSelection(next);
  }

  relabel(ids, label) {
    this.channel.request({ type: "relabel", ids, label }).then(
      () => this.showError(""),
      (err) => {
        this.showError(err instanceof KernelError ? err.message : String(err));
        this.epoch++; // put the rows back to what the kernel has
        this.schedule();
      },
    );
  }

  removeSelected() {
    const ids = [...this.selected];
    if (!ids.length) return;
    this.channel.request({ type: "remove", ids }).then(
      () => {
        this.showError("");
        this.setSelection(new Set());
      },
      (err) => this.showError(err instanceof KernelError ? err.message : String(err)),
    );
  }

  onKey(e) {
    if (e.key === "Escape") {
      this.expand.hidden = true;
      return;
    }
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const index = this.focusIndex;
    const m = this.metricsCache || this.metrics();
    let handled = true;
    const label = classForKey(this.classes, e.key);
    if (label !== undefined) {
      const it = index === null ? null : this.item(index);
      if (it) {
        const ids = this.selected.has(it.id) && this.selected.size > 1 ? [...this.selected] : [it.id];
        this.relabel(ids, label);
      }
    } else if (["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      const step = { ArrowDown: m.perUnit, ArrowUp: -m.perUnit, ArrowLeft: -1, ArrowRight: 1 }[e.key];
      if (!m.gallery && (e.key === "ArrowLeft" || e.key === "ArrowRight")) handled = false;
      else this.moveFocus(index === null ? 0 : index + step);
    } else if (e.key === " ") {
      const it = index === null ? null : this.item(index);
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
    const m = this.metricsCache || this.metrics();
    if (m.fullH <= MAX_SCROLL_PX) {
      const top = Math.floor(index / m.perUnit) * m.unitH;
      const viewH = this.scroll.clientHeight;
      if (top < this.scroll.scrollTop) this.scroll.scrollTop = top;
      else if (top + m.unitH > this.scroll.scrollTop + viewH) this.scroll.scrollTop = top + m.unitH - viewH;
    }
    this.render();
    this.items.get(index)?.focus({ preventScroll: true });
  }
}

function render({ model, el }) {
  const view = new GridView(model, el);
  return () => view.dispose();
}

export default { render };
