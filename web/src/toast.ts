// Toasts through ComfyUI's extension manager. Messages say what happened and what to do; they are
// rendered by ComfyUI's toast component as text.
import { app } from "comfyui/app";

export type Severity = "success" | "info" | "warn" | "error";

const LIFE_MS: Record<Severity, number> = { success: 4000, info: 4000, warn: 8000, error: 12000 };

export function toast(severity: Severity, summary: string, detail: string): void {
  // Settings are registered (and their onChange called) before the workspace exists.
  const manager = (app as { extensionManager?: typeof app.extensionManager }).extensionManager;
  if (!manager?.toast) {
    console.warn(`[Intelligent Generation] ${summary}: ${detail}`);
    return;
  }
  manager.toast.add({ severity, summary, detail, life: LIFE_MS[severity] });
}
