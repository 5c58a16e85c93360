// The grid's pager: which pages of the current query the kernel has answered, which are on
// their way, and asking for the ones the viewport needs. A query is a sort and a filter; a
// new query (generation) forgets every page of the old one.
import { KernelError } from "../shared.js";

const MAX_INFLIGHT = 4;
const MAX_CACHED_PAGES = 60;

export class Pager {
  /**
   * channel: the view's Channel; pageSize(): rows per request; onPage(answer): called after
   * a page of the current query arrived; onError(message): after one was refused.
   */
  constructor(channel, pageSize, { onPage, onError }) {
    this.channel = channel;
    this.pageSize = pageSize;
    this.onPage = onPage;
    this.onError = onError;
    this.sort = null; // {column, ascending}
    this.filter = { label: null, flagged: false, text: "", review: "" };
    this.gen = 0;
    this.pages = new Map(); // page number -> answer {version, offset, ids, columns}
    this.inflight = new Map(); // page number -> query generation
    this.failedGen = null; // the generation whose last request was refused
    this.total = null; // rows of the current query, once known
    this.version = null; // dataset version of the newest page received
    this.counts = null; // {flagged, resolved} of the findings, from the newest page
    this.pool = null; // {labeled, unlabeled} when the dataset has an unlabeled pool
    this.labels = null; // samples per label {values: [[label, n]], other_classes, other_rows, version}
    this.rowCount = null; // rows in the dataset, from the newest page
    this.disposed = false;
  }

  /** A new sort/filter: forget the pages of the old one. */
  reset() {
    this.gen++;
    this.pages.clear();
    this.inflight.clear();
    this.failedGen = null;
  }

  /** Something the pages show changed without a new dataset version (a keep decision):
   * every page is asked for again; the old ones stay on screen until then. */
  invalidate() {
    for (const page of this.pages.values()) page.stale = true;
    this.failedGen = null;
  }

  /** The dataset changed: a page refused before may be answered now. */
  retry() {
    this.failedGen = null;
  }

  payload(page) {
    const P = this.pageSize();
    return { type: "page", offset: page * P, limit: P, sort: this.sort, filter: { ...this.filter } };
  }

  /** Ask for the pages covering display indexes [i0, i1) that are missing or older than `version`. */
  want(i0, i1, version) {
    if (this.failedGen === this.gen) return;
    const P = this.pageSize();
    const p0 = Math.floor(i0 / P);
    const p1 = this.total === 0 ? p0 : Math.floor(Math.max(i0, i1 - 1) / P);
    const needed = [];
    for (let p = p0; p <= p1; p++) {
      const page = this.pages.get(p);
      if ((!page || page.stale || page.version < version) && this.inflight.get(p) !== this.gen) needed.push(p);
    }
    if (this.pages.size === 0 && this.inflight.size === 0 && needed.length === 0) needed.push(p0);
    for (const p of needed) {
      if (this.inflight.size >= MAX_INFLIGHT) break;
      this.request(p);
    }
  }

  request(page) {
    const gen = this.gen;
    this.inflight.set(page, gen);
    this.channel
      .request(this.payload(page))
      .then((answer) => {
        if (this.inflight.get(page) === gen) this.inflight.delete(page);
        if (gen !== this.gen || this.disposed) return;
        const held = this.pages.get(page);
        if (held && !held.stale && held.version > answer.version) return; // patched since
        this.pages.set(page, answer);
        if (this.pages.size > MAX_CACHED_PAGES) this.evict(page);
        this.total = answer.total;
        this.version = answer.version;
        if (answer.counts) this.counts = answer.counts;
        this.pool = answer.pool ?? null;
        this.rowCount = answer.row_count ?? this.rowCount;
        this.takeLabels(answer.labels);
        this.onPage(answer);
      })
      .catch((err) => {
        if (this.inflight.get(page) === gen) this.inflight.delete(page);
        if (gen !== this.gen || this.disposed) return;
        this.failedGen = gen;
        this.onError(err instanceof KernelError ? err.message : String(err), err);
      });
  }

  evict(keep) {
    const far = [...this.pages.keys()].sort((a, b) => Math.abs(b - keep) - Math.abs(a - keep));
    while (this.pages.size > MAX_CACHED_PAGES) this.pages.delete(far.shift());
  }

  /**
   * Apply a relabel pushed by the kernel ({version, ids, label, resolved?, counts?}) to the
   * pages read at the version just before it: no round trip. `labelCol` is the label column.
   */
  patch(msg, labelCol) {
    const at = new Map(msg.ids.map((id, k) => [id, k]));
    for (const page of this.pages.values()) {
      if (page.version !== msg.version - 1) continue;
      const labels = page.columns[labelCol];
      page.ids.forEach((id, i) => {
        const k = at.get(id);
        if (k === undefined) return;
        if (labels) labels[i] = msg.label[k];
        if (page.resolved && msg.resolved) page.resolved[i] = msg.resolved[k];
      });
      page.version = msg.version;
    }
    if (this.version === msg.version - 1) this.version = msg.version;
    this.takeCounts(msg);
  }

  /** The counts a relabel patch carries (flagged/resolved, pool, per label), also when the
   * rows held are not patched (a label-dependent query refetches them). */
  takeCounts(msg) {
    if (msg.counts) this.counts = msg.counts;
    if ("pool" in msg) this.pool = msg.pool ?? null;
    this.takeLabels(msg.labels);
  }

  /** Keep the newest per-label counts (a page read before a patch may arrive after it). */
  takeLabels(labels) {
    if (!labels || !Array.isArray(labels.values)) return;
    if (this.labels && typeof labels.version === "number" && labels.version < this.labels.version) return;
    this.labels = labels;
  }

  /**
   * The labels of a relabel patch another view of the dataset received, shown at once in the
   * pages held that are older than it. Versions and counts stay: this view's own patch
   * brings them (and is applied over this). Returns whether a row held changed.
   */
  patchLabels(msg, labelCol) {
    if (!msg || !Array.isArray(msg.ids) || !Array.isArray(msg.label)) return false;
    const at = new Map(msg.ids.map((id, k) => [id, k]));
    let hit = false;
    for (const page of this.pages.values()) {
      const labels = page.columns[labelCol];
      if (!labels || page.version >= msg.version) continue;
      page.ids.forEach((id, i) => {
        const k = at.get(id);
        if (k !== undefined) {
          labels[i] = msg.label[k];
          hit = true;
        }
      });
    }
    return hit;
  }

  /** The row at display index `index`: {page, i, id}, or null while its page is not here. */
  item(index) {
    const page = this.pages.get(Math.floor(index / this.pageSize()));
    if (!page) return null;
    const i = index - page.offset;
    if (i < 0 || i >= page.ids.length) return null;
    return { page, i, id: page.ids[i] };
  }

  dispose() {
    this.disposed = true;
    this.pages.clear();
    this.inflight.clear();
  }
}
