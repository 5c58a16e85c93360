// The grid's edits sent to the kernel: relabel, accept the findings, remove. Each is one
// recorded change on the kernel side; a refused one shows its message.
import { DisconnectedError, KernelError } from "../shared.js";

/** Send an edit; a refused one shows its message and puts the items back as the kernel has them. */
export function edit(view, payload, after) {
  view.channel.request(payload).then(
    (answer) => {
      view.showError("");
      after?.(answer);
    },
    (err) => {
      if (!(err instanceof DisconnectedError)) view.showError(err instanceof KernelError ? err.message : String(err));
      view.epoch++;
      view.schedule();
    },
  );
}

export function relabel(view, ids, label) {
  edit(view, { type: "relabel", ids, label });
}

/** Accept the findings of `ids`; removed samples leave the selection. */
export function accept(view, ids) {
  if (!ids.length) return;
  edit(view, { type: "accept", ids }, (answer) => {
    if (answer.op === "remove") view.setSelection(new Set([...view.selected].filter((i) => !ids.includes(i))));
  });
}

export function removeSelected(view) {
  const ids = [...view.selected];
  if (!ids.length) return;
  edit(view, { type: "remove", ids }, () => view.setSelection(new Set()));
}
