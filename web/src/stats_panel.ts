// The Model Library tab's "Statistics and ratings" section: what GET /intelligent-generation/stats reports
// (counts by kind and base model, metadata coverage, cache size, CPU, RAM and GPU), and the user's
// ratings (nodes/routes/feedback.py) with export to a JSON file and delete: the data is theirs.
import { request } from "./api";
import { el } from "./dom";
import { bytes } from "./format";
import { toast } from "./toast";

interface Coverage {
  total: number;
  with_trigger_words: number;
  with_civitai_metadata: number;
  hashed: number;
  never_looked_up: number;
  with_problems: number;
}

interface Availability {
  available: boolean;
  reason?: string | null;
}

export interface LibraryStats {
  duplicates?: { groups: number; copies: number; wasted_bytes: number; unconfirmed_groups: number };
  models: { total: number; by_kind: Record<string, number>; by_base_model: Record<string, Record<string, number>> };
  metadata: Record<string, Coverage>;
  cache: { bytes: number; files: number };
  system?: {
    cpu: Availability & { logical_cores?: number; percent?: number };
    memory: Availability & { total_bytes?: number; available_bytes?: number; used_percent?: number };
    gpu: Availability & { devices: { name: string; memory_total_bytes: number; memory_used_bytes: number; temperature_c: number | null }[] };
  };
}

export interface Rating {
  generation_id: string;
  rating: number;
  comment: string;
  rated_utc: string;
  checkpoint: string | null;
}

export const loadStats = () => request<LibraryStats>("/stats", "Library statistics");
export const loadRatings = async () => (await request<{ ratings: Rating[] }>("/feedback", "Ratings")).ratings;
const deleteRatings = async () =>
  (await request<{ deleted: number }>("/feedback", "Deleting ratings", { method: "DELETE" })).deleted;

const KIND_NAMES: Record<string, string> = { checkpoints: "Checkpoints", loras: "LoRAs", vae: "VAEs" };

function statRows(stats: LibraryStats): [string, string][] {
  const rows: [string, string][] = [];
  for (const [kind, count] of Object.entries(stats.models.by_kind)) {
    const bases = Object.entries(stats.models.by_base_model[kind] ?? {}).map(([b, n]) => `${b} ${n}`).join(", ");
    rows.push([KIND_NAMES[kind] ?? kind, `${count}${bases ? ` (${bases})` : ""}`]);
  }
  const all = stats.metadata["all"];
  if (all) {
    rows.push(["Trigger words", `${all.with_trigger_words} of ${all.total}`]);
    rows.push(["CivitAI metadata", `${all.with_civitai_metadata} of ${all.total}`]);
    rows.push(["Never looked up", `${all.never_looked_up} of ${all.total}`]);
    if (all.with_problems) rows.push(["With problems", String(all.with_problems)]);
  }
  const copies = stats.duplicates;
  if (copies && (copies.copies || copies.unconfirmed_groups)) {
    const possible = copies.unconfirmed_groups ? `, ${copies.unconfirmed_groups} possible` : "";
    rows.push(["Duplicates", `${copies.copies} copies, ${bytes(copies.wasted_bytes)} wasted${possible}`]);
  }
  rows.push(["Cache", `${bytes(stats.cache.bytes)} in ${stats.cache.files} files`]);
  const system = stats.system;
  if (system?.cpu.available) rows.push(["CPU", `${system.cpu.logical_cores} cores, ${system.cpu.percent}% busy`]);
  if (system?.memory.available && system.memory.total_bytes !== undefined) {
    rows.push(["RAM", `${bytes(system.memory.available_bytes ?? 0)} free of ${bytes(system.memory.total_bytes)}`]);
  }
  if (system?.gpu.available) {
    for (const gpu of system.gpu.devices) {
      const temperature = gpu.temperature_c === null ? "" : `, ${gpu.temperature_c} °C`;
      rows.push(["GPU", `${gpu.name}: ${bytes(gpu.memory_used_bytes)} of ${bytes(gpu.memory_total_bytes)} used${temperature}`]);
    }
  } else if (system) {
    rows.push(["GPU", system.gpu.reason ?? "none"]);
  }
  return rows;
}

function table(rows: [string, string][]): HTMLElement {
  return el("dl", { attrs: { "data-ig-stats": "" } }, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function saveAsFile(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = el("a", { attrs: { href: url, download: name } });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The section, filled in when opened (statistics ask psutil and pynvml, so not on every list reload). */
export function statsPanel(report: (error: unknown) => void): HTMLElement {
  const body = el("div", { className: "ig-stats-body" }, "Loading…");
  const section = el("details", { className: "ig-model", attrs: { "data-ig-stats-panel": "" } },
    el("summary", {}, el("span", { className: "ig-model-title" }, "Statistics and ratings")), body);

  async function fill(): Promise<void> {
    body.replaceChildren("Loading…");
    try {
      const [stats, ratings] = await Promise.all([loadStats(), loadRatings()]);
      const exportButton = el("button", { title: "Save every rating as a JSON file", attrs: { "data-ig-export-ratings": "" } }, "Export ratings");
      exportButton.addEventListener("click", () => {
        saveAsFile(`intelligent-generation-ratings-${new Date().toISOString().slice(0, 10)}.json`, JSON.stringify(ratings, null, 2));
      });
      const deleteButton = el("button", { title: "Forget every rating on this machine", attrs: { "data-ig-delete-ratings": "" } }, "Delete ratings");
      deleteButton.addEventListener("click", () => void removeAll(ratings.length));
      exportButton.disabled = deleteButton.disabled = ratings.length === 0;
      const rated = ratings.length ? `${ratings.length} rated image${ratings.length === 1 ? "" : "s"}, kept on this machine` : "No ratings yet";
      body.replaceChildren(table(statRows(stats)),
        el("div", { className: "ig-library-bar" }, el("span", { attrs: { "data-ig-ratings-count": "" } }, rated), exportButton, deleteButton));
    } catch (error) {
      body.replaceChildren("Statistics could not be loaded.");
      report(error);
    }
  }

  async function removeAll(count: number): Promise<void> {
    if (!window.confirm(`Delete all ${count} ratings? Recommendations stop leaning on them.`)) return;
    try {
      const deleted = await deleteRatings();
      toast("success", "Ratings deleted", `${deleted} rating${deleted === 1 ? "" : "s"} removed; recommendations are neutral again.`);
    } catch (error) {
      report(error);
    }
    await fill();
  }

  section.addEventListener("toggle", () => {
    if (section.open) void fill();
  });
  return section;
}
