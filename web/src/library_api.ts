// The server side of the Model Library tab, all under /intelligent-generation/ through api.ts
// (which adds ComfyUI's /api prefix and the user header).
//
// The fetch route belongs to the Metadata Fetcher (nodes/routes/metadata.py): POST
// /intelligent-generation/metadata/fetch with {"kind", "name"} for one model or {"kind": "all"} for the
// whole library answers when done with the run's counts (files, hashed, found, not_found, errors) and
// meanwhile sends "intelligent-generation.fetch-progress" events {done, total, name, state, ...}.
import { api } from "comfyui/api";
import { modelPath, postJson, request, routeURL } from "./api";

/** What the Metadata Fetcher's stored record says (fields beyond `status` only once a lookup ran). */
export interface OnlineInfo {
  status: "found" | "not_found" | "unknown";
  sites: string[];
  fetched_at: string | null;
  name?: string | null;
  version?: string | null;
  base_model?: string | null;
  tags?: string[] | null;
  trigger_words?: string[] | null;
  description?: string | null;
  recommended_weight?: number | null;
}

/** One model as GET /intelligent-generation/library lists it (nodes/routes/library.py). */
export interface ModelInfo {
  kind: "checkpoints" | "loras" | "vae" | string;
  name: string;
  title: string;
  base_model: string | null;
  family: string;
  tags: string[];
  trigger_words: string[];
  trigger_guessed: boolean;
  preferred_weight: number | null;
  description: string;
  sources: string[];
  problems: string[];
  size: number;
  sha256: string | null; // from the hash cache only: null until the file was hashed
  online: OnlineInfo;
  copy_of: string | null; // a known copy of that file (same kind): the recommender uses that one
  preview: boolean; // another tool left a preview image next to it (previewURL serves it)
  preview_nsfw: number | null; // its CivitAI nsfwLevel when a sidecar says it (1 PG, 2 PG-13, 4 R, 8 X, 16 XXX)
}

/** Where the server serves a model's preview image (only images next to ComfyUI's own model files). */
export const previewURL = (m: ModelInfo): string => routeURL(`${modelPath(m.kind, m.name)}/preview`);

/** Files holding one model (services/duplicates.py): the first is the one the recommender uses. */
export interface DuplicateGroup {
  files: { kind: string; name: string }[];
  size: number;
  confirmed: boolean; // false: one size and fingerprint, not hashed yet
  how: "sha256" | "autov3" | "fingerprint" | string;
  wasted_bytes: number;
}

export interface DuplicateSummary {
  groups: number;
  copies: number;
  wasted_bytes: number;
  unconfirmed_groups: number;
}

export interface Listing {
  models: ModelInfo[];
  duplicates: DuplicateGroup[];
  duplicate_summary: DuplicateSummary;
}

export interface FetchSummary {
  files?: number;
  hashed?: number;
  found?: number;
  not_found?: number;
  errors?: number;
}

export interface FetchProgress {
  done: number;
  total: number;
  name?: string;
  phase?: string; // "scanning", "hashing" (done and total in bytes), "lookup", "done", "failed"
  state?: string;
}

export type FetchTarget = { kind: string; name: string } | { kind: "all" };

export const FETCH_PROGRESS_EVENT = "intelligent-generation.fetch-progress";

export async function loadLibrary(): Promise<Listing> {
  // "no-cache": the browser revalidates with the listing's ETag; an unchanged library comes back as a 304.
  const body = await request<Partial<Listing>>("/library", "Model Library", { cache: "no-cache" });
  return {
    models: body.models ?? [],
    duplicates: body.duplicates ?? [],
    duplicate_summary: body.duplicate_summary ?? { groups: 0, copies: 0, wasted_bytes: 0, unconfirmed_groups: 0 },
  };
}

/** Hash the possible copies (only those) and answer every group found; nothing is deleted. */
export const confirmDuplicates = () =>
  postJson<DuplicateSummary & { duplicates: DuplicateGroup[] }>("/duplicates", "Finding duplicates");

export const fetchMetadata = (target: FetchTarget): Promise<FetchSummary> =>
  postJson<FetchSummary>("/metadata/fetch", "Metadata fetch", target,
    "This version of Intelligent Generation cannot look up metadata from the editor yet; " +
      "use the Metadata Fetcher node or `python -m services metadata`.");

/** Listen to one of our server events. ComfyUI only dispatches custom websocket messages whose type
 * has a listener, and its typed addEventListener knows core events only. */
export function onServerEvent<T>(type: string, handler: (detail: T) => void): void {
  const target = api as unknown as EventTarget;
  target.addEventListener(type, (event) => handler((event as CustomEvent<T>).detail));
}
