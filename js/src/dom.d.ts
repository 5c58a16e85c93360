// Types of dom.js for the TypeScript side (labextension/src imports h from here).

/** A child of h(): a node, or a value shown as text; null, undefined and false are skipped. */
export type Child = Node | string | number | boolean | null | undefined;

/**
 * Props of h(): `text` (textContent), `className`, `style` (an object of style properties),
 * `on<event>` (a listener), anything else an attribute (true -> present, empty; null,
 * undefined, false -> left out).
 */
export type Props = Record<string, unknown>;

/** Create an element. Every text goes through textContent / text nodes, never HTML. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props,
  children?: Child | Child[]
): HTMLElementTagNameMap[K];
