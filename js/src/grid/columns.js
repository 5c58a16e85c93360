// The table's columns: the header row (sort by a click, resize by a drag on its right edge,
// frozen cells pinned while scrolling sideways) and the chooser of the columns shown.
import { h } from "../shared.js";

/** The header row, the column chooser's button and its panel, of one GridView. */
export class ColumnHeader {
  constructor(view) {
    this.view = view;
    this.el = h("div", { className: "dcai-header", role: "row" });
    this.wrap = h("div", { className: "dcai-header-wrap" }, [this.el]);
    this.button = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "column-chooser",
      title: "Choose the columns shown",
      onclick: (e) => {
        e.stopPropagation();
        this.panel.hidden = !this.panel.hidden;
        if (!this.panel.hidden) this.buildPanel();
      },
    });
    this.panel = h("div", { className: "dcai-column-panel", "data-testid": "column-panel", hidden: true });
  }

  /** The header cells from the columns, the current sort and the widths. */
  build() {
    const v = this.view;
    const cells = v.cells;
    const sort = v.pager?.sort ?? null;
    this.el.replaceChildren();
    this.el.style.gridTemplateColumns = cells.templateColumns();
    this.el.style.width = `${cells.rowWidth()}px`;
    const frozen = cells.frozen();
    for (const c of v.columns) {
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
          style: { width: `${cells.width(c)}px` },
          onclick: () => c.sortable && v.query.cycleSort(c.name),
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
      if (frozen.has(c.name)) cell.classList.add("dcai-frozen"); // pinned by pin()
      if (sorted) cell.append(h("span", { className: "dcai-arrow", text: sort.ascending ? " ▲" : " ▼" }));
      this.el.append(cell);
    }
    this.pin();
  }

  /** The frozen header cells follow the sideways scroll (the rows' cells are sticky). */
  pin() {
    const scroll = this.view.scroll;
    const x = scroll ? scroll.scrollLeft : 0;
    for (const th of this.el.querySelectorAll(".dcai-frozen")) th.style.transform = x ? `translateX(${x}px)` : "";
  }

  /** "Columns 40 of 61": every column of the schema is reachable through the chooser. */
  renderButton() {
    const all = this.view.model.get("schema") || [];
    this.button.textContent = `Columns ${this.view.columns.length} of ${all.length}`;
  }

  /** A checkbox per column of the schema; the id and label columns always show. */
  buildPanel() {
    const v = this.view;
    const all = v.model.get("schema") || [];
    const fixed = (c) => c.role === "id" || c.role === "label";
    this.panel.replaceChildren(
      ...all.map((c) =>
        h("label", { className: "dcai-check" }, [
          h("input", {
            type: "checkbox",
            "data-testid": "column-option",
            "data-col": c.name,
            checked: !c.hidden,
            disabled: fixed(c),
            onchange: () => {
              const hidden = [...this.panel.querySelectorAll('input[type="checkbox"]')]
                .filter((box) => !box.checked)
                .map((box) => box.dataset.col);
              v.model.set("hidden_columns", hidden);
              if (v.health !== "gone") v.model.save_changes();
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
    const v = this.view;
    const x0 = e.clientX;
    const w0 = v.cells.width(c);
    const move = (ev) => {
      v.widths[c.name] = Math.max(40, Math.round(w0 + ev.clientX - x0));
      this.build();
      v.epoch++;
      v.schedule();
    };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      v.query.save();
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }
}
