// New nodes start with the user's defaults from the settings (naming mode, quality). Only new ones:
// LiteGraph calls onNodeCreated before a loaded node gets its saved values, which then overwrite these.
import { app } from "comfyui/app";
import type { ComfyNodeDef } from "@comfyorg/comfyui-frontend-types";
import type { GraphNode, NodeClass } from "./node_hooks";
import { SETTING_IDS } from "./settings";

const DEFAULTS: Record<string, { widget: string; setting: string }[]> = {
  IntelligentSaveWithMetadata: [{ widget: "filename_mode", setting: SETTING_IDS.namingMode }],
  IntelligentAutoModelSelect: [{ widget: "quality", setting: SETTING_IDS.quality }],
};

function apply(node: GraphNode, defaults: { widget: string; setting: string }[]): void {
  for (const { widget: name, setting } of defaults) {
    const widget = node.widgets?.find((w) => w.name === name);
    const value: unknown = app.extensionManager.setting.get(setting);
    const options = (widget?.options as { values?: unknown } | undefined)?.values;
    // Only a value the node offers: the node's list may be older or newer than the setting's.
    if (widget && typeof value === "string" && Array.isArray(options) && options.includes(value)) {
      widget.value = value;
    }
  }
}

export function addWidgetDefaults(nodeType: NodeClass, nodeData: ComfyNodeDef): void {
  const defaults = DEFAULTS[nodeData.name];
  if (!defaults) return;
  const proto = nodeType.prototype as GraphNode;
  const previous = proto.onNodeCreated;
  proto.onNodeCreated = function (this: GraphNode) {
    previous?.call(this);
    apply(this, defaults);
  };
}
