// The grid's query: the sort and the filter the pager asks pages for, and the columns' widths,
// all kept in the widget's state (`query`) so a reloaded page shows them again.
import { classIndex } from "../shared.js";

/** Sort, filter and widths of one GridView; the pager holds `sort` and `filter`, the view `widths`. */
export class Query {
  constructor(view) {
    this.view = view;
  }

  /** The direction a first click sorts `column`: the findings' score most suspicious first. */
  firstAscending(column) {
    return column !== this.view.roleColumn.score;
  }

  /** A header clicked: sort by it, then the other way, then no sort. */
  cycleSort(column) {
    const sort = this.view.pager.sort;
    const first = this.firstAscending(column);
    if (!sort || sort.column !== column) this.setSort({ column, ascending: first });
    else if (sort.ascending === first) this.setSort({ column, ascending: !first });
    else this.setSort(null);
  }

  setSort(sort) {
    const v = this.view;
    v.pager.sort = sort;
    v.head.build();
    v.controls.fillSortOptions();
    this.changed();
  }

  /** Read the sort, filter and widths kept in the widget's state (`query`). */
  restore() {
    const v = this.view;
    const q = v.model.get("query") || {};
    const s = q.sort;
    if (s && v.columns.some((c) => c.name === s.column && c.sortable)) {
      v.pager.sort = { column: s.column, ascending: s.ascending !== false };
    }
    const f = q.filter || {};
    for (const [name, px] of Object.entries(q.widths || {})) {
      if (typeof px === "number" && px >= 40) v.widths[name] = px;
    }
    const findings = Boolean(v.model.get("has_findings"));
    v.pager.filter = {
      label: f.label ?? null,
      flagged: findings && f.flagged === true,
      text: typeof f.text === "string" ? f.text : "",
      review: findings && ["open", "resolved"].includes(f.review) ? f.review : "",
    };
  }

  save() {
    const v = this.view;
    v.model.set("query", { sort: v.pager.sort, filter: { ...v.pager.filter }, widths: { ...v.widths } });
    if (v.health !== "gone") v.model.save_changes();
  }

  /** The sort or filter changed: kept, and the rows are asked for again from the top. */
  changed() {
    const v = this.view;
    v.bulk.refresh();
    this.save();
    v.pager.reset();
    v.keys.reset();
    v.scroll.scrollTop = 0;
    // while the view is being built (a kept filter on a label no longer among the classes
    // is dropped then) there is no viewport yet, and nothing placed to clear
    v.viewport?.clear();
    v.schedule();
  }

  /** Show only the samples labelled `value` (the same as the label filter); again: all. */
  filterByLabel(value) {
    const v = this.view;
    const current = v.pager.filter.label;
    const same = current !== null && String(current) === String(value);
    const i = same ? -1 : classIndex(v.classes, value);
    if (!same && i < 0) return; // a label outside the classes: the filter cannot name it
    v.pager.filter.label = same ? null : v.classes[i];
    v.controls.filterLabel.selectedIndex = i + 1;
    this.changed();
  }

  /** Whether the rows of the current query depend on the labels (then a relabel refetches). */
  labelDependent() {
    const { sort, filter } = this.view.pager;
    return filter.label !== null || Boolean(filter.text) || Boolean(filter.review) || sort?.column === this.view.labelCol;
  }
}
