// Bundle the widget front end into ../dcai_jupyter/static/ (one ES module per widget + one CSS file).
// Usage: npm run build  |  npm run watch
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  entryPoints: {
    grid: path.join(here, "src/grid.js"),
    editor: path.join(here, "src/editor.js"),
    history_view: path.join(here, "src/history_view.js"),
    audit: path.join(here, "src/audit.js"),
    widgets: path.join(here, "src/widgets.css"),
  },
  outdir: path.join(here, "../dcai_jupyter/static"),
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: !process.argv.includes("--watch"),
  sourcemap: false,
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
