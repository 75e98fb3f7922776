// The pack's CSS, added once. Colours come from ComfyUI's palette variables, so light and dark
// themes both work; every class carries the `ig-` prefix.
const CSS = `
.ig-explanation {
  box-sizing: border-box; width: 100%; height: 100%; overflow-y: auto; padding: 4px 6px;
  font: 12px/1.35 system-ui, sans-serif; white-space: pre-wrap; overflow-wrap: anywhere;
  color: var(--input-text, #ddd); background: var(--comfy-input-bg, #222); border-radius: 6px;
}
.ig-explanation-head { font-weight: 600; }
.ig-rating { display: flex; flex-direction: column; gap: 4px; font: 12px/1.35 system-ui, sans-serif;
  color: var(--input-text, #ddd); }
.ig-rating-row { display: flex; gap: 4px; align-items: center; }
.ig-rating input, .ig-rating select { flex: 1; min-width: 0; font: inherit; color: inherit;
  background: var(--comfy-input-bg, #222); border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 2px 6px; }
.ig-star { font-size: 18px; line-height: 1; padding: 0 2px; cursor: pointer; color: #e8b931; background: none; border: none; }
.ig-star:disabled { opacity: 0.5; cursor: default; }
.ig-rating-status { margin-left: 6px; color: var(--descrip-text, #999); }
.ig-library { display: flex; flex-direction: column; gap: 8px; height: 100%; padding: 8px;
  box-sizing: border-box; font: 13px/1.4 system-ui, sans-serif; color: var(--fg-color, #ddd); }
.ig-library-bar { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
.ig-library input, .ig-library select, .ig-library button {
  font: inherit; color: var(--input-text, #ddd); background: var(--comfy-input-bg, #222);
  border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 3px 8px; }
.ig-library input[type="search"] { flex: 1 1 160px; min-width: 0; }
.ig-library button { cursor: pointer; }
.ig-library button:disabled { opacity: 0.5; cursor: default; }
.ig-library-status { color: var(--descrip-text, #999); font-size: 12px; }
.ig-thumb { width: 40px; height: 40px; object-fit: cover; border-radius: 4px; vertical-align: middle;
  margin-right: 6px; }
.ig-thumb-blur { filter: blur(8px); cursor: pointer; }
.ig-muted { color: var(--descrip-text, #999); font-size: 12px; overflow-wrap: anywhere; }
.ig-library-progress { display: flex; gap: 8px; align-items: center; font-size: 12px; }
.ig-library-progress progress { flex: 1; }
.ig-library-list { flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 4px; }
.ig-model { border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 4px 8px; }
.ig-model > summary { cursor: pointer; display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
.ig-model-title { font-weight: 600; overflow-wrap: anywhere; }
.ig-badge { font-size: 11px; padding: 0 6px; border-radius: 8px; background: var(--comfy-menu-bg, #333);
  border: 1px solid var(--border-color, #444); white-space: nowrap; }
.ig-badge-warn { border-color: #c90; }
.ig-model dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0; }
.ig-model dt { color: var(--descrip-text, #999); }
.ig-model dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
`;

let installed = false;

export function installStyles(): void {
  if (installed) return;
  installed = true;
  const style = document.createElement("style");
  style.dataset["pack"] = "intelligent-generation";
  style.textContent = CSS;
  document.head.append(style);
}
