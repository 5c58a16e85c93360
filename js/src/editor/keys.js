// The LabelEditor's keys: which action each key takes, whether Enter can accept at all, and
// the key help line that says so.
import { classForKey, classKeyHelp, commandKeyFree } from "../shared.js";

/** What Enter does, by the findings' action. */
const ACCEPT_TEXT = {
  relabel: "accept suggestion",
  label: "accept suggestion",
  remove: "remove (accept)",
  "": "accept suggestion",
};

/**
 * Whether Enter (and the Accept button) can accept findings of this action at all: remove
 * findings always can, label findings (relabel, label) when they declare a suggestion role
 * (for active-learning picks, the model's predicted label). A plain review of every row, or
 * "review" findings, have nothing to accept.
 */
export function acceptable(action, hasSuggestions) {
  return action === "remove" || ((action === "relabel" || action === "label") && hasSuggestions);
}

/**
 * The key help line: what Enter does (only when the sample shown has something to accept),
 * which keys pick a class, the other commands.
 */
export function keyHelp(action, classes, canAccept) {
  const free = (k) => commandKeyFree(classes, k);
  const parts = [];
  if (canAccept && action in ACCEPT_TEXT) parts.push(`Enter ${ACCEPT_TEXT[action]}`);
  const pick = classKeyHelp(classes);
  if (pick) parts.push(pick);
  parts.push("Del remove");
  parts.push(`→${free("j") ? " / j" : ""} next`);
  parts.push(`←${free("k") ? " / k" : ""} previous`);
  if (free("s")) parts.push("s skip");
  if (free("u")) parts.push("u undo");
  parts.push("Esc back to the notebook");
  return parts.join(" · ");
}

/** The action key `key` takes with these classes ({kind, label?, step?}), or null: none. */
export function keyAction(classes, key) {
  const label = classForKey(classes, key);
  if (label !== undefined) return { kind: "label", label };
  if (key === "Enter") return { kind: "accept" };
  if (key === "Delete" || key === "Backspace") return { kind: "remove" };
  if (key === "ArrowRight" || key === "j") return { kind: "move", step: 1 };
  if (key === "ArrowLeft" || key === "k") return { kind: "move", step: -1 };
  if (key === "s") return { kind: "move", step: 1 };
  if (key === "u") return { kind: "undo" };
  return null;
}
