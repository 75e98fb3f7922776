// Search and filters of the Model Library tab, kept apart from the DOM.
import type { ModelInfo } from "./library_api";

export interface Filter {
  query: string;
  kind: string; // "" for every kind
  base: string; // "" for every base model
}

export const KIND_LABELS: Record<string, string> = { checkpoints: "Checkpoint", loras: "LoRA", vae: "VAE" };

function haystack(m: ModelInfo): string {
  const o = m.online;
  return [m.name, m.title, m.base_model ?? "", m.family, ...m.tags, ...m.trigger_words, m.description,
    o.name ?? "", ...(o.tags ?? []), ...(o.trigger_words ?? []), o.description ?? ""]
    .join("\n")
    .toLowerCase();
}

/** Every word of the query must occur somewhere in the model's names, tags, trigger words or description. */
export function applyFilter(models: ModelInfo[], filter: Filter): ModelInfo[] {
  const words = filter.query.toLowerCase().split(/\s+/).filter(Boolean);
  return models.filter((m) => {
    if (filter.kind && m.kind !== filter.kind) return false;
    if (filter.base && (m.base_model ?? "") !== filter.base) return false;
    const text = haystack(m);
    return words.every((w) => text.includes(w));
  });
}

export function baseModels(models: ModelInfo[]): string[] {
  return [...new Set(models.map((m) => m.base_model).filter((b): b is string => !!b))].sort();
}
