// Intelligent Generation in ComfyUI's editor: settings (and new nodes starting from them), explanations
// on our nodes after they run, star ratings on saved images, error toasts, the Model Library sidebar tab, and
// images that carry a workflow opening it.
import { app } from "comfyui/app";
import { addExplanationDisplay, isOurNode } from "./explanation";
import { registerLibraryTab } from "./library_tab";
import { trackNodeType, watchNodeErrors } from "./node_errors";
import { openWorkflowsFirst } from "./open_workflow";
import { SAVE_NODE, addRatingControl } from "./rating";
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
    if (nodeData.name === SAVE_NODE) addRatingControl(nodeType);
  },
  setup() {
    installStyles();
    watchNodeErrors();
    registerLibraryTab();
    openWorkflowsFirst();
  },
});
