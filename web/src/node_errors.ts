// A failing node of ours also raises a toast: our messages name the file and the fix, and a toast is
// seen even when ComfyUI's error dialog is dismissed or the run was queued from another tab.
import { api } from "comfyui/api";
import { toast } from "./toast";

const ours = new Map<string, string>(); // node type -> display name

export function trackNodeType(type: string, displayName: string): void {
  ours.set(type, displayName);
}

export function watchNodeErrors(): void {
  api.addEventListener("execution_error", ({ detail }) => {
    const name = ours.get(detail.node_type);
    if (name === undefined) return;
    toast("error", `${name} failed`, detail.exception_message || "See the ComfyUI console for details.");
  });
}
