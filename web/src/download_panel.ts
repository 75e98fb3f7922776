// The Model Library tab's "Find models online" section: candidates for one of the pack's concepts or
// styles (only that word, the kind and the base model are sent: nodes/routes/download.py), and a Download
// button that asks first, then streams into ComfyUI's folder with live progress, verified by SHA-256.
// Nothing is downloaded except on that button.
import { postJson, request } from "./api";
import { el } from "./dom";
import { bytes } from "./format";
import { onServerEvent } from "./library_api";
import { toast } from "./toast";

export const DOWNLOAD_PROGRESS_EVENT = "intelligent-generation.download-progress";

export interface Candidate {
  site: "civitai" | "huggingface" | string;
  name: string;
  version: string;
  base_model: string | null;
  file_name: string;
  size: number | null;
  safe_format: boolean;
  licence_text: string;
  page: string;
  why: string;
  target: Record<string, string | number>;
}

interface Suggestion {
  candidates: Candidate[];
  errors: string[];
}

interface DownloadProgress {
  state: "running" | "done" | "failed";
  name: string;
  done: number;
  total: number | null;
  error: string | null;
}

async function searchableWords(): Promise<string[]> {
  const body = await request<{ concepts?: string[]; styles?: string[] }>("/download/concepts", "Online search");
  return [...(body.styles ?? []), ...(body.concepts ?? [])];
}

/** Only links to the sites' own https pages become links; anything else stays text. */
function pageLink(url: string): HTMLElement {
  if (!/^https:\/\/[^/]+\//.test(url)) return el("span", {}, url);
  const link = el("a", { attrs: { href: url, target: "_blank", rel: "noopener noreferrer" } }, "page");
  return link;
}

const SITE_NAMES: Record<string, string> = { civitai: "CivitAI", huggingface: "Hugging Face" };

interface Panel {
  busy: boolean; // one download at a time, as the server allows
  progress: HTMLElement;
}

let listening: Panel | null = null; // the mounted panel; the server event listener is added once
let listenerAdded = false;

function showProgress(panel: Panel, p: DownloadProgress | null): void {
  if (!p) {
    panel.progress.replaceChildren();
    panel.progress.hidden = true;
    return;
  }
  const bar = el("progress");
  if (p.total) {
    bar.max = p.total;
    bar.value = p.done;
  }
  const amount = p.total ? `${Math.floor((100 * p.done) / p.total)}% of ${bytes(p.total)}` : bytes(p.done);
  panel.progress.replaceChildren(bar, el("span", { attrs: { "data-ig-download-progress": "" } }, `Downloading ${p.name}: ${amount}`));
  panel.progress.hidden = false;
}

function candidateItem(c: Candidate, kind: string, panel: Panel, start: (c: Candidate, kind: string) => void): HTMLElement {
  const size = c.size === null ? "size unknown" : bytes(c.size);
  const button = el("button", { attrs: { "data-ig-download": "" } }, "Download");
  button.disabled = panel.busy || !c.safe_format;
  if (!c.safe_format) button.title = "A pickle file (.ckpt, .pt, .bin) can run code: use the Download Model node with allow_pickle if you trust it";
  button.addEventListener("click", () => start(c, kind));
  return el("div", { className: "ig-model", attrs: { "data-ig-candidate": c.name } },
    el("div", { className: "ig-library-bar" },
      el("span", { className: "ig-model-title" }, c.name),
      el("span", { className: "ig-badge" }, c.base_model ?? "base unknown"),
      el("span", { className: "ig-badge" }, SITE_NAMES[c.site] ?? c.site),
      el("span", { className: "ig-badge" }, size), button),
    el("div", { className: "ig-library-status" }, `${c.file_name}. Licence: ${c.licence_text}. ${c.why} `, pageLink(c.page)));
}

/** The section. `bases` gives the base models to offer; `downloaded` runs after a file arrived. */
export function downloadPanel(bases: () => string[], report: (error: unknown) => void, downloaded: () => Promise<void>): HTMLElement {
  const words = el("datalist", { attrs: { id: "ig-searchable-words" } });
  const concept = el("input", { attrs: { type: "search", list: "ig-searchable-words", placeholder: "A concept or style, e.g. pixel art", "aria-label": "Concept" } });
  const kind = el("select", { attrs: { "aria-label": "Kind to find" } });
  for (const [value, label] of [["loras", "LoRAs"], ["checkpoints", "Checkpoints"], ["vae", "VAEs"]] as const) {
    const o = el("option", {}, label);
    o.value = value;
    kind.append(o);
  }
  const base = el("select", { attrs: { "aria-label": "Base model to find" } });
  const find = el("button", { title: "Only the concept, the kind and the base model are sent" }, "Find online");
  const results = el("div", { className: "ig-library-list", attrs: { "data-ig-candidates": "" } });
  const panel: Panel = { busy: false, progress: el("div", { className: "ig-library-progress" }) };
  panel.progress.hidden = true;
  let shown: { list: Candidate[]; kind: string } = { list: [], kind: "loras" };

  const render = () => results.replaceChildren(...shown.list.map((c) => candidateItem(c, shown.kind, panel, start)));

  async function search(): Promise<void> {
    const word = concept.value.trim();
    if (!word) return;
    const offered = Array.from(words.options, (o) => o.value);
    if (offered.length && !offered.includes(word)) {
      // Only the pack's own words are ever sent: say so before asking the server.
      toast("warn", "Pick a listed concept or style", `"${word}" is not one of the words the pack searches for (e.g. ${offered.slice(0, 3).join(", ")}).`);
      return;
    }
    find.disabled = true;
    results.replaceChildren("Searching…");
    try {
      const answer = await postJson<Suggestion>("/download/candidates", "Online search",
        { concept: word, kind: kind.value, base_model: base.value || null });
      shown = { list: answer.candidates, kind: kind.value };
      render();
      if (!answer.candidates.length) results.replaceChildren(`Nothing found for ${word}.`);
      if (answer.errors.length) toast("warn", "Some sites did not answer", answer.errors.join("; "));
    } catch (error) {
      results.replaceChildren();
      report(error);
    } finally {
      find.disabled = false;
    }
  }

  async function start(c: Candidate, k: string): Promise<void> {
    if (panel.busy) return;
    const size = c.size === null ? "unknown size" : bytes(c.size);
    if (!window.confirm(`Download ${c.name} (${c.file_name}, ${size}) into ComfyUI's ${k} folder?\nLicence: ${c.licence_text}`)) return;
    panel.busy = true;
    render();
    showProgress(panel, { state: "running", name: c.file_name, done: 0, total: c.size, error: null });
    try {
      const answer = await postJson<{ status: string; name: string; sha256?: string }>("/download",
        "Download", { kind: k, ...c.target, confirm: true });
      const verb = answer.status === "already_present" ? "is already there" : "downloaded and verified";
      toast("success", `${answer.name} ${verb}`, "ComfyUI lists it now; its metadata came with it.");
      await downloaded();
    } catch (error) {
      report(error);
    } finally {
      panel.busy = false;
      showProgress(panel, null);
      render();
    }
  }

  find.addEventListener("click", () => void search());
  concept.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void search();
  });
  const section = el("details", { className: "ig-model", attrs: { "data-ig-download-panel": "" } },
    el("summary", {}, el("span", { className: "ig-model-title" }, "Find models online")),
    el("div", { className: "ig-library-bar" }, concept, words),
    el("div", { className: "ig-library-bar" }, kind, base, find),
    panel.progress, results);
  section.addEventListener("toggle", () => {
    if (!section.open) return;
    const current = base.value;
    base.replaceChildren(el("option", { attrs: { value: "" } }, "Any base model"),
      ...bases().map((b) => el("option", { attrs: { value: b } }, b)));
    base.value = current;
    if (!words.childElementCount) {
      searchableWords()
        .then((list) => words.replaceChildren(...list.map((w) => el("option", { attrs: { value: w } }))))
        .catch(report);
    }
  });
  listening = panel;
  if (!listenerAdded) {
    listenerAdded = true;
    onServerEvent<DownloadProgress>(DOWNLOAD_PROGRESS_EVENT, (p) => {
      if (listening?.busy && p?.state === "running" && typeof p.done === "number") showProgress(listening, p);
    });
  }
  return section;
}
