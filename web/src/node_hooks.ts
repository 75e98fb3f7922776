// What our per-node additions share: the node types the frontend hands extensions, chaining onto
// onExecuted, and DOM widgets that are neither prompt inputs nor saved widget values.
import type { ComfyExtension } from "@comfyorg/comfyui-frontend-types";

export type NodeClass = Parameters<NonNullable<ComfyExtension["beforeRegisterNodeDef"]>>[0];
export type GraphNode = InstanceType<NodeClass>;

// Runtime members the frontend adds to LGraphNode that the published types do not declare.
interface DomWidget {
  serialize?: boolean;
}
interface RuntimeNode {
  onExecuted?: (output: Record<string, unknown>) => void;
  addDOMWidget(name: string, type: string, element: HTMLElement, options: Record<string, unknown>): DomWidget;
}

/** Runs `handler` after the node's own onExecuted (and any other extension's) each time it ran. */
export function afterExecuted(nodeType: NodeClass, handler: (node: GraphNode, output: Record<string, unknown>) => void): void {
  const proto = nodeType.prototype as GraphNode & RuntimeNode;
  const previous = proto.onExecuted;
  proto.onExecuted = function (this: GraphNode & RuntimeNode, output: Record<string, unknown>) {
    previous?.call(this, output);
    handler(this, output);
  };
}

/** A DOM element shown on the node as a widget that the workflow does not save: widgets_values keep
 * their order, and the prompt sent to the server does not carry it. */
export function addDisplayWidget(node: GraphNode, name: string, element: HTMLElement, height: { min: () => number; max: () => number }): void {
  const widget = (node as unknown as RuntimeNode).addDOMWidget(name, name, element, {
    serialize: false, // not a prompt input
    hideOnZoom: true,
    getMinHeight: height.min,
    getMaxHeight: height.max,
  });
  widget.serialize = false; // nor a saved widget value
}

/** Grow the node to fit what was added (never shrink what the user sized); the nodes around stay put. */
export function fitNode(node: GraphNode): void {
  const [width, height] = node.computeSize();
  node.setSize([Math.max(width, node.size[0]), Math.max(height, node.size[1])]);
  node.setDirtyCanvas(true, true);
}
