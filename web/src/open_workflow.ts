// Images that carry a ComfyUI workflow open that workflow. ComfyUI's editor (1.32) reads a dropped or opened
// PNG's A1111 `parameters` first and, finding them, imports the image as an A1111 prompt, ignoring the
// workflow beside it; every image Save With Metadata writes carries both (A1111, CivitAI and the readers
// need `parameters`). The workflow is what ComfyUI itself made, so it wins; images without one are left
// to the editor as before.
import { app } from "comfyui/app";

type PngText = Record<string, string | undefined>;
interface LegacyApi {
  pnginfo?: { getPngMetadata?: (file: File) => Promise<PngText> };
}

async function workflowOf(file: File): Promise<unknown> {
  if (file.type !== "image/png") return null;
  const read = (window as unknown as { comfyAPI?: LegacyApi }).comfyAPI?.pnginfo?.getPngMetadata;
  const text = read ? await read(file) : {};
  if (!text.workflow || !text.parameters) return null; // nothing the editor would get wrong
  try {
    return JSON.parse(text.workflow) as unknown;
  } catch {
    return null; // a damaged workflow: the editor's own handling says so
  }
}

export function openWorkflowsFirst(): void {
  const original = app.handleFile.bind(app);
  app.handleFile = async (file, openSource) => {
    const workflow = await workflowOf(file);
    if (workflow && typeof workflow === "object") {
      await app.loadGraphData(workflow as Parameters<typeof app.loadGraphData>[0], true, true,
        file.name.replace(/\.\w+$/, ""), openSource ? { openSource } : {});
      return;
    }
    return original(file, openSource);
  };
}
