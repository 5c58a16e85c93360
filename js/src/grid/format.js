// Number formats of the grid: counts with thousands separators, and one format per numeric
// column (chosen by the kernel from the column's values, sent with every page as `formats`),
// so that every cell of a column shows the same number of decimals. Output is plain text.
// The formatters live in ../shared.js: the editor shows the same numbers the same way.
export { formatColumnNumber, formatCount } from "../shared.js";
