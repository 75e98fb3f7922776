// Shows each of our nodes' explanation on the node after it runs. The Python nodes return
// ui={"text": [explanation]}; ComfyUI hands that to node.onExecuted. The first line carries the key
// decision (analysis source and style, chosen checkpoint, LoRAs with weights), so it is set apart.
import type { ComfyNodeDef } from "@comfyorg/comfyui-frontend-types";
import { el } from "./dom";
import { addDisplayWidget, afterExecuted, fitNode, type GraphNode, type NodeClass } from "./node_hooks";

export const CATEGORY = "Intelligent Generation";
const WIDGET = "ig_explanation";
const LINE_PX = 16; // 12px text at line-height 1.35
const CHAR_PX = 6.5; // an average character of the 12px UI font
const HEIGHT = { min: 2 * LINE_PX + 8, max: 12 * LINE_PX + 8 }; // longer explanations scroll
const GAP_PX = 10; // kept between a grown node and the one below it
const boxes = new WeakMap<GraphNode, { box: HTMLElement; height: number }>();

/** The box's height for a text at a node width, estimated: the box is measured only once drawn. */
function heightFor(text: string, width: number): number {
  const perLine = Math.max(20, Math.floor((width - 30) / CHAR_PX));
  const lines = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / perLine)), 0);
  return Math.min(HEIGHT.max, Math.max(HEIGHT.min, lines * LINE_PX + 8));
}

export function isOurNode(def: ComfyNodeDef): boolean {
  return def.category === CATEGORY || def.category.startsWith(`${CATEGORY}/`);
}

/** The explanation from an `executed` message: {"text": ["..."]}, or nothing. */
export function explanationOf(output: Record<string, unknown> | undefined): string | null {
  const text = output?.["text"];
  if (!Array.isArray(text)) return null;
  const parts = text.filter((t): t is string => typeof t === "string");
  return parts.length ? parts.join("\n") : null;
}

function render(box: HTMLElement, text: string): void {
  const [head = "", ...rest] = text.split("\n");
  box.replaceChildren(el("div", { className: "ig-explanation-head" }, head), rest.join("\n"));
}

/** How far the node may grow downwards before it meets a node below it (Infinity: none below). Bounds are
 * the graph's own, title bars included. */
function bounds(node: GraphNode): [number, number, number, number] {
  const b = node.getBounding();
  return [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0, b[3] ?? 0];
}

function roomBelow(node: GraphNode): number {
  const [x, y, width, height] = bounds(node);
  const bottom = y + height;
  let room = Infinity;
  for (const other of node.graph?.nodes ?? []) {
    if (other === node) continue;
    const [ox, top, otherWidth] = bounds(other);
    if (ox < x + width && ox + otherWidth > x && top >= bottom - 1) room = Math.min(room, top - bottom);
  }
  return room;
}

/** The box is added on the first run only, so an unrun node looks like any other. It grows the node into
 * the free space below it, never over another node: a longer text scrolls inside the box. */
function showOn(node: GraphNode, text: string): void {
  let shown = boxes.get(node);
  if (!shown || !node.widgets?.some((w) => w.name === WIDGET)) {
    const box = el("div", { className: "ig-explanation", attrs: { "data-ig-explanation": "" } });
    const entry = { box, height: HEIGHT.min };
    addDisplayWidget(node, WIDGET, box, { min: () => entry.height, max: () => Math.max(entry.height, HEIGHT.max) });
    boxes.set(node, entry);
    shown = entry;
  }
  render(shown.box, text);
  shown.height = heightFor(text, node.size[0]);
  const tallest = node.size[1] + Math.max(0, roomBelow(node) - GAP_PX);
  const needed = node.computeSize()[1];
  if (needed > tallest) shown.height = Math.max(HEIGHT.min, shown.height - (needed - tallest));
  fitNode(node);
}

export function addExplanationDisplay(nodeType: NodeClass): void {
  afterExecuted(nodeType, (node, output) => {
    const text = explanationOf(output);
    if (text) showOn(node, text);
  });
}
