/**
 * Cell markers: a code cell whose runs changed data shows "relabeled 14 · removed 3";
 * hovering over the marker lists the newest changes it made.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';

import { CellMarker, CellReply, request } from './api';
import { opsSummary, timeText, verb } from './format';

const MARKER = 'dcai-cell-marker';

export class CellMarkers {
  setNotebook(panel: NotebookPanel | null): void {
    if (this._panel === panel) {
      return;
    }
    this._detach();
    this._panel = panel;
    this._cells = {};
    if (panel) {
      panel.content.model?.cells.changed.connect(this._onCells, this);
      panel.disposed.connect(this._onDisposed, this);
    }
  }

  /** New marker data (from the histories reply); redraws the markers of the notebook. */
  update(cells: Record<string, CellMarker>): void {
    this._cells = cells;
    this._apply();
  }

  private _onCells(): void {
    // new cell widgets are created after the model change
    window.requestAnimationFrame(() => this._apply());
  }

  private _onDisposed(): void {
    this._detach();
    this._panel = null;
  }

  private _detach(): void {
    if (this._panel) {
      this._panel.content.model?.cells.changed.disconnect(this._onCells, this);
      this._panel.disposed.disconnect(this._onDisposed, this);
    }
  }

  private _apply(): void {
    const panel = this._panel;
    if (!panel || panel.isDisposed) {
      return;
    }
    for (const cell of panel.content.widgets) {
      this._applyOne(panel, cell);
    }
  }

  private _applyOne(panel: NotebookPanel, cell: Cell): void {
    const id = cell.model.id;
    cell.node.dataset.dcaiCellId = id;
    const info = this._cells[id];
    let marker = cell.node.querySelector<HTMLElement>(`:scope > .${MARKER}`);
    if (!info || cell.model.type !== 'code') {
      marker?.remove();
      cell.node.classList.remove('dcai-marked');
      return;
    }
    const text = opsSummary(info.ops);
    if (!marker) {
      marker = document.createElement('div');
      marker.className = MARKER;
      marker.dataset.testid = 'dcai-cell-marker';
      marker.tabIndex = 0;
      const label = document.createElement('span');
      label.className = `${MARKER}-label`;
      marker.append(label);
      marker.addEventListener('mouseenter', () => void this._showTip(panel, id, marker!));
      marker.addEventListener('focus', () => void this._showTip(panel, id, marker!));
      marker.addEventListener('mouseleave', () => this._hideTip(marker!));
      marker.addEventListener('blur', () => this._hideTip(marker!));
      cell.node.append(marker);
      cell.node.classList.add('dcai-marked');
    }
    const label = marker.querySelector(`.${MARKER}-label`)!;
    if (label.textContent !== text) {
      label.textContent = text;
    }
    marker.setAttribute(
      'aria-label',
      `Data changes by this cell: ${text} (${info.n_changes} change${info.n_changes === 1 ? '' : 's'})`
    );
  }

  private async _showTip(panel: NotebookPanel, cellId: string, marker: HTMLElement): Promise<void> {
    let tip = marker.querySelector<HTMLElement>(`.${MARKER}-tip`);
    if (!tip) {
      tip = document.createElement('div');
      tip.className = `${MARKER}-tip`;
      tip.dataset.testid = 'dcai-cell-marker-tip';
      tip.setAttribute('role', 'tooltip');
      marker.append(tip);
    }
    tip.hidden = false;
    tip.textContent = 'loading…';
    try {
      const reply = await request<CellReply>('cell', { notebook: panel.context.path, cell_id: cellId });
      const ul = document.createElement('ul');
      for (const c of reply.changes) {
        const li = document.createElement('li');
        li.textContent =
          `${c.history} v${c.version}: ${verb(c.op)} ${c.n_rows}` +
          (c.reason ? ` “${c.reason}”` : '') +
          (c.execution_count !== null ? ` · [${c.execution_count}]` : '') +
          ` · ${timeText(c.time)}`;
        ul.append(li);
      }
      const info = this._cells[cellId];
      const head = document.createElement('div');
      head.textContent = info
        ? `${info.n_changes} change${info.n_changes === 1 ? '' : 's'} by this cell` +
          (info.n_changes > reply.changes.length ? ` (newest ${reply.changes.length})` : '')
        : 'changes by this cell';
      tip.replaceChildren(head, ul);
    } catch (err) {
      tip.textContent = (err as Error).message;
    }
  }

  private _hideTip(marker: HTMLElement): void {
    const tip = marker.querySelector<HTMLElement>(`.${MARKER}-tip`);
    if (tip) {
      tip.hidden = true;
    }
  }

  private _panel: NotebookPanel | null = null;
  private _cells: Record<string, CellMarker> = {};
}
