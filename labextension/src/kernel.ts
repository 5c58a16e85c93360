/**
 * Asking the notebook's kernel which variables hold the live Dataset of a history file.
 *
 * The question is a silent execution with a user expression: it defines nothing in the
 * user's namespace, is not stored in the input history, and records no change.
 */
import type { ISessionContext } from '@jupyterlab/apputils';

export type LiveLookup =
  | { kind: 'found'; names: string[] }
  | { kind: 'none' }
  | { kind: 'no-kernel'; why: string }
  | { kind: 'failed'; why: string };

/** Python expression: names bound to a dcai_jupyter Dataset whose history is `rel`. */
function expression(rel: string, file: string): string {
  const P = JSON.stringify(rel);
  const F = JSON.stringify(file);
  return (
    "__import__('json').dumps([k for k, v in list(globals().items())" +
    " if not k.startswith('_')" +
    " and any(c.__name__ == 'Dataset' and c.__module__.startswith('dcai_jupyter')" +
    ' for c in type(v).__mro__)' +
    " and (lambda p: __import__('os').path.realpath(p) == __import__('os').path.realpath(" +
    P +
    ')' +
    " or (__import__('os').path.basename(p) == " +
    F +
    " and __import__('os').path.basename(__import__('os').path.dirname(p)) == '.dcai'))" +
    "(str(getattr(getattr(v, 'history', None), 'path', '')))])"
  );
}

/**
 * Variables of the kernel that hold the Dataset recorded in `.dcai/<file>`.
 *
 * @param relPath the history path relative to the notebook's folder (the kernel's cwd)
 */
export async function findLiveDataset(
  ctx: ISessionContext | null | undefined,
  relPath: string,
  file: string
): Promise<LiveLookup> {
  const kernel = ctx?.session?.kernel;
  if (!ctx || !kernel) {
    return { kind: 'no-kernel', why: 'no kernel is running for this notebook' };
  }
  if (kernel.status === 'dead' || kernel.connectionStatus !== 'connected') {
    return { kind: 'no-kernel', why: `the kernel is ${kernel.status}` };
  }
  try {
    const future = kernel.requestExecute(
      {
        code: '',
        silent: true,
        store_history: false,
        user_expressions: { names: expression(relPath, file) },
        allow_stdin: false
      },
      true
    );
    const reply: any = await Promise.race([
      future.done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the kernel did not answer within 5 s (busy?)')), 5000)
      )
    ]);
    const out = reply?.content?.user_expressions?.names;
    if (!out || out.status !== 'ok') {
      return { kind: 'failed', why: out?.evalue || 'the kernel could not list its variables' };
    }
    const text: string = out.data?.['text/plain'] ?? '';
    // repr of a str holding JSON: '["ds"]'
    const json = text.replace(/^'/, '').replace(/'$/, '');
    const names = JSON.parse(json) as string[];
    return names.length ? { kind: 'found', names } : { kind: 'none' };
  } catch (err) {
    return { kind: 'failed', why: String((err as Error)?.message ?? err) };
  }
}
