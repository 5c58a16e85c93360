// The grid's viewport: which display indexes are in view for a scroll position, where each
// item goes, and keeping only those items in the DOM (virtual scrolling). Table rows are one
// unit each; gallery tiles fill units (lines) of `perUnit` tiles.
import { setStyle } from "../shared.js";

export const ROW_H = 32;
export const ROW_H_IMAGES = 44;
export const TILE_W = 76;
export const TILE_H = 90;
/** Cards: the gallery of a text dataset (the sentence, the label, the suggestion). */
export const CARD_W = 248;
export const CARD_H = 112;
const MAX_SCROLL_PX = 6_000_000; // browsers cap element heights; larger grids scroll scaled

export class Viewport {
  /** scroll: the scrolling element; body: the tall element the items are placed in. */
  constructor(scroll, body) {
    this.scroll = scroll;
    this.body = body;
    this.items = new Map(); // display index -> element
    this.metrics = null;
  }

  /**
   * Layout numbers for `total` items: rows (gallery false) of `rowHeight` px, or tiles
   * (`cards`: the wider text cards).
   */
  measure(total, gallery, rowHeight, cards = false) {
    const width = this.scroll.clientWidth || 800;
    const tileW = cards ? CARD_W : TILE_W;
    const perUnit = gallery ? Math.max(1, Math.floor((width - 4) / tileW)) : 1;
    const unitH = gallery ? (cards ? CARD_H : TILE_H) : rowHeight;
    const units = Math.ceil(total / perUnit);
    const fullH = units * unitH;
    this.metrics = {
      gallery,
      perUnit,
      unitH,
      tileW,
      units,
      total,
      fullH,
      virtH: Math.min(fullH, MAX_SCROLL_PX),
    };
    return this.metrics;
  }

  /** Fractional first unit in view (scaled when the full height exceeds the browser's cap). */
  firstUnit(m, scrollTop, viewH) {
    if (m.fullH <= MAX_SCROLL_PX) return scrollTop / m.unitH;
    const maxScroll = Math.max(1, m.virtH - viewH);
    const ratio = Math.min(1, scrollTop / maxScroll);
    return ratio * Math.max(0, m.units - viewH / m.unitH);
  }

  /** Display indexes [i0, i1) to render (the view plus some overscan) and the placement. */
  range(m, fallbackH) {
    const viewH = this.scroll.clientHeight || fallbackH;
    const scrollTop = this.scroll.scrollTop;
    const first = this.firstUnit(m, scrollTop, viewH);
    const over = m.gallery ? 1 : 6;
    const u0 = Math.max(0, Math.floor(first) - over);
    const u1 = Math.min(m.units, Math.ceil(first + viewH / m.unitH) + over);
    return { i0: u0 * m.perUnit, i1: Math.min(m.total, u1 * m.perUnit), first, scrollTop };
  }

  /**
   * Keep exactly the items of [i0, i1) in the DOM. build(index) -> {token, make()}: an item
   * is rebuilt only when its token changed; the keyboard focus stays on a rebuilt item.
   */
  place(m, r, build) {
    for (const [index, node] of this.items) {
      if (index < r.i0 || index >= r.i1) {
        node.remove();
        this.items.delete(index);
      }
    }
    for (let index = r.i0; index < r.i1; index++) {
      const unit = Math.floor(index / m.perUnit);
      const top = r.scrollTop + (unit - r.first) * m.unitH;
      const left = m.gallery ? (index % m.perUnit) * m.tileW : 0;
      const { token, make, live } = build(index);
      let node = this.items.get(index);
      if (!node || node.dataset.token !== token) {
        const fresh = make();
        fresh.dataset.token = token;
        fresh.dataset.index = String(index);
        if (node) {
          const hadFocus = node.contains(document.activeElement);
          node.replaceWith(fresh);
          if (hadFocus && live) fresh.focus({ preventScroll: true });
        } else this.body.append(fresh);
        node = fresh;
        this.items.set(index, node);
      }
      // written only when the place changed: a patch re-renders every item in view, and an
      // unchanged transform written again still costs the frame a style pass per item
      setStyle(node, "transform", `translate(${left}px, ${top}px)`);
    }
  }

  clear() {
    for (const node of this.items.values()) node.remove();
    this.items.clear();
  }

  /** Scroll so that display index `index` is in view. */
  reveal(index) {
    const m = this.metrics;
    if (!m) return;
    const viewH = this.scroll.clientHeight;
    if (m.fullH > MAX_SCROLL_PX) {
      // scaled: the scroll position maps to a fractional first unit (see firstUnit)
      const unit = Math.floor(index / m.perUnit);
      const shown = viewH / m.unitH;
      const first = this.firstUnit(m, this.scroll.scrollTop, viewH);
      let want = first;
      if (unit < first) want = unit;
      else if (unit + 1 > first + shown) want = unit + 1 - shown;
      if (want === first) return;
      const span = Math.max(1e-9, m.units - shown);
      this.scroll.scrollTop = Math.min(1, Math.max(0, want / span)) * Math.max(1, m.virtH - viewH);
      return;
    }
    const top = Math.floor(index / m.perUnit) * m.unitH;
    if (top < this.scroll.scrollTop) this.scroll.scrollTop = top;
    else if (top + m.unitH > this.scroll.scrollTop + viewH) this.scroll.scrollTop = top + m.unitH - viewH;
  }

  focus(index) {
    this.items.get(index)?.focus({ preventScroll: true });
  }
}
