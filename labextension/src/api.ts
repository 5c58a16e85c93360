/**
 * Client of the read-only history API of the dcai_jupyter server extension
 * (`<base_url>/dcai/api/...`). ServerConnection adds the token and the XSRF header.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface OpCount {
  changes: number;
  rows: number;
}

export type Metrics = Record<string, number | null>;

export interface Iteration {
  iteration: number;
  source: string;
  execution_count: number | null;
  cell_id: string | null;
  widget: string | null;
  first_version: number;
  last_version: number;
  n_changes: number;
  rows_touched: number;
  started: string | null;
  ended: string | null;
  code: string | null;
  code_truncated: boolean;
  ops: Record<string, OpCount>;
  metrics: Metrics;
}

export interface HistoryEntry {
  path: string;
  file: string;
  stamp?: string;
  error: string | null;
  name?: string;
  head?: number;
  n_iterations?: number;
  n_events?: number;
  base_rows?: number | null;
  label?: string | null;
  base_metrics?: Metrics;
  /** the notebooks (saved beside it) whose cells changed this history */
  notebooks?: string[];
  /** the active notebook's cells changed it (its saved file, or the cells open now) */
  active?: boolean;
}

export interface CellMarker {
  ops: Record<string, OpCount>;
  n_changes: number;
  histories: string[];
}

export interface HistoriesReply {
  directory: string;
  stamp: string;
  histories: HistoryEntry[];
  cells: Record<string, CellMarker>;
  /** the notebook asked about, as a path from the server root (null: a folder) */
  notebook?: string | null;
  /** cell id -> the saved notebook (path from the server root) that holds that cell */
  cell_notebook?: Record<string, string>;
}

export interface IterationsReply {
  path: string;
  name: string;
  stamp: string;
  head: number;
  total: number;
  offset: number;
  base_metrics: Metrics;
  iterations: Iteration[];
}

export interface Change {
  version: number;
  op: string;
  n_rows: number;
  iteration: number | null;
  source: string;
  execution_count: number | null;
  cell_id: string | null;
  widget: string | null;
  reason: string | null;
  /** epoch milliseconds */
  time: number | null;
  n_ids?: number;
  ids?: number[];
  history?: string;
}

export interface DiffSummary {
  counts: Record<string, number>;
  relabels: { old: string; new: string; rows: number }[];
  n_relabel_pairs: number;
  ids: number[];
  n_ids: number;
}

export interface IterationReply {
  path: string;
  name: string;
  iteration: Iteration;
  version_before: number;
  version_after: number;
  metrics_before: Metrics;
  metrics_after: Metrics;
  total: number;
  offset: number;
  changes: Change[];
  diff?: DiffSummary | null;
  diff_error?: string;
}

export interface CellReply {
  cell_id: string;
  changes: Change[];
}

/** An error answered by the server: its message is meant for the user. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

const settings = ServerConnection.makeSettings();

export async function request<T>(
  endpoint: string,
  params: Record<string, string | number>
): Promise<T> {
  const query = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const url = URLExt.join(settings.baseUrl, 'dcai', 'api', endpoint) + '?' + query;
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, { method: 'GET' }, settings);
  } catch (err) {
    throw new ApiError(`cannot reach the Jupyter server: ${err}`, 0);
  }
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message =
      (data && (data.message || data.reason)) ||
      (response.status === 404 && !data
        ? 'the dcai_jupyter server extension is not enabled (jupyter server extension list)'
        : `HTTP ${response.status}`);
    throw new ApiError(String(message), response.status);
  }
  return data as T;
}
