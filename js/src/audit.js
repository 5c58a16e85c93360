// AuditReport table: one row per issue type of ds.audit(), with counts, a small chart of the
// type's scores (inline SVG: works offline), what was found and why it matters. A click (or
// Enter) on a row opens that type's findings in a grid below (the kernel builds it); an
// action button does the type's action to its flagged rows after a confirming second click.
// Every value is set as text (textContent), every colour is a theme variable.
import { formatCount, h, setText } from "./shared.js";

const SVG = "http://www.w3.org/2000/svg";

const STYLE = `
.dcai-audit { border: 1px solid var(--dcai-border); border-radius: 4px; padding: 6px 8px; }
.dcai-audit-head { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; margin-bottom: 4px; }
.dcai-audit-title { font-weight: 600; }
.dcai-audit-table { width: 100%; border-collapse: collapse; }
.dcai-audit-table th { text-align: left; font-weight: 600; color: var(--dcai-muted);
  border-bottom: 1px solid var(--dcai-border); padding: 3px 6px; white-space: nowrap; }
.dcai-audit-table td { padding: 4px 6px; border-bottom: 1px solid var(--dcai-border); vertical-align: top; }
.dcai-audit-row { cursor: pointer; }
.dcai-audit-row:hover { background: var(--dcai-bg2); }
.dcai-audit-row:focus-visible { outline: 2px solid var(--dcai-accent); outline-offset: -2px; }
.dcai-audit-row[aria-selected="true"] { background: var(--dcai-sel); }
.dcai-audit-row[data-openable="false"] { cursor: default; color: var(--dcai-muted); }
.dcai-audit-type { font-weight: 600; white-space: nowrap; }
.dcai-audit-num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.dcai-audit-sev { display: inline-block; padding: 0 6px; border-radius: 8px; border: 1px solid var(--dcai-border);
  white-space: nowrap; }
.dcai-audit-sev[data-severity="high"] { border-color: var(--dcai-err); color: var(--dcai-err-text); font-weight: 600; }
.dcai-audit-sev[data-severity="medium"] { border-color: var(--dcai-warn); color: var(--dcai-warn-text); }
.dcai-audit-sev[data-severity="low"] { color: var(--dcai-fg); }
.dcai-audit-sev[data-severity="none"], .dcai-audit-sev[data-severity="skipped"] { color: var(--dcai-muted); }
.dcai-audit-sev[data-severity="error"] { border-color: var(--dcai-err); color: var(--dcai-err-text); }
.dcai-audit-detail { max-width: 28em; overflow-wrap: anywhere; }
.dcai-audit-why { max-width: 30em; color: var(--dcai-muted); }
.dcai-audit-chart { display: block; }
.dcai-audit-chart .all { fill: var(--dcai-muted); opacity: 0.45; }
.dcai-audit-chart .flagged { fill: var(--dcai-err); }
.dcai-audit-chart .base { stroke: var(--dcai-border); }
`;

const ACTION_VERB = { relabel: "Accept", remove: "Remove", label: "Label" };

function chart(all, flagged) {
  const w = 96;
  const hgt = 22;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "dcai-audit-chart");
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(hgt));
  svg.setAttribute("role", "img");
  const total = all.reduce((a, b) => a + b, 0);
  const nFlagged = flagged.reduce((a, b) => a + b, 0);
  svg.setAttribute("aria-label", `scores of ${total} rows, ${nFlagged} flagged`);
  const title = document.createElementNS(SVG, "title");
  title.textContent = `scores (low to high): ${formatCount(total)} rows, ${formatCount(nFlagged)} flagged`;
  svg.append(title);
  const base = document.createElementNS(SVG, "line");
  base.setAttribute("class", "base");
  base.setAttribute("x1", "0");
  base.setAttribute("x2", String(w));
  base.setAttribute("y1", String(hgt - 0.5));
  base.setAttribute("y2", String(hgt - 0.5));
  svg.append(base);
  if (!all.length) return svg;
  // a square-root scale: a few flagged rows stay visible beside thousands of others
  const top = Math.sqrt(Math.max(1, ...all));
  const bw = w / all.length;
  all.forEach((count, i) => {
    for (const [cls, v] of [
      ["all", count],
      ["flagged", flagged[i] || 0],
    ]) {
      if (!v) continue;
      const bh = Math.max(1.5, (Math.sqrt(v) / top) * (hgt - 2));
      const r = document.createElementNS(SVG, "rect");
      r.setAttribute("class", cls);
      r.setAttribute("x", (i * bw + 0.5).toFixed(2));
      r.setAttribute("width", Math.max(1, bw - 1).toFixed(2));
      r.setAttribute("y", (hgt - 1 - bh).toFixed(2));
      r.setAttribute("height", bh.toFixed(2));
      svg.append(r);
    }
  });
  return svg;
}

function render({ model, el }) {
  const root = h("div", { className: "dcai-widget dcai-audit", "data-testid": "audit-report" });
  root.append(h("style", { text: STYLE }));
  const title = h("span", { className: "dcai-audit-title", "data-testid": "audit-title" });
  const status = h("span", { className: "dcai-status", "data-testid": "audit-status", role: "status" });
  root.append(h("div", { className: "dcai-audit-head" }, [title, status]));
  const head = h(
    "tr",
    {},
    ["Issue", "Flagged", "Share", "Severity", "Scores", "Found", "Why it matters, what to do", ""].map((t) =>
      h("th", { text: t }),
    ),
  );
  const body = h("tbody");
  root.append(h("table", { className: "dcai-audit-table" }, [h("thead", {}, head), body]));
  const errorBox = h("div", { className: "dcai-error", "data-testid": "audit-error", role: "alert" });
  root.append(errorBox);
  el.append(root);

  let confirmTimer = null;

  function open(type) {
    model.set("selected", type);
    model.save_changes();
  }

  function actionButton(row) {
    const verb = ACTION_VERB[row.action];
    if (!verb || !row.openable || !row.rows) return h("td");
    const label = `${verb} ${formatCount(row.rows)}`;
    const btn = h("button", {
      type: "button",
      className: "dcai-btn",
      "data-testid": "audit-action",
      "data-type": row.type,
      title:
        row.action === "relabel"
          ? "Accept every suggested label of this type: one recorded change (ds.undo() reverts it)"
          : "Remove every flagged row of this type: one recorded change (ds.undo() reverts it)",
      text: label,
    });
    btn.addEventListener("click", (e) => {
      e.stopPropagation();
      if (btn.dataset.confirm !== "1") {
        btn.dataset.confirm = "1";
        setText(btn, `Confirm: ${label.toLowerCase()}?`);
        clearTimeout(confirmTimer);
        confirmTimer = setTimeout(() => {
          btn.dataset.confirm = "";
          setText(btn, label);
        }, 6000);
        return;
      }
      clearTimeout(confirmTimer);
      btn.dataset.confirm = "";
      btn.disabled = true;
      model.send({ type: "act", issue: row.type });
    });
    return h("td", {}, btn);
  }

  function renderRows() {
    const rows = model.get("rows") || [];
    const selected = model.get("selected");
    const nodes = rows.map((row) => {
      const tr = h("tr", {
        className: "dcai-audit-row",
        "data-testid": "audit-row",
        "data-type": row.type,
        "data-openable": row.openable ? "true" : "false",
        "aria-selected": row.type === selected ? "true" : "false",
        tabindex: row.openable ? "0" : undefined,
        title: row.openable ? `Open the ${row.type} findings in a grid below` : undefined,
      });
      const sev = h("span", { className: "dcai-audit-sev", "data-severity": row.severity, text: row.severity });
      tr.append(
        h("td", { className: "dcai-audit-type", text: row.type }),
        h("td", { className: "dcai-audit-num", "data-testid": "audit-count", text: formatCount(row.rows) }),
        h("td", { className: "dcai-audit-num", text: `${(100 * row.share).toFixed(1)}%` }),
        h("td", {}, sev),
        h("td", {}, chart(row.hist || [], row.hist_flagged || [])),
        h("td", { className: "dcai-audit-detail", text: row.detail }),
        h("td", { className: "dcai-audit-why", text: row.why }),
        actionButton(row),
      );
      if (row.openable) {
        tr.addEventListener("click", () => open(row.type));
        tr.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            open(row.type);
          }
        });
      }
      return tr;
    });
    body.replaceChildren(...nodes);
  }

  function renderSelection() {
    const selected = model.get("selected");
    for (const tr of body.children) {
      tr.setAttribute("aria-selected", tr.dataset.type === selected ? "true" : "false");
    }
  }

  function renderText() {
    setText(title, model.get("title") || "Audit");
    setText(status, model.get("busy") ? "working…" : model.get("status") || "");
    setText(errorBox, model.get("error") || "");
    if (!model.get("busy")) for (const b of body.querySelectorAll("button")) b.disabled = false;
  }

  renderRows();
  renderText();
  const onRows = () => renderRows();
  const onSel = () => renderSelection();
  const onText = () => renderText();
  model.on("change:rows", onRows);
  model.on("change:selected", onSel);
  model.on("change:status", onText);
  model.on("change:error", onText);
  model.on("change:busy", onText);
  model.on("change:title", onText);
  return () => {
    clearTimeout(confirmTimer);
    model.off("change:rows", onRows);
    model.off("change:selected", onSel);
    model.off("change:status", onText);
    model.off("change:error", onText);
    model.off("change:busy", onText);
    model.off("change:title", onText);
  };
}

export default { render };
