// The LabelEditor's sample pane: the sample shown large (image or text, caption), its label,
// suggestion and score, its finding's reason and facts, the decision taken, its fields, and
// the other members of its duplicate group. Every value is text.
import { formatColumnNumber, formatValue, h, safeImageSrc } from "../shared.js";

/** The parts of the editor that show one item answer; EditorView places them in its layout. */
export class SamplePane {
  constructor(model) {
    this.model = model;
    this.media = h("div", { className: "dcai-editor-media" });
    this.text = h("div", { className: "dcai-editor-text", "data-testid": "editor-text", hidden: true });
    this.caption = h("div", { className: "dcai-caption" });
    this.current = h("div", { className: "dcai-editor-current", "data-testid": "editor-current" }, [
      this.media,
      this.text,
      this.caption,
    ]);
    this.given = h("span", { "data-testid": "editor-given" });
    this.suggested = h("span", { "data-testid": "editor-suggested" });
    this.score = h("span", { "data-testid": "editor-score" });
    this.reason = h("div", { className: "dcai-reason", "data-testid": "editor-reason" });
    this.findingFacts = h("dl", { className: "dcai-facts dcai-finding-facts", "data-testid": "editor-finding" });
    this.peers = h("div", { className: "dcai-peers", "data-testid": "editor-group", hidden: true });
    this.decision = h("div", { className: "dcai-decision", "data-testid": "editor-decision" });
    this.fields = h("table", { className: "dcai-fields" });
  }

  /** The facts list: the label, and the suggestion and score when the findings have them. */
  facts() {
    const m = this.model;
    return h("dl", { className: "dcai-facts" }, [
      h("dt", { text: "label" }),
      h("dd", {}, [this.given]),
      ...(m.get("has_suggestions") ? [h("dt", { text: "suggested" }), h("dd", {}, [this.suggested])] : []),
      ...(m.get("score_name") ? [h("dt", { text: m.get("score_name") }), h("dd", {}, [this.score])] : []),
    ]);
  }

  /** The queue is done: no sample is shown. */
  clear() {
    this.peers.hidden = true;
    this.current.removeAttribute("data-id");
  }

  /** Show the item answer `item` (not done). */
  show(item) {
    this.current.dataset.id = String(item.id);
    this.current.classList.toggle("dcai-removed", !item.present);
    const src = safeImageSrc(item.image);
    this.media.replaceChildren(
      ...(src ? [h("img", { className: "dcai-editor-img", "data-testid": "thumb", src, alt: "" })] : []),
    );
    const hasText = item.text !== null && item.text !== undefined;
    this.text.hidden = !hasText;
    this.text.textContent = hasText ? String(item.text) : "";
    this.caption.textContent =
      `sample ${item.id} · ${item.index + 1} of ${item.total}` + (item.present ? "" : " · removed from the dataset");
    this.current.dataset.keeper = item.keeper ? "true" : "false";
    this.given.textContent = item.given === null ? "—" : formatValue(item.given, "label");
    this.suggested.textContent = item.suggested === null ? "—" : formatValue(item.suggested, "label");
    this.score.textContent =
      item.score === null || item.score === undefined ? "—" : this.number(this.model.get("score_name"), item.score);
    this.reason.textContent = item.reason ?? "";
    this.reason.hidden = !item.reason;
    this.findingFacts.replaceChildren(
      ...(item.finding || []).flatMap(([name, value]) => [
        h("dt", { text: name }),
        h("dd", { "data-testid": "editor-fact", "data-name": name, text: this.number(name, value) }),
      ]),
    );
    this.showGroup(item);
    this.suggested.classList.toggle(
      "dcai-suggest",
      item.suggested !== null && String(item.suggested) !== String(item.given),
    );
    const d = item.decision;
    this.decision.textContent = d
      ? d.action === "remove"
        ? "decided: removed"
        : d.action === "keep"
          ? "decided: kept"
          : `decided: ${d.action === "accept" ? "accepted" : "labelled"} ${formatValue(d.label, "label")}`
      : item.resolved
        ? `resolved since: ${item.resolved}`
        : "";
    this.fields.replaceChildren(
      ...(item.fields || []).map(([name, value]) =>
        h("tr", {}, [h("th", { text: name, title: name }), h("td", { text: this.number(name, value) })]),
      ),
    );
  }

  /**
   * A value of column `name` as text: numbers in the column's format (the kernel's `formats`,
   * the same the grid uses), so label_quality reads "0.0005" here and in the grid.
   */
  number(name, value) {
    if (typeof value !== "number") return formatValue(value, "text");
    return formatColumnNumber(value, (this.model.get("formats") || {})[name]);
  }

  /** The other members of the current sample's group (duplicates), the keeper marked. */
  showGroup(item) {
    const g = item.group;
    this.peers.hidden = !g;
    if (!g) {
      this.peers.replaceChildren();
      return;
    }
    const head = h("div", {
      className: "dcai-peers-head",
      text: `group ${formatValue(g.id, "text")} · ${g.size} samples` + (item.keeper ? " · this one is the keeper" : ""),
    });
    const tiles = (g.peers || []).map((p) => {
      const src = safeImageSrc(p.image);
      return h(
        "div",
        {
          className: `dcai-peer${p.keeper ? " dcai-keeper" : ""}${p.present ? "" : " dcai-removed"}`,
          "data-testid": "editor-peer",
          "data-id": String(p.id),
          "data-keeper": p.keeper ? "true" : "false",
        },
        [
          src ? h("img", { className: "dcai-peer-img", src, alt: "" }) : null,
          p.text !== null && p.text !== undefined ? h("div", { className: "dcai-peer-text", text: String(p.text) }) : null,
          h("div", { className: "dcai-caption" }, [
            `sample ${p.id}`,
            p.label !== null && p.label !== undefined ? ` · ${formatValue(p.label, "label")}` : "",
            p.present ? "" : " · removed",
          ]),
          p.keeper ? h("span", { className: "dcai-badge dcai-badge-keep", "data-testid": "peer-keeper", text: "keeper" }) : null,
        ],
      );
    });
    this.peers.replaceChildren(head, h("div", { className: "dcai-peer-row" }, tiles));
  }
}
