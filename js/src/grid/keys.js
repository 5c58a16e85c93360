// The grid's focused item and what moves it: keys (class keys relabel, arrows / Home / End /
// PgUp / PgDn move, Space opens the detail, x toggles, a accepts, Esc leaves) and clicks
// (select, Ctrl/Shift+click: more), and the key help line under the rows.
import { classForKey, classKeyHelp, commandKeyFree, focusNotebook, isEditable } from "../shared.js";
import { accept, relabel } from "./edits.js";

/** The keyboard focus and the selection's anchor of one GridView. */
export class Keys {
  constructor(view) {
    this.view = view;
    this.index = null; // display index of the focused item
    this.anchor = null; // display index a Shift+click selects from
    this.pending = null; // display index to focus once its row is here
  }

  /** The query changed: no item is focused. */
  reset() {
    this.index = null;
    this.anchor = null;
  }

  /** The key help line: what each key does on this grid. */
  help() {
    const v = this.view;
    const pick = classKeyHelp(v.classes).replace(" pick ", " relabel the focused item to ");
    const parts = [
      "click selects (Ctrl/Shift+click: more)",
      pick,
      "arrows, Home / End, PgUp / PgDn move",
      "Space or double-click opens the sample (← → through this sort and filter, Esc closes)",
      "Esc back to the notebook",
      commandKeyFree(v.classes, "x") ? "x toggles the selection" : "",
    ].filter(Boolean);
    if (v.canAccept && commandKeyFree(v.classes, "a")) {
      const what = v.action === "remove" ? "remove" : "set the suggested label";
      parts.push(`a accepts the finding (${what})`);
    }
    return parts.join(" · ");
  }

  /** An item clicked: select it (Ctrl: add or drop, Shift: the range from the anchor) and focus it. */
  click(e, index, id) {
    const v = this.view;
    if (e.target instanceof HTMLElement && e.target.closest("select, button, input")) return;
    if (!v.detail.hidden && !e.shiftKey && !e.ctrlKey && !e.metaKey) v.detail.open(index);
    const next = new Set(v.selected);
    if (e.shiftKey && this.anchor !== null) {
      const [a, b] = [Math.min(this.anchor, index), Math.max(this.anchor, index)];
      for (let k = a; k <= b; k++) {
        const it = v.pager.item(k);
        if (it) next.add(it.id);
      }
    } else if (e.ctrlKey || e.metaKey) {
      if (next.has(id)) next.delete(id);
      else next.add(id);
      this.anchor = index;
    } else {
      const only = next.size === 1 && next.has(id);
      next.clear();
      if (!only) next.add(id);
      this.anchor = index;
    }
    this.index = index;
    v.viewport.focus(index);
    v.setSelection(next);
  }

  /** The ids a key acts on: the selection when the focused item is part of it, else the focused item. */
  targets() {
    const v = this.view;
    const it = this.index === null ? null : v.pager.item(this.index);
    if (!it) return [];
    return v.selected.has(it.id) && v.selected.size > 1 ? [...v.selected] : [it.id];
  }

  onKey(e) {
    const v = this.view;
    if (!v.detail.hidden && !isEditable(e.target)) {
      const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[e.key];
      if (e.key === "Escape" || e.key === " " || step) {
        e.preventDefault();
        e.stopPropagation();
        if (!step) v.detail.close();
        else {
          this.move((v.detail.index ?? this.index ?? 0) + step);
          v.detail.open(this.index);
        }
        return;
      }
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      // a second Esc (nothing open to close) goes back to the notebook, in command mode
      if (!v.expand.hidden) v.expand.hide();
      else focusNotebook(v.root);
      return;
    }
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const index = this.index;
    const m = v.viewport.metrics || v.viewport.measure(v.total, v.gallery, v.cells.rowHeight, v.cells.cards);
    let handled = true;
    const label = classForKey(v.classes, e.key);
    if (label !== undefined) {
      const ids = this.targets();
      if (ids.length) relabel(v, ids, label);
    } else if (e.key === "a" && v.canAccept && commandKeyFree(v.classes, "a")) {
      accept(v, this.targets());
    } else if (["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      const step = { ArrowDown: m.perUnit, ArrowUp: -m.perUnit, ArrowLeft: -1, ArrowRight: 1 }[e.key];
      if (!m.gallery && (e.key === "ArrowLeft" || e.key === "ArrowRight")) handled = false;
      else this.move(index === null ? 0 : index + step);
    } else if (["Home", "End", "PageUp", "PageDown"].includes(e.key)) {
      // moved by the grid itself, not by the browser's scrolling: the focused row would
      // leave the DOM and the focus fall to the page (arrows would then stop working)
      const page = m.perUnit * Math.max(1, Math.floor((v.scroll.clientHeight || m.unitH) / m.unitH) - 1);
      const at = index === null ? 0 : index;
      const to = { Home: 0, End: v.total - 1, PageUp: at - page, PageDown: at + page }[e.key];
      this.move(to);
    } else if (e.key === " ") {
      v.detail.open(index === null ? 0 : index);
    } else if (e.key === "x") {
      const it = index === null ? null : v.pager.item(index);
      if (it) {
        const next = new Set(v.selected);
        if (next.has(it.id)) next.delete(it.id);
        else next.add(it.id);
        v.setSelection(next);
      }
    } else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  /** Focus the item at `index` (clamped), scrolled into view. */
  move(index) {
    const v = this.view;
    if (v.total === 0) return;
    index = Math.max(0, Math.min(v.total - 1, index));
    this.index = index;
    this.pending = null;
    v.viewport.reveal(index);
    v.render();
    v.viewport.focus(index);
    if (!v.viewport.items.get(index)?.contains(document.activeElement)) {
      v.scroll.focus({ preventScroll: true });
      this.pending = index;
    }
  }

  /**
   * The keyboard moved to an item whose row is still on its way (Home, End, a page away):
   * the grid's scroll area holds the focus meanwhile (keys keep working), and the row takes
   * it when it arrives, unless the focus went elsewhere in the meantime.
   */
  arrived() {
    const v = this.view;
    const index = this.pending;
    if (index === null || index === undefined) return;
    if (document.activeElement !== v.scroll) {
      this.pending = null;
      return;
    }
    const node = v.viewport.items.get(index);
    if (node && node.dataset.token !== "loading") {
      this.pending = null;
      node.focus({ preventScroll: true });
    }
  }
}
