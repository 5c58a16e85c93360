// The grid's toolbar: the filters (label, flagged only, review state, text search), the
// gallery's sort, the table / gallery toggle and the selection's buttons.
import { classIndex, debounce, h, setHidden, setText } from "../shared.js";
import { accept, removeSelected } from "./edits.js";

/** The toolbar's controls of one GridView; they change the view's query through `view.query`. */
export class Controls {
  constructor(view) {
    this.view = view;
    this.buildFilters();
    this.buildSortControls();
    this.buildSelectionButtons();
  }

  /** The toolbar's filters: label, flagged only, review state, text search. */
  buildFilters() {
    const v = this.view;
    this.filterLabel = h("select", {
      "data-testid": "filter-label",
      "aria-label": "Filter by label",
      onchange: () => {
        const i = this.filterLabel.selectedIndex - 1;
        v.pager.filter.label = i >= 0 ? v.classes[i] : null;
        v.query.changed();
      },
    });
    this.filterFlagged = h("input", {
      type: "checkbox",
      "data-testid": "filter-issues",
      disabled: !v.model.get("has_findings"),
      onchange: () => {
        v.pager.filter.flagged = this.filterFlagged.checked;
        v.query.changed();
      },
    });
    this.filterReview = h(
      "select",
      {
        "data-testid": "filter-review",
        "aria-label": "Filter by review state",
        disabled: !v.model.get("has_findings"),
        onchange: () => {
          v.pager.filter.review = this.filterReview.value;
          v.query.changed();
        },
      },
      [
        h("option", { value: "", text: "any state" }),
        h("option", { value: "open", text: "to review" }),
        h("option", { value: "resolved", text: "resolved" }),
      ],
    );
    const applyText = debounce(() => {
      v.pager.filter.text = this.filterText.value.trim();
      v.query.changed();
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
          v.pager.filter.text = this.filterText.value.trim();
          v.query.changed();
        }
      },
    });
  }

  /** The gallery's sort (column, direction) and the table / gallery toggle. */
  buildSortControls() {
    const v = this.view;
    this.gallerySort = h("select", {
      "data-testid": "gallery-sort",
      "aria-label": "Sort by",
      onchange: () => {
        const col = this.gallerySort.value;
        v.query.setSort(col ? { column: col, ascending: v.query.firstAscending(col) } : null);
      },
    });
    this.galleryDir = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "gallery-sort-dir",
      title: "Sort direction",
      onclick: () => {
        const sort = v.pager.sort;
        if (sort) v.query.setSort({ ...sort, ascending: !sort.ascending });
      },
    });
    this.layoutToggle = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "layout-toggle",
      onclick: () => {
        v.model.set("mode", v.gallery ? "table" : "gallery");
        v.model.save_changes();
      },
    });
  }

  /** Accept, remove and clear for the selection (kept in place, invisible, while there is none). */
  buildSelectionButtons() {
    const v = this.view;
    this.acceptBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "accept-selected",
      title: "Accept the findings of the selected samples (key a): one recorded change",
      onclick: () => accept(v, [...v.selected]),
    });
    this.removeBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "remove-selected",
      title: "Remove the selected samples from the dataset (recorded; ds.undo() reverts)",
      onclick: () => removeSelected(v),
    });
    this.clearBtn = h("button", {
      type: "button",
      className: "dcai-btn dcai-invisible",
      "data-testid": "clear-selection",
      text: "Clear selection",
      onclick: () => v.setSelection(new Set()),
    });
  }

  /** The toolbar row: these controls, with the bulk actions' toggle and the column chooser. */
  toolbar(bulkToggle, columnsBtn) {
    return h("div", { className: "dcai-toolbar" }, [
      this.filterLabel,
      h("label", { className: "dcai-check" }, [this.filterFlagged, " flagged only"]),
      this.view.model.get("has_findings") ? this.filterReview : null,
      this.filterText,
      h("span", { className: "dcai-gallery-only" }, [" sort ", this.gallerySort, this.galleryDir]),
      h("span", { className: "dcai-spacer" }),
      this.clearBtn,
      this.acceptBtn,
      this.removeBtn,
      bulkToggle,
      columnsBtn,
      this.layoutToggle,
    ]);
  }

  /** The filters' values from the query restored at start. */
  fillFilters() {
    const filter = this.view.pager.filter;
    this.filterFlagged.checked = filter.flagged;
    this.filterText.value = filter.text;
    this.filterReview.value = filter.review;
  }

  /** The label filter's options from the classes; a filtered label no longer among them: all. */
  fillFilterOptions() {
    const v = this.view;
    const current = v.pager.filter.label;
    this.filterLabel.replaceChildren(h("option", { value: "", text: "all labels" }));
    for (const c of v.classes) this.filterLabel.append(h("option", { value: String(c), text: String(c) }));
    const i = current === null ? -1 : classIndex(v.classes, current);
    this.filterLabel.selectedIndex = i + 1;
    if (current !== null && i < 0) {
      v.pager.filter.label = null;
      v.query.changed();
    }
  }

  /** The gallery's sort options from the sortable columns, and the current sort. */
  fillSortOptions() {
    const v = this.view;
    const sort = v.pager.sort;
    this.gallerySort.replaceChildren(h("option", { value: "", text: "row order" }));
    for (const c of v.columns) {
      if (c.sortable) this.gallerySort.append(h("option", { value: c.name, text: c.name }));
    }
    this.gallerySort.value = sort ? sort.column : "";
    this.galleryDir.textContent = sort && !sort.ascending ? "▼" : "▲";
    this.galleryDir.disabled = !sort;
  }

  renderLayout(gallery) {
    this.layoutToggle.textContent = gallery ? "Table view" : "Gallery view";
  }

  /**
   * The selection's buttons for `n` selected. They keep their place while there is no
   * selection (invisible, not removed), so the toolbar does not reflow when one appears.
   */
  renderSelection(n) {
    setText(this.removeBtn, `Remove ${n} selected`);
    this.removeBtn.classList.toggle("dcai-invisible", n === 0);
    setText(this.acceptBtn, `Accept ${n} selected`);
    setHidden(this.acceptBtn, !this.view.canAccept);
    this.acceptBtn.classList.toggle("dcai-invisible", n === 0);
    this.clearBtn.classList.toggle("dcai-invisible", n === 0);
  }
}
