/**
 * The "Data history" side panel: the dataset histories in `.dcai/` beside the active
 * notebook, their iterations (paged), and the links back to the cells that made them.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { Notebook, NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  HistoriesReply,
  HistoryEntry,
  Iteration,
  IterationReply,
  IterationsReply,
  Metrics,
  request
} from './api';
import {
  metricsText,
  opsSummary,
  pyName,
  pyString,
  sourceText,
  timeText,
  verb,
  versionsText
} from './format';
import { h } from '../../js/src/dom.js';
import { findLiveDataset } from './kernel';
import { CellMarkers } from './markers';

/** Iterations fetched per page. */
export const PAGE = 50;
/** Stamp poll interval (ms) while the panel is shown, and while only markers are. */
const POLL_VISIBLE = 400;
const POLL_HIDDEN = 1500;

interface HistoryState {
  entry: HistoryEntry;
  iterations: Iteration[];
  total: number;
  head: number;
  stamp: string;
  error: string | null;
  loading: boolean;
  collapsed: boolean;
}

/** Opens a notebook by its path from the server root; resolves to its panel when it is one. */
export type OpenNotebook = (path: string) => Promise<NotebookPanel | null>;

export class DataHistoryPanel extends Widget {
  constructor(markers: CellMarkers, openNotebook?: OpenNotebook) {
    super();
    this._open = openNotebook ?? null;
    this.id = 'dcai-data-history';
    this.addClass('dcai-hp');
    this.title.caption = 'Data history';
    this._markers = markers;
    this._header = h('div', { className: 'dcai-hp-header' });
    this._message = h('div', {
      className: 'dcai-hp-message',
      'data-testid': 'dcai-hp-message',
      role: 'status'
    });
    this._body = h('div', { className: 'dcai-hp-body', 'data-testid': 'dcai-hp-body' });
    const reload = h('button', {
      className: 'dcai-hp-reload',
      'data-testid': 'dcai-hp-reload',
      title: 'Read the histories again',
      text: '⟳'
    });
    reload.addEventListener('click', () => {
      this._histories = new Map();
      this._stamp = null;
      this._render();
      void this.refresh();
    });
    this.node.append(
      h('div', { className: 'dcai-hp-title' }, [h('span', { text: 'Data history' }), reload]),
      this._header,
      this._message,
      this._body
    );
    this._timer = window.setInterval(() => void this._tick(), POLL_VISIBLE);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.refresh();
  }

  dispose(): void {
    window.clearInterval(this._timer);
    super.dispose();
  }

  /** The notebook the panel follows (null: none open). */
  setNotebook(panel: NotebookPanel | null): void {
    if (panel === this._notebook) {
      return;
    }
    this._notebook = panel;
    this._histories = new Map();
    this._stamp = null;
    this._listError = null;
    this._markers.setNotebook(panel);
    this._message.textContent = '';
    this._render();
    void this.refresh();
  }

  get notebookPath(): string | null {
    return this._notebook?.context.path ?? null;
  }

  /** Re-read everything now (the poll does this when a history file changes). */
  async refresh(): Promise<void> {
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    if (this._refreshing) {
      this._again = true;
      return;
    }
    this._refreshing = true;
    try {
      const path = panel.context.path;
      let reply: HistoriesReply;
      try {
        reply = await request<HistoriesReply>('histories', { notebook: path });
        this._listError = null;
      } catch (err) {
        if (panel !== this._notebook) {
          return;
        }
        this._listError = (err as Error).message;
        this._render();
        return;
      }
      if (panel !== this._notebook) {
        return;
      }
      this._directory = reply.directory;
      this._stamp = reply.stamp;
      this._markers.update(reply.cells);
      this._cellNotebook = reply.cell_notebook ?? {};
      // this notebook's histories first: those its cells changed, as saved (the server) or as
      // open now (cells run since the last save)
      const live = new Set(panel.content.widgets.map(c => c.model.id));
      const mine = new Set<string>();
      for (const [cid, marker] of Object.entries(reply.cells ?? {})) {
        if (live.has(cid)) {
          marker.histories.forEach(name => mine.add(name));
        }
      }
      const entries = reply.histories.map(e => ({
        ...e,
        active: Boolean(e.active) || (e.name !== undefined && mine.has(e.name))
      }));
      entries.sort((a, b) => Number(Boolean(b.active)) - Number(Boolean(a.active)));
      const next = new Map<string, HistoryState>();
      for (const entry of entries) {
        const old = this._histories.get(entry.path);
        next.set(entry.path, {
          entry,
          iterations: old?.iterations ?? [],
          total: old?.total ?? 0,
          head: old?.head ?? -1,
          stamp: old?.stamp ?? '',
          error: entry.error,
          loading: false,
          collapsed: old?.collapsed ?? false
        });
      }
      this._histories = next;
      // Iterations are read only while the panel is shown (the markers need the list only).
      if (this.isVisible) {
        await Promise.all(
          [...next.values()]
            .filter(hs => !hs.entry.error && hs.stamp !== hs.entry.stamp)
            .map(hs => this._loadIterations(hs, Math.max(PAGE, hs.iterations.length), false))
        );
      }
      if (panel === this._notebook) {
        this._render();
      }
    } finally {
      this._refreshing = false;
      if (this._again) {
        this._again = false;
        void this.refresh();
      }
    }
  }

  private async _loadIterations(hs: HistoryState, limit: number, append: boolean): Promise<void> {
    try {
      const reply = await request<IterationsReply>('iterations', {
        path: hs.entry.path,
        offset: append ? hs.iterations.length : 0,
        limit: Math.min(limit, 500)
      });
      hs.iterations = append ? hs.iterations.concat(reply.iterations) : reply.iterations;
      hs.total = reply.total;
      hs.head = reply.head;
      hs.stamp = hs.entry.stamp ?? reply.stamp;
      hs.error = null;
    } catch (err) {
      hs.error = (err as Error).message;
    }
  }

  private async _tick(): Promise<void> {
    const panel = this._notebook;
    if (!panel || this._refreshing || document.hidden) {
      return;
    }
    const now = Date.now();
    const interval = this.isVisible ? POLL_VISIBLE : POLL_HIDDEN;
    if (now - this._lastPoll < interval - 50) {
      return;
    }
    this._lastPoll = now;
    try {
      const { stamp } = await request<{ stamp: string }>('stamp', {
        notebook: panel.context.path
      });
      if (stamp !== this._stamp && panel === this._notebook) {
        await this.refresh();
      }
    } catch {
      // the list shows the error on the next refresh; a failed poll is retried
    }
  }

  // ------------------------------------------------------------------ rendering
  private _render(): void {
    const panel = this._notebook;
    this._header.textContent = panel
      ? `${PathExt.basename(panel.context.path)} · histories in ${
          this._directory ? this._directory + '/' : ''
        }.dcai/`
      : '';
    const body = this._body;
    body.replaceChildren();
    if (!panel) {
      body.append(h('p', { className: 'dcai-hp-empty', text: 'Open a notebook to see its data history.' }));
      return;
    }
    if (this._listError) {
      body.append(
        h('div', {
          className: 'dcai-hp-error',
          'data-testid': 'dcai-hp-error',
          role: 'alert',
          text: `Cannot list the histories: ${this._listError}`
        })
      );
      return;
    }
    if (this._histories.size === 0) {
      body.append(
        h('p', {
          className: 'dcai-hp-empty',
          'data-testid': 'dcai-hp-empty',
          text:
            'No dataset history beside this notebook yet. A named Dataset ' +
            '(dj.Dataset(df, label=..., name="digits")) records its changes in .dcai/<name>.sqlite.'
        })
      );
      return;
    }
    for (const hs of this._histories.values()) {
      body.append(this._renderHistory(hs));
    }
  }

  private _renderHistory(hs: HistoryState): HTMLElement {
    const e = hs.entry;
    const section = h('section', {
      className: 'dcai-hp-history' + (e.active ? ' dcai-hp-active' : ''),
      'data-testid': 'dcai-hp-history',
      'data-name': e.name ?? e.file,
      'data-path': e.path,
      'data-active': e.active ? 'true' : 'false'
    });
    const toggle = h('button', {
      className: 'dcai-hp-toggle',
      'aria-expanded': hs.collapsed ? 'false' : 'true',
      title: hs.collapsed ? 'Show iterations' : 'Hide iterations',
      text: hs.collapsed ? '▸' : '▾'
    });
    toggle.addEventListener('click', () => {
      hs.collapsed = !hs.collapsed;
      this._render();
    });
    const baseMetrics = e.base_metrics ? metricsText(e.base_metrics) : [];
    const facts = e.error
      ? e.file
      : `v${e.head} · ${e.n_iterations} iteration${e.n_iterations === 1 ? '' : 's'}` +
        (e.base_rows !== null && e.base_rows !== undefined ? ` · base ${e.base_rows} rows` : '') +
        (baseMetrics.length ? ` (${baseMetrics.join(', ')})` : '');
    section.append(
      h('div', { className: 'dcai-hp-history-head' }, [
        toggle,
        h('span', { className: 'dcai-hp-name', text: e.name ?? e.file }),
        h('span', { className: 'dcai-hp-facts', 'data-testid': 'dcai-hp-facts', text: facts })
      ])
    );
    const here = this.notebookPath;
    const others = (e.notebooks ?? []).filter(p => p !== here).map(p => PathExt.basename(p));
    if (e.active || others.length) {
      section.append(
        h('div', {
          className: 'dcai-hp-owner',
          'data-testid': 'dcai-hp-owner',
          text:
            (e.active ? 'this notebook' : '') +
            (e.active && others.length ? ' · also ' : '') +
            (others.length ? `${e.active ? '' : 'made in '}${others.join(', ')}` : '')
        })
      );
    }
    if (hs.error) {
      section.append(
        h('div', {
          className: 'dcai-hp-error',
          'data-testid': 'dcai-hp-error',
          role: 'alert',
          text: hs.error
        })
      );
      return section;
    }
    if (hs.collapsed) {
      return section;
    }
    const list = h('ol', { className: 'dcai-hp-iterations', 'data-testid': 'dcai-hp-iterations' });
    hs.iterations.forEach((it, i) => {
      // compare with the newest metrics recorded before this iteration (base included)
      let before: Metrics | undefined = undefined;
      for (let k = i + 1; k < hs.iterations.length && !before; k++) {
        if (Object.keys(hs.iterations[k].metrics).length) {
          before = hs.iterations[k].metrics;
        }
      }
      if (!before && hs.iterations.length === hs.total && e.base_metrics) {
        before = e.base_metrics;
      }
      list.append(this._renderIteration(hs, it, before));
    });
    section.append(list);
    if (hs.iterations.length < hs.total) {
      const more = h('button', {
        className: 'dcai-hp-more jp-mod-styled',
        'data-testid': 'dcai-hp-more',
        text: `Show older iterations (${hs.total - hs.iterations.length} more)`
      });
      more.addEventListener('click', async () => {
        more.disabled = true;
        await this._loadIterations(hs, PAGE, true);
        this._render();
      });
      section.append(more);
    }
    return section;
  }

  private _renderIteration(hs: HistoryState, it: Iteration, before?: Metrics): HTMLElement {
    const item = h('li', {
      className: 'dcai-hp-iteration',
      'data-testid': 'dcai-hp-iteration',
      'data-iteration': String(it.iteration),
      'data-cell-id': it.cell_id ?? '',
      'data-source': it.source,
      'data-first-version': String(it.first_version),
      'data-last-version': String(it.last_version),
      tabindex: '0',
      title: it.code ? it.code + (it.code_truncated ? '\n…' : '') : ''
    });
    const metrics = metricsText(it.metrics, before);
    item.append(
      h('div', { className: 'dcai-hp-line1' }, [
        h('span', { className: 'dcai-hp-num', text: `#${it.iteration}` }),
        h('span', { className: 'dcai-hp-ops', 'data-testid': 'dcai-hp-ops', text: opsSummary(it.ops) }),
        h('span', { className: 'dcai-hp-versions', text: versionsText(it) })
      ]),
      h('div', { className: 'dcai-hp-line2' }, [
        h('span', { className: 'dcai-hp-source', 'data-testid': 'dcai-hp-source', text: sourceText(it) }),
        h('span', { className: 'dcai-hp-time', text: timeText(it.ended) })
      ])
    );
    if (metrics.length) {
      item.append(
        h('div', { className: 'dcai-hp-metrics', 'data-testid': 'dcai-hp-metrics', text: metrics.join(' · ') })
      );
    }
    const buttons = h('div', { className: 'dcai-hp-actions' });
    const button = (label: string, testid: string, title: string, run: () => void) => {
      const b = h('button', { className: 'dcai-hp-action', 'data-testid': testid, title, text: label });
      b.addEventListener('click', ev => {
        ev.stopPropagation();
        run();
      });
      buttons.append(b);
    };
    button('Details', 'dcai-hp-details', 'What this iteration changed', () =>
      void this._toggleDetails(hs, it, item)
    );
    button(
      'Insert checkout cell',
      'dcai-hp-checkout',
      `Add a code cell below the active one that rebuilds v${it.last_version}`,
      () => void this.insertCheckout(hs.entry, it.last_version)
    );
    button(
      'Revert to here',
      'dcai-hp-revert',
      `Bring the data back to v${it.last_version} as one new recorded change`,
      () => void this.revertTo(hs.entry, it.last_version, hs.head)
    );
    item.append(buttons);
    item.addEventListener('click', () => void this.goToCell(it));
    item.addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && ev.target === item) {
        void this.goToCell(it);
      }
    });
    return item;
  }

  private async _toggleDetails(hs: HistoryState, it: Iteration, item: HTMLElement): Promise<void> {
    const open = item.querySelector('.dcai-hp-detail');
    if (open) {
      open.remove();
      return;
    }
    const box = h('div', { className: 'dcai-hp-detail', 'data-testid': 'dcai-hp-detail', text: '…' });
    item.append(box);
    try {
      const d = await request<IterationReply>('iteration', {
        path: hs.entry.path,
        iteration: it.iteration,
        limit: 20
      });
      box.replaceChildren(
        h('div', {
          text: `v${d.version_before} → v${d.version_after}: ${d.total} change${d.total === 1 ? '' : 's'}, ${it.rows_touched} rows`
        })
      );
      if (d.diff) {
        const rows = Object.entries(d.diff.counts)
          .filter(([, n]) => n > 0)
          .map(([kind, n]) => `${kind} ${n}`);
        box.append(
          h('div', {
            'data-testid': 'dcai-hp-diff',
            text: `rows ${rows.length ? rows.join(' · ') : 'unchanged'} (v${d.version_before} vs v${d.version_after})`
          })
        );
        if (d.diff.relabels.length) {
          const more = d.diff.n_relabel_pairs - d.diff.relabels.length;
          box.append(
            h('div', {
              text:
                d.diff.relabels.map(p => `${p.old} → ${p.new} ${p.rows}`).join(', ') +
                (more > 0 ? ` … (+${more} more)` : '')
            })
          );
        }
      } else if (d.diff_error) {
        box.append(h('div', { className: 'dcai-hp-error', text: d.diff_error }));
      }
      const before = metricsText(d.metrics_after, d.metrics_before);
      if (before.length) {
        box.append(h('div', { text: before.join(' · ') }));
      }
      const ul = h('ul');
      for (const c of d.changes) {
        const ids = c.ids ?? [];
        const more = (c.n_ids ?? ids.length) > ids.length ? ` … (${c.n_ids} ids)` : '';
        ul.append(
          h('li', {
            text:
              `v${c.version} ${verb(c.op)} ${c.n_rows}` +
              (ids.length ? ` · ids ${ids.join(', ')}${more}` : '') +
              (c.reason ? ` · “${c.reason}”` : '')
          })
        );
      }
      box.append(ul);
      if (d.total > d.changes.length) {
        box.append(h('div', { text: `… and ${d.total - d.changes.length} more changes` }));
      }
    } catch (err) {
      box.className = 'dcai-hp-detail dcai-hp-error';
      box.textContent = (err as Error).message;
    }
  }

  // ------------------------------------------------------------------ actions
  private _say(text: string, kind: 'info' | 'warn' = 'info'): void {
    this._message.textContent = text;
    this._message.dataset.kind = kind;
  }

  /** Scroll to, select and flash the cell that made `it`; say so when it is gone. */
  async goToCell(it: Iteration): Promise<boolean> {
    const panel = this._notebook;
    if (!panel) {
      return false;
    }
    const nb = panel.content;
    let index = -1;
    let how = '';
    if (it.cell_id) {
      index = nb.widgets.findIndex(c => c.model.id === it.cell_id);
      how = `cell ${it.cell_id}`;
    } else if (it.source === 'widget' && it.widget) {
      // The widget's cell: the last cell whose code creates a widget of that class and
      // that shows a widget output.
      const name = it.widget;
      for (let i = nb.widgets.length - 1; i >= 0; i--) {
        const c = nb.widgets[i];
        if (c.model.type !== 'code' || !c.model.sharedModel.getSource().includes(name)) {
          continue;
        }
        const outputs = (c.model as any).outputs;
        let hasWidget = false;
        for (let k = 0; outputs && k < outputs.length; k++) {
          const data = outputs.get(k)?.data ?? {};
          if ('application/vnd.jupyter.widget-view+json' in data) {
            hasWidget = true;
          }
        }
        if (hasWidget) {
          index = i;
          break;
        }
      }
      how = `the cell showing the ${name}`;
      if (index < 0) {
        this._say(
          `Cell not found: no cell of this notebook shows a ${name} (iteration #${it.iteration} was made in it).`,
          'warn'
        );
        return false;
      }
    } else {
      this._say(
        `Iteration #${it.iteration} was made by ${sourceText(it)}, not by a cell of this notebook.`,
        'warn'
      );
      return false;
    }
    if (index < 0 && it.cell_id) {
      const elsewhere = this._cellNotebook[it.cell_id];
      if (elsewhere && elsewhere !== panel.context.path && this._open) {
        return this._goToOtherNotebook(elsewhere, it);
      }
    }
    if (index < 0) {
      this._say(
        `Cell not found: the cell that made iteration #${it.iteration} (${sourceText(it)}, id ${it.cell_id}) ` +
          'is in no notebook saved in this folder (deleted, or its notebook was not saved).',
        'warn'
      );
      return false;
    }
    this._flashCell(nb, index);
    this._say(`Selected ${how} (iteration #${it.iteration}, ${sourceText(it)}).`);
    return true;
  }

  /** Open the notebook at `path` (another notebook made `it`) and select the cell there. */
  private async _goToOtherNotebook(path: string, it: Iteration): Promise<boolean> {
    const name = PathExt.basename(path);
    this._say(`Opening ${name}: its cell made iteration #${it.iteration}…`);
    const other = this._open ? await this._open(path) : null;
    if (!other) {
      this._say(`Iteration #${it.iteration} was made in ${name}: opened it.`);
      return false;
    }
    await other.context.ready;
    await other.revealed;
    const index = other.content.widgets.findIndex(c => c.model.id === it.cell_id);
    if (index < 0) {
      this._say(`Opened ${name}, but the cell that made iteration #${it.iteration} is not in it.`, 'warn');
      return false;
    }
    this._flashCell(other.content, index);
    this._say(`Opened ${name} at the cell that made iteration #${it.iteration} (${sourceText(it)}).`);
    return true;
  }

  /** Make cell `index` the selected one, scroll to it and flash it. */
  private _flashCell(nb: Notebook, index: number): void {
    selectCell(nb, index);
    const cell = nb.widgets[index];
    void nb.scrollToCell(cell, 'center').catch(() => cell.node.scrollIntoView({ block: 'center' }));
    cell.node.classList.remove('dcai-hp-flash');
    void cell.node.offsetWidth; // restart the animation
    cell.node.classList.add('dcai-hp-flash');
    window.setTimeout(() => cell.node.classList.remove('dcai-hp-flash'), 1600);
  }

  private _relPath(entry: HistoryEntry): string {
    return `.dcai/${entry.file}`;
  }

  /** Insert a cell below the active one that rebuilds `version`. */
  async insertCheckout(entry: HistoryEntry, version: number): Promise<void> {
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    const name = entry.name ?? PathExt.basename(entry.file, '.sqlite');
    const live = await findLiveDataset(panel.sessionContext, this._relPath(entry), entry.file);
    const target = pyName(name, version);
    let code: string;
    if (live.kind === 'found') {
      code = `${target} = ${live.names[0]}.history.checkout(${version})\n${target}`;
      this._say(
        `Inserted a cell that checks out v${version} of ${name} from the live dataset ${live.names[0]}.`
      );
    } else {
      const why =
        live.kind === 'none'
          ? `no variable in the kernel holds the dataset ${name}`
          : live.why;
      code =
        'import dcai_jupyter as dj\n\n' +
        `# ${why}: replay the history file onto its base data.\n` +
        '# base_df must be the DataFrame the history started from (version 0).\n' +
        `${target} = dj.open_history(${pyString(this._relPath(entry))}).replay(base_df, to=${version})\n` +
        target;
      this._say(
        `Inserted a cell that replays ${name} to v${version} (${why}); set base_df to the original data before running it.`,
        'warn'
      );
    }
    const nb = panel.content;
    if (nb.activeCellIndex < 0 && nb.widgets.length) {
      nb.activeCellIndex = nb.widgets.length - 1;
    }
    NotebookActions.insertBelow(nb);
    nb.activeCell?.model.sharedModel.setSource(code);
    nb.activeCell?.node.setAttribute('data-dcai-inserted', 'checkout');
    if (nb.activeCell) {
      void nb.scrollToCell(nb.activeCell);
    }
  }

  /** After a confirmation, add and run a cell `<ds>.revert_to(version)`: one recorded change. */
  async revertTo(entry: HistoryEntry, version: number, head: number): Promise<void> {
    const panel = this._notebook;
    if (!panel) {
      return;
    }
    const name = entry.name ?? entry.file;
    const live = await findLiveDataset(panel.sessionContext, this._relPath(entry), entry.file);
    if (live.kind !== 'found') {
      const why =
        live.kind === 'none'
          ? `no variable in the kernel holds the dataset ${name} (run the cells that create it first)`
          : live.why;
      this._say(`Revert needs the live dataset in a running kernel: ${why}.`, 'warn');
      return;
    }
    const variable = live.names[0];
    const code = `${variable}.revert_to(${version})`;
    const result = await showDialog({
      title: `Revert ${name} to v${version}?`,
      body:
        `This adds a cell below the active one and runs it:\n\n    ${code}\n\n` +
        `The data goes back to v${version} as one new recorded change (v${head} → v${head + 1}); ` +
        'the history keeps every change, so this can be undone.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Revert' })]
    });
    if (!result.button.accept) {
      this._say('Revert cancelled.');
      return;
    }
    const nb = panel.content;
    if (nb.activeCellIndex < 0 && nb.widgets.length) {
      nb.activeCellIndex = nb.widgets.length - 1;
    }
    NotebookActions.insertBelow(nb);
    nb.activeCell?.model.sharedModel.setSource(code);
    await NotebookActions.run(nb, panel.sessionContext);
    this._say(`Ran ${code} in the kernel.`);
  }

  private _notebook: NotebookPanel | null = null;
  private _open: OpenNotebook | null;
  private _cellNotebook: Record<string, string> = {};
  private _histories = new Map<string, HistoryState>();
  private _stamp: string | null = null;
  private _directory = '';
  private _listError: string | null = null;
  private _refreshing = false;
  private _again = false;
  private _lastPoll = 0;
  private _timer: number;
  private _markers: CellMarkers;
  private _header: HTMLElement;
  private _message: HTMLElement;
  private _body: HTMLElement;
}

/** Make cell `index` the only selected, active cell, in command mode. */
export function selectCell(nb: Notebook, index: number): void {
  nb.mode = 'command';
  nb.activeCellIndex = index;
  nb.deselectAll();
  nb.select(nb.widgets[index]);
}
