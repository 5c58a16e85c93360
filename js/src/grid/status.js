// The grid's status line ("1,797 rows · v3 · 2 selected · sorted by score ↑") and its counts
// line (findings flagged / resolved, samples per label as chips that filter on a click).
import { h, setHidden, setText } from "../shared.js";
import { formatCount } from "./format.js";

/** The tooltip of a label chip in the toolbar counts. */
function chipTitle(value, n) {
  return `${formatCount(n)} samples labelled ${value} (click: show only them)`;
}

/** The status and counts lines of one GridView. */
export class Status {
  constructor(view) {
    this.view = view;
    this.counts = h("div", { className: "dcai-counts", "data-testid": "grid-counts" });
    this.line = h("div", { className: "dcai-status", "data-testid": "grid-status" });
    this.countsKey = undefined;
    this.countsShape = undefined;
    this.countsParts = null;
  }

  render() {
    const v = this.view;
    const pager = v.pager;
    const sort = pager.sort;
    const parts = [`${formatCount(v.total)} rows`];
    const latest = v.datasetVersion();
    const version = pager.version ?? latest;
    parts.push(`v${version}`);
    const pool = pager.pool;
    if (pool) {
      parts.push(`${formatCount(pool.labeled)} labeled · ${formatCount(pool.unlabeled)} in the pool`);
    }
    if (v.selected.size) parts.push(`${formatCount(v.selected.size)} selected`);
    if (sort) parts.push(`sorted by ${sort.column} ${sort.ascending ? "↑" : "↓"}`);
    if (pager.version !== null && pager.version < latest) {
      parts.push(`refreshing to v${latest}…`);
    }
    const health = v.healthText();
    if (health) parts.push(health);
    setText(this.line, parts.join(" · "));
    this.renderCounts();
  }

  /**
   * The toolbar's counts, updated live (page answers and relabel patches carry them):
   * "181 of 1,797 flagged · 12 resolved" with findings, and the samples per label; a label
   * clicked filters on it.
   */
  renderCounts() {
    const v = this.view;
    const counts = v.pager.counts;
    const labels = v.pager.labels;
    const rows = v.pager.rowCount ?? v.model.get("row_count");
    const key = JSON.stringify([counts, labels, rows, v.pager.filter.label]);
    if (key === this.countsKey) return; // unchanged: keep the DOM (and a hover) as it is
    this.countsKey = key;
    const findingsText = counts
      ? `${formatCount(counts.flagged)} of ${formatCount(rows)} flagged · ${formatCount(counts.resolved)} resolved`
      : null;
    const values = labels && labels.values.length ? labels.values : [];
    const current = v.pager.filter.label;
    const otherText = labels?.other_classes
      ? `+${formatCount(labels.other_classes)} more labels (${formatCount(labels.other_rows)})`
      : null;
    // the same chips in the same order (a relabel moves one sample): only numbers change
    const shape = JSON.stringify([Boolean(counts), values.map(([val]) => String(val)), current, Boolean(otherText)]);
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
            onclick: () => v.query.filterByLabel(value),
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
}
