// Intelligent Generation in ComfyUI's editor: settings (and new nodes starting from them), explanations
// on our nodes after they run, error toasts and the Model Library sidebar tab.
import { app } from "comfyui/app";
import { addExplanationDisplay, isOurNode } from "./explanation";
import { registerLibraryTab } from "./library_tab";
import { trackNodeType, watchNodeErrors } from "./node_errors";
import { SETTINGS } from "./settings";
import { installStyles } from "./styles";
import { addWidgetDefaults } from "./widget_defaults";

app.registerExtension({
  name: "IntelligentGeneration",
  settings: SETTINGS,
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!isOurNode(nodeData)) return;
    trackNodeType(nodeData.name, nodeData.display_name || nodeData.name);
    addExplanationDisplay(nodeType);
    addWidgetDefaults(nodeType, nodeData);
  },
  setup() {
    installStyles();
    watchNodeErrors();
    registerLibraryTab();
  },
});
