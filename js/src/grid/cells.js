// Rendering of the grid's items: table rows, their cells, gallery tiles. Every value is text
// (textContent), never HTML; images only from the kernel's data:image URLs. Findings columns
// are rendered by their declared role (schema `finding`), never by their name.
import { classIndex, formatValue, h, safeImageSrc } from "../shared.js";
import { relabel } from "./edits.js";
import { formatColumnNumber } from "./format.js";
import { ROW_H, ROW_H_IMAGES } from "./viewport.js";

/** "column value" lines on a table's card in the gallery. */
const CARD_FIELDS = 4;

const WIDTHS = { id: 84, image: 56, label: 130, number: 110, bool: 64, datetime: 170, text: 280, origin: 130 };

/** What the flag badge says, by the findings' action. */
const FLAG_TEXT = { relabel: "relabel", remove: "remove", label: "to label", review: "flagged" };

export function colWidth(c) {
  const byName = Math.min(220, 7.5 * String(c.name).length + 28);
  return Math.max(WIDTHS[c.kind] ?? 120, c.kind === "image" ? 0 : byName);
}

export class Cells {
  /**
   * view: the GridView (columns, classes, label column, selection, findings roles) and its
   * parts: keys.click(event, index, id) for a click, expand.show(name, text) for a cell's
   * full text; a class picked in a row's label select is sent by edits.relabel.
   */
  constructor(view) {
    this.view = view;
  }

  get columns() {
    return this.view.columns;
  }
  /**
   * Whether gallery items are cards: no image column, so a text to read (a text column) or a
   * few fields (a table), with the whole label.
   */
  get cards() {
    return !this.columns.some((c) => c.kind === "image");
  }
  textColumn() {
    return this.columns.find((c) => c.kind === "text" && c.role !== "finding");
  }
  get rowHeight() {
    return this.columns.some((c) => c.kind === "image") ? ROW_H_IMAGES : ROW_H;
  }
  /** A column's width: the one a person dragged it to, else by its kind and name. */
  width(c) {
    return this.view.widths[c.name] ?? colWidth(c);
  }
  templateColumns() {
    return this.columns.map((c) => `${this.width(c)}px`).join(" ");
  }
  rowWidth() {
    return this.columns.reduce((s, c) => s + this.width(c), 0);
  }
  /**
   * Left offsets of the frozen columns (sample_id, the image, the label: every column up to
   * the label), which stay in view while the table scrolls sideways. name -> px.
   */
  frozen() {
    const out = new Map();
    const last = this.columns.findIndex((c) => c.role === "label");
    let left = 0;
    for (let i = 0; i <= last; i++) {
      out.set(this.columns[i].name, left);
      left += this.width(this.columns[i]);
    }
    return out;
  }

  /** The value of column `name` for an item ({page, i, id}). */
  value(it, name) {
    if (name === "sample_id") return it.id;
    const col = name ? it.page.columns[name] : undefined;
    return col ? col[it.i] : null;
  }

  /** The value of the findings column playing `role` (null without such a role). */
  role(it, role) {
    const name = this.view.roleColumn[role];
    return name ? this.value(it, name) : null;
  }

  placeholder(gallery) {
    return h(
      "div",
      {
        className: gallery ? "dcai-tile dcai-loading" : "dcai-row dcai-loading",
        "data-testid": "grid-placeholder",
        style: gallery ? {} : { height: `${this.rowHeight}px`, width: `${this.rowWidth()}px` },
      },
      [h("span", { text: "…" })],
    );
  }

  /**
   * The data columns in which the item differs from its group's keeper (duplicates), or
   * null (a keeper, a row in no group, findings without groups).
   */
  differs(it) {
    const d = it.page.differs;
    return d ? d[it.i] ?? null : null;
  }

  /** A cell's text: numbers in their column's format, anything else as text. */
  text(it, c) {
    const v = this.value(it, c.name);
    const spec = c.kind === "number" ? it.page.formats?.[c.name] : undefined;
    return spec ? formatColumnNumber(v, spec) : formatValue(v, c.kind);
  }

  /** The item's resolved state ("accepted", "relabeled", "kept", "removed") or null. */
  resolved(it) {
    const r = it.page.resolved;
    return r ? r[it.i] ?? null : null;
  }

  /** Shared marks of an item: selection, flag, resolved, keeper, group (first of its group). */
  marks(it, groupStart) {
    const v = this.view;
    const flagged = Boolean(this.role(it, "flag"));
    const resolved = flagged ? this.resolved(it) : null;
    const keeper = Boolean(this.role(it, "keeper"));
    const group = this.role(it, "group");
    return {
      selected: v.selected.has(it.id),
      flagged,
      resolved,
      keeper,
      group,
      classes:
        (v.selected.has(it.id) ? " dcai-selected" : "") +
        (flagged && !resolved ? " dcai-flagged" : "") +
        (resolved ? " dcai-resolved" : "") +
        (keeper ? " dcai-keeper" : "") +
        (group !== null && group !== undefined && groupStart ? " dcai-group-start" : ""),
    };
  }

  row(it, index, groupStart) {
    const mk = this.marks(it, groupStart);
    const row = h("div", {
      className: `dcai-row${mk.classes}`,
      "data-testid": "grid-row",
      "data-id": String(it.id),
      "data-group": mk.group === null || mk.group === undefined ? null : String(mk.group),
      "data-keeper": mk.keeper ? "true" : null,
      "data-flagged": mk.flagged ? "true" : null,
      "data-resolved": mk.resolved,
      role: "row",
      tabindex: "-1",
      "aria-selected": mk.selected ? "true" : "false",
      style: {
        gridTemplateColumns: this.templateColumns(),
        height: `${this.rowHeight}px`,
        width: `${this.rowWidth()}px`,
      },
    });
    const frozen = this.frozen();
    for (const c of this.columns) {
      const cell = this.cell(it, c, mk.resolved);
      if (frozen.has(c.name)) {
        cell.classList.add("dcai-frozen");
        cell.style.left = `${frozen.get(c.name)}px`;
      }
      row.append(cell);
    }
    row.addEventListener("click", (e) => this.view.keys.click(e, index, it.id));
    return row;
  }

  cell(it, c, resolved = null) {
    const v = this.value(it, c.name);
    const differs = this.differs(it)?.includes(c.name) ?? false;
    const cell = h("div", {
      className: `dcai-td dcai-kind-${c.kind}${differs ? " dcai-differs" : ""}`,
      "data-testid": "cell",
      "data-col": c.name,
      "data-differs": differs ? "true" : null,
      role: "gridcell",
    });
    if (c.kind === "image") {
      const src = safeImageSrc(v);
      if (src) cell.append(h("img", { "data-testid": "thumb", src, alt: "", draggable: "false" }));
      else cell.append(h("span", { className: "dcai-muted", text: "no image" }));
    } else if (c.role === "label") {
      cell.append(this.labelSelect(it.id, v));
    } else if (c.role === "finding" && c.finding === "flag") {
      if (v && resolved) cell.append(this.badge("resolved-badge", `✓ ${resolved}`, "dcai-badge-resolved"));
      else if (v) cell.append(this.badge("flag-badge", FLAG_TEXT[this.view.action] || "flagged"));
    } else if (c.role === "finding" && c.finding === "keeper") {
      if (v) cell.append(this.badge("keeper-badge", "keeper", "dcai-badge-keep"));
    } else if (c.kind === "origin") {
      if (v !== null && v !== undefined) cell.append(this.badge("origin-badge", String(v), "dcai-badge-origin"));
    } else if (c.kind === "text") {
      const text = formatValue(v, c.kind);
      cell.textContent = text;
      cell.title = text;
      cell.classList.add("dcai-clamp");
      if (text.length > 40) {
        cell.classList.add("dcai-expandable");
        cell.addEventListener("click", (e) => {
          e.stopPropagation();
          this.view.expand.show(c.name, text);
        });
      }
    } else {
      // a numeric column has one format for all its cells (the page's `formats`, chosen by
      // the kernel from the column's values); the full value is in the title
      const spec = c.kind === "number" ? it.page.formats?.[c.name] : undefined;
      const text = spec ? formatColumnNumber(v, spec) : formatValue(v, c.kind);
      cell.textContent = text;
      cell.title = spec && typeof v === "number" ? String(v) : text;
      if (c.finding === "suggestion" && v !== null && String(v) !== String(this.value(it, this.view.labelCol))) {
        cell.classList.add("dcai-suggest");
      }
    }
    if (differs) cell.title = `${cell.title || cell.textContent}\n(differs from the keeper of its group)`;
    return cell;
  }

  badge(testid, text, extra = "") {
    return h("span", { className: `dcai-badge ${extra}`.trim(), "data-testid": testid, text, title: text });
  }

  labelSelect(id, value) {
    const classes = this.view.classes;
    const select = h("select", {
      "data-testid": "label-select",
      "aria-label": `Label of sample ${id}`,
      className: "dcai-label-select",
    });
    const idx = classIndex(classes, value);
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
      if (k >= 0 && k < classes.length) relabel(this.view, [id], classes[k]);
    });
    return select;
  }

  /**
   * A table's sample on a card: a few "column value" lines, the columns in which it differs
   * from its group's keeper first (marked), then the first features. Text only.
   */
  fields(it) {
    const differs = this.differs(it) || [];
    const data = this.columns.filter((c) => c.role === "feature" || (differs.includes(c.name) && c.role !== "label"));
    const shown = [
      ...data.filter((c) => differs.includes(c.name)),
      ...data.filter((c) => !differs.includes(c.name)),
    ].slice(0, CARD_FIELDS);
    const lines = shown.map((c) => {
      const diff = differs.includes(c.name);
      return h("div", {
        className: `dcai-field${diff ? " dcai-differs" : ""}`,
        "data-testid": "tile-field",
        "data-col": c.name,
        "data-differs": diff ? "true" : null,
        text: `${c.name} ${this.text(it, c)}`,
      });
    });
    const more = differs.length > shown.filter((c) => differs.includes(c.name)).length;
    const title = shown.map((c) => `${c.name}: ${this.text(it, c)}`).join("\n") +
      (differs.length ? `\ndiffers from its keeper in: ${differs.join(", ")}` : "") +
      (more ? " (more than shown)" : "");
    return h("div", { className: "dcai-tile-text dcai-fields", "data-testid": "tile-text", title }, lines);
  }

  tile(it, index, groupStart) {
    const view = this.view;
    const mk = this.marks(it, groupStart);
    const label = this.value(it, view.labelCol);
    const tile = h("div", {
      className: `dcai-tile${mk.classes}`,
      "data-testid": "tile",
      "data-id": String(it.id),
      "data-group": mk.group === null || mk.group === undefined ? null : String(mk.group),
      "data-keeper": mk.keeper ? "true" : null,
      "data-flagged": mk.flagged ? "true" : null,
      "data-resolved": mk.resolved,
      tabindex: "-1",
      role: "gridcell",
      "aria-selected": mk.selected ? "true" : "false",
      title: `sample ${it.id}`,
    });
    const imageCol = this.columns.find((c) => c.kind === "image");
    if (imageCol) {
      const src = safeImageSrc(this.value(it, imageCol.name));
      tile.append(
        src
          ? h("img", { "data-testid": "thumb", src, alt: "", draggable: "false" })
          : h("div", { className: "dcai-noimg", text: "no image" }),
      );
    } else if (this.textColumn()) {
      const textCol = this.textColumn();
      const text = formatValue(this.value(it, textCol.name), textCol.kind);
      tile.append(h("div", { className: "dcai-tile-text", "data-testid": "tile-text", text, title: text }));
    } else {
      tile.append(this.fields(it));
    }
    const cards = this.cards;
    if (cards) {
      tile.classList.add("dcai-card");
      tile.dataset.layout = "card";
    }
    const meta = h("div", { className: "dcai-tile-meta" }, [
      cards ? h("span", { className: "dcai-muted", text: "label" }) : null,
      h("span", { className: "dcai-tile-label", "data-testid": "tile-label", text: formatValue(label, "label") }),
    ]);
    if (mk.keeper) meta.append(this.badge("tile-keeper", "keeper", "dcai-badge-keep"));
    // a row an operation made (ds.origins): "augmented", "synthetic", ... on its tile
    const originCol = this.columns.find((c) => c.kind === "origin");
    const made = originCol ? this.value(it, originCol.name) : null;
    if (made !== null && made !== undefined && made !== "") {
      const badge = this.badge("tile-origin", String(made).split(":")[0], "dcai-badge-origin");
      badge.title = `made by an operation: ${made}`;
      meta.append(badge);
    }
    if (mk.resolved) {
      const badge = this.badge("tile-resolved", `✓ ${mk.resolved}`, "dcai-badge-resolved");
      badge.title = `flagged by ${view.findingsOp || "the findings"}; resolved since: ${mk.resolved}`;
      meta.append(badge);
    } else if (mk.flagged) {
      const suggested = this.role(it, "suggestion");
      const score = this.role(it, "score");
      const has = suggested !== null && suggested !== undefined;
      const badge = this.badge("tile-badge", has ? `→ ${suggested}` : FLAG_TEXT[view.action] || "flagged");
      badge.title =
        `flagged by ${view.findingsOp || "the findings"}` +
        (has ? `; suggested ${suggested}` : "") +
        (score !== null && score !== undefined ? `; score ${formatValue(score, "number")}` : "");
      meta.append(badge);
    }
    tile.append(meta);
    tile.addEventListener("click", (e) => view.keys.click(e, index, it.id));
    return tile;
  }
}
