// The "Model Library" sidebar tab: what the pack knows of each checkpoint, LoRA and VAE (library_item.ts),
// with search, filters and the metadata fetch (one model or all) with live progress; statistics and
// ratings (stats_panel.ts); copies of one model (duplicates_panel.ts); online candidates and downloads
// (download_panel.ts).
import { app } from "comfyui/app";
import { el } from "./dom";
import { KIND_LABELS, applyFilter, baseModels, type Filter } from "./library_filter";
import { modelItem } from "./library_item";
import { RouteError } from "./api";
import {
  FETCH_PROGRESS_EVENT,
  fetchMetadata,
  loadLibrary,
  onServerEvent,
  type FetchProgress,
  type FetchSummary,
  type FetchTarget,
  type Listing,
  type ModelInfo,
} from "./library_api";
import { downloadPanel } from "./download_panel";
import { duplicatesPanel } from "./duplicates_panel";
import { updatesPanel } from "./updates_panel";
import { statsPanel } from "./stats_panel";
import { toast } from "./toast";

export const TAB_ID = "intelligent-generation-library"; // ComfyUI derives the button class "<id>-tab-button"
const MAX_SHOWN = 300; // a list of thousands of <details> makes typing in the search box lag

interface Fetching {
  label: string;
  done: number;
  total: number;
  name: string; // what the server says it is doing
  phase: string;
}

// Survives closing the tab: a fetch goes on and its progress is there when the tab is reopened.
const state: { models: ModelInfo[]; listing: Listing | null; filter: Filter; fetching: Fetching | null; open: Set<string> } = {
  models: [],
  listing: null,
  filter: { query: "", kind: "", base: "" },
  fetching: null,
  open: new Set(), // models whose details are unfolded, kept across reloads of the list
};

interface View {
  search: HTMLInputElement;
  kind: HTMLSelectElement;
  base: HTMLSelectElement;
  fetchAll: HTMLButtonElement;
  status: HTMLElement;
  progress: HTMLElement;
  list: HTMLElement;
  duplicates: HTMLElement;
}

let view: View | null = null;

export function reportError(error: unknown): void {
  if (error instanceof RouteError) {
    toast("error", error.message, error.hint);
  } else {
    toast("error", "Intelligent Generation", `${String(error)}. See the browser console for details.`);
    console.error(error);
  }
}

function option(value: string, label: string): HTMLOptionElement {
  const o = el("option", {}, label);
  o.value = value;
  return o;
}

function itemFor(m: ModelInfo): HTMLElement {
  const key = `${m.kind}/${m.name}`;
  return modelItem(m, {
    open: state.open.has(key),
    fetching: state.fetching !== null,
    onToggle: (open) => (open ? state.open.add(key) : state.open.delete(key)),
    onFetch: () => void runFetch({ kind: m.kind, name: m.name }, m.title || m.name),
    report: reportError,
  });
}

function renderList(): void {
  if (!view) return;
  const shown = applyFilter(state.models, state.filter);
  view.list.replaceChildren(...shown.slice(0, MAX_SHOWN).map(itemFor));
  const more = shown.length > MAX_SHOWN ? ` (first ${MAX_SHOWN} shown; refine the search)` : "";
  view.status.textContent = `${shown.length} of ${state.models.length} models${more}`;
}

function renderBaseOptions(): void {
  if (!view) return;
  const current = state.filter.base;
  view.base.replaceChildren(option("", "All base models"), ...baseModels(state.models).map((b) => option(b, b)));
  view.base.value = current;
  if (view.base.value !== current) state.filter.base = "";
}

function renderProgress(): void {
  if (!view) return;
  const f = state.fetching;
  view.fetchAll.disabled = f !== null;
  for (const button of view.list.querySelectorAll<HTMLButtonElement>("button[data-ig-fetch]")) {
    button.disabled = f !== null;
  }
  if (!f) {
    view.progress.replaceChildren();
    view.progress.hidden = true;
    return;
  }
  const bar = el("progress");
  if (f.total > 0) {
    bar.max = f.total;
    bar.value = f.done;
  }
  // Hashing counts bytes: a percentage reads better than two large numbers.
  const counts = f.total <= 0 ? "starting" : f.phase === "hashing" ? `${Math.floor((100 * f.done) / f.total)}%` : `${f.done} / ${f.total}`;
  const text = `Fetching metadata for ${f.label}: ${counts}${f.name ? ` (${f.name})` : ""}`;
  view.progress.replaceChildren(bar, el("span", { attrs: { "data-ig-progress-text": "" } }, text));
  view.progress.hidden = false;
}

function describe(summary: FetchSummary): string {
  const parts: string[] = [];
  if (summary.found !== undefined) parts.push(`${summary.found} found`);
  if (summary.not_found !== undefined) parts.push(`${summary.not_found} not found`);
  if (summary.hashed !== undefined) parts.push(`${summary.hashed} hashed`);
  if (summary.errors) parts.push(`${summary.errors} failed (see the ComfyUI console)`);
  return parts.join(", ") || "Done.";
}

async function runFetch(target: FetchTarget, label: string): Promise<void> {
  if (state.fetching) return;
  state.fetching = { label, done: 0, total: 0, name: "", phase: "" };
  renderProgress();
  try {
    const summary = await fetchMetadata(target);
    const severity = summary.errors ? "warn" : "success";
    toast(severity, `Metadata fetched for ${label}`, describe(summary));
    await reload();
  } catch (error) {
    reportError(error);
  } finally {
    state.fetching = null;
    renderProgress();
  }
}

export async function reload(): Promise<void> {
  if (view) view.status.textContent = "Loading…";
  try {
    state.listing = await loadLibrary();
    state.models = state.listing.models;
  } catch (error) {
    if (view) view.status.textContent = "The library could not be loaded.";
    reportError(error);
    return;
  }
  renderBaseOptions();
  renderList();
  renderDuplicates();
}

function renderDuplicates(): void {
  if (!view || !state.listing) return;
  const { duplicates, duplicate_summary } = state.listing;
  view.duplicates.replaceChildren(duplicatesPanel(duplicates, duplicate_summary, reload, reportError));
}

function mount(container: HTMLElement): void {
  const search = el("input", { attrs: { type: "search", placeholder: "Search names, tags, trigger words", "aria-label": "Search models" } });
  search.value = state.filter.query;
  search.addEventListener("input", () => {
    state.filter.query = search.value;
    renderList();
  });
  const kind = el("select", { attrs: { "aria-label": "Kind" } }, option("", "All kinds"),
    ...Object.entries(KIND_LABELS).map(([value, label]) => option(value, `${label}s`)));
  kind.value = state.filter.kind;
  kind.addEventListener("change", () => {
    state.filter.kind = kind.value;
    renderList();
  });
  const base = el("select", { attrs: { "aria-label": "Base model" } });
  base.addEventListener("change", () => {
    state.filter.base = base.value;
    renderList();
  });
  const refresh = el("button", { title: "Scan the model folders again" }, "Refresh");
  refresh.addEventListener("click", () => void reload());
  const fetchAll = el("button", { title: "Hash every model and look it up online (only hashes are sent)" }, "Fetch all metadata");
  fetchAll.addEventListener("click", () => void runFetch({ kind: "all" }, "the whole library"));
  const status = el("div", { className: "ig-library-status", attrs: { role: "status" } });
  const progress = el("div", { className: "ig-library-progress" });
  const list = el("div", { className: "ig-library-list" });
  const duplicates = el("div");
  container.replaceChildren(
    el("div", { className: "ig-library", attrs: { "data-ig-library": "" } },
      el("div", { className: "ig-library-bar" }, search),
      el("div", { className: "ig-library-bar" }, kind, base, refresh, fetchAll),
      statsPanel(reportError), duplicates, updatesPanel(reportError, reload), downloadPanel(() => baseModels(state.models), reportError, reload),
      progress, status, list),
  );
  view = { search, kind, base, fetchAll, status, progress, list, duplicates };
  renderBaseOptions();
  renderList();
  renderDuplicates();
  renderProgress();
}

export function registerLibraryTab(): void {
  app.extensionManager.registerSidebarTab({
    id: TAB_ID,
    icon: "pi pi-database",
    title: "Model Library",
    // Core ComfyUI has a "Model Library (m)" tab too: the tooltip and icon tell ours apart.
    tooltip: "Model Library (Intelligent Generation)",
    type: "custom",
    render: (container) => {
      mount(container);
      void reload();
    },
    destroy: () => {
      view = null;
    },
  });
  onServerEvent<FetchProgress>(FETCH_PROGRESS_EVENT, (p) => {
    if (!state.fetching || typeof p?.done !== "number" || typeof p.total !== "number") return;
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    state.fetching = { ...state.fetching, done: p.done, total: p.total, name: text(p.name), phase: text(p.phase) };
    renderProgress();
  });
}
