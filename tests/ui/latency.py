"""Click -> every view re-rendered, measured in the page; shared by the browser test and
``benchmarks/review_latency.py``.

Each measured action returns how long after it (ms) the page had finished the frame that
shows its result everywhere it must show:

- ``dom``: the DOM first shows it (checked on each DOM mutation, and each frame);
- ``painted``: a message posted at ``dom`` is taken, which happens only after that frame's
  style, layout and paint. The views render in an animation frame, so this is when the
  result is on screen, short of the compositor.

Polling in animation frames alone reads one frame late: the poll's callback was registered
before the view's, so it runs first in the frame that renders the change.

``gap`` null: one action after the other; a number: actions fired ``gap`` ms apart, without
waiting for the previous one (back to back).
"""

from __future__ import annotations

# the promise of "the page shows it": done(roots, shows, t0) -> {dom, painted}
_DONE_JS = """
    const done = (roots, shows, t0) => new Promise((resolve) => {
        let dom = null;
        let over = false;
        const observer = new MutationObserver(() => check());
        const check = () => {
            if (over || dom !== null) return;
            const now = performance.now() - t0;
            if (shows()) {
                dom = now;
                observer.disconnect();
                const channel = new MessageChannel();
                channel.port1.onmessage = () => {
                    channel.port1.close();
                    resolve({dom, painted: performance.now() - t0});
                };
                channel.port2.postMessage(0);
            } else if (now > 15000) {
                over = true;
                observer.disconnect();
                resolve({dom: -1, painted: -1});
            }
        };
        for (const r of roots) {
            observer.observe(r, {subtree: true, childList: true, characterData: true, attributes: true});
        }
        const tick = () => {
            check();
            if (dom === null && !over) requestAnimationFrame(tick);
        };
        tick();
    });
    const run = async (keys, gap, fire) => {
        const out = [];
        if (gap === null) {
            for (const k of keys) out.push(await fire(k));
            return out;
        }
        const pending = [];
        for (const k of keys) {
            pending.push(fire(k));
            await new Promise((r) => setTimeout(r, gap));
        }
        return Promise.all(pending);
    };
"""

#: Relabels through grid 0's label dropdowns (the change a click on an option makes), until
#: every grid on the page shows the new label. Returns [id, label, painted, dom] per relabel.
RELABEL_JS = (
    """async ({ids, gap}) => {
    const grids = [...document.querySelectorAll('[data-testid="dcai-grid"]')];
    const sel = (g, id) => g.querySelector(
        `[data-testid="grid-row"][data-id="${id}"] [data-testid="label-select"]`);
    const showsIn = (g, id, label) => {
        const s = sel(g, id);
        if (s) return s.selectedIndex >= 0 && s.options[s.selectedIndex].text === label;
        const t = g.querySelector(`[data-testid="tile"][data-id="${id}"] [data-testid="tile-label"]`);
        return Boolean(t) && t.textContent === label;
    };"""
    + _DONE_JS
    + """
    return run(ids, gap, (id) => {
        const s = sel(grids[0], id);
        const current = s.options[s.selectedIndex].text;
        const next = [...s.options].map((o) => o.text).find((t) => t !== current);
        const t0 = performance.now();
        s.value = next;
        s.dispatchEvent(new Event('change'));
        return done(grids, () => grids.every((g) => showsIn(g, id, next)), t0)
            .then((ms) => [id, next, ms.painted, ms.dom]);
    });
}"""
)

#: The reference: a bare anywidget (ECHO_CELL) sends a number to the kernel, which sends it
#: back; the view writes it in the next animation frame. The same measure: [n, painted, dom].
ECHO_JS = (
    """async ({ids, gap}) => {
    const el = document.querySelector('[data-testid="echo"]');
    const out = el.querySelector('[data-testid="echo-out"]');"""
    + _DONE_JS
    + """
    return run(ids, gap, (n) => {
        const t0 = performance.now();
        el.dcaiSend(n);
        return done([el], () => out.textContent === String(n), t0)
            .then((ms) => [n, ms.painted, ms.dom]);
    });
}"""
)

#: A notebook cell displaying the echo widget of ECHO_JS (nothing but a comm round trip).
ECHO_CELL = '''\
import anywidget

class Echo(anywidget.AnyWidget):
    """Sends back every number it gets: a kernel round trip and one frame, nothing else."""

    _esm = """
    export default {
      render({ model, el }) {
        const out = document.createElement("span");
        out.dataset.testid = "echo-out";
        el.dataset.testid = "echo";
        el.append(out);
        el.dcaiSend = (n) => model.send({ n });
        const show = (msg) => requestAnimationFrame(() => { out.textContent = String(msg.n); });
        model.on("msg:custom", show);
        return () => model.off("msg:custom", show);
      },
    };
    """

    def __init__(self):
        super().__init__()
        self.on_msg(lambda widget, content, buffers: self.send({"n": content["n"]}))

echo = Echo()
echo
'''


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
