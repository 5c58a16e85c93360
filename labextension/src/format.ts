/** Text shown for iterations, changes and metrics (pure functions). */
import type { Iteration, Metrics, OpCount } from './api';

const VERBS: Record<string, string> = {
  relabel: 'relabeled',
  remove: 'removed',
  add: 'added',
  synthesize: 'synthesized',
  augment: 'augmented',
  update: 'modified',
  restore: 'restored',
  undo: 'undone',
  redo: 'redone',
  revert: 'reverted',
  pseudo_label: 'pseudo-labeled'
};

export function verb(op: string): string {
  return VERBS[op] ?? op.replace(/_/g, ' ');
}

/** "relabeled 14 · removed 3": rows per operation, largest first. */
export function opsSummary(ops: Record<string, OpCount>): string {
  return Object.entries(ops)
    .sort((a, b) => b[1].rows - a[1].rows || a[0].localeCompare(b[0]))
    .map(([op, c]) => `${verb(op)} ${c.rows}`)
    .join(' · ');
}

/** Where an iteration came from: "cell [12]", "LabelEditor session in cell [3]", "script (api)". */
export function sourceText(it: {
  source: string;
  execution_count: number | null;
  widget: string | null;
}): string {
  if (it.source === 'cell') {
    return it.execution_count !== null ? `cell [${it.execution_count}]` : 'a cell';
  }
  if (it.source === 'widget') {
    // the cell that displayed the widget, recorded with each widget edit
    const cell = it.execution_count !== null ? ` in cell [${it.execution_count}]` : '';
    return `${it.widget || 'widget'} session${cell}`;
  }
  if (it.source === 'api') {
    return 'a script (api)';
  }
  if (it.source === 'cli') {
    return 'the dcai command line';
  }
  return it.source;
}

/** Local time of an ISO string or epoch milliseconds (the date too when not today). */
export function timeText(when: string | number | null): string {
  if (when === null || when === undefined || when === '') {
    return '';
  }
  const d = new Date(when);
  if (isNaN(d.getTime())) {
    return String(when);
  }
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return sameDay ? t : `${d.toLocaleDateString()} ${t}`;
}

function num(v: number | null): string {
  if (v === null || v === undefined || !isFinite(v)) {
    return '–';
  }
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : v.toFixed(3);
}

/** "accuracy 0.912 (+0.010)" for each metric; the change against `before` when known. */
export function metricsText(now: Metrics, before?: Metrics): string[] {
  return Object.entries(now).map(([name, v]) => {
    const b = before ? before[name] : undefined;
    if (typeof v === 'number' && typeof b === 'number') {
      const d = v - b;
      const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
      return `${name} ${num(v)} (${sign}${num(Math.abs(d))})`;
    }
    return `${name} ${num(v)}`;
  });
}

export function versionsText(it: Iteration): string {
  return it.first_version === it.last_version
    ? `v${it.last_version}`
    : `v${it.first_version}–v${it.last_version}`;
}

/** A Python identifier for the result of a checkout cell, e.g. "digits_v12". */
export function pyName(name: string, version: number): string {
  let base = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z_]/.test(base)) {
    base = 'data_' + base;
  }
  return `${base}_v${version}`;
}

/** A Python string literal for a path (repr-like, always double quotes). */
export function pyString(s: string): string {
  return JSON.stringify(s);
}
