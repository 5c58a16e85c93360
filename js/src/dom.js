// The one DOM builder of the front end: the widgets (js/src) and the JupyterLab panel
// (labextension/src, typed by dom.d.ts) both import it.

/**
 * Create an element. Every text goes through textContent / text nodes: cell values are
 * never parsed as HTML.
 * props: text, className, style (object), on<event> (listener), anything else -> attribute.
 */
export function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
