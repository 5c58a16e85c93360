// Number formats of the grid: counts with thousands separators, and one format per numeric
// column (chosen by the kernel from the column's values, sent with every page as `formats`),
// so that every cell of a column shows the same number of decimals. Output is plain text.
import { formatNumber } from "../shared.js";

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** A count with thousands separators: 1797 -> "1,797". */
export function formatCount(n) {
  return typeof n === "number" && Number.isFinite(n) ? COUNT.format(n) : String(n ?? "");
}

const cache = new Map(); // "decimals|group" -> Intl.NumberFormat

function numberFormat(decimals, group) {
  const key = `${decimals}|${group}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      useGrouping: group,
    });
    cache.set(key, f);
  }
  return f;
}

/**
 * A numeric cell's text under its column's format `spec` ({decimals, group} or {exp});
 * without a spec (an older kernel), the per-value format.
 */
export function formatColumnNumber(v, spec) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "number" || !Number.isFinite(v) || !spec) return formatNumber(v);
  if (typeof spec.exp === "number") return v.toExponential(Math.max(0, Math.min(10, spec.exp)));
  const d = Math.max(0, Math.min(10, Number(spec.decimals) || 0));
  return numberFormat(d, Boolean(spec.group)).format(v);
}
