// One model in the Model Library tab: a <details> with what the pack knows of it. Every value is
// set as text (see dom.ts): titles, tags, trigger words and descriptions may come from CivitAI.
import { el } from "./dom";
import { previewURL, type ModelInfo } from "./library_api";
import { KIND_LABELS } from "./library_filter";
import { nameSearch } from "./name_search";

function day(iso: string | null): string {
  return iso ? iso.slice(0, 10) : "unknown date";
}

function lookupState(m: ModelInfo): string {
  const o = m.online;
  if (o.status === "found") return `found on ${o.sites.join(", ")} (${day(o.fetched_at)})`;
  if (o.status === "not_found") return `not found online (${day(o.fetched_at)})`;
  return m.sha256 ? "hashed, not looked up online yet" : "not hashed yet";
}

function row(dl: HTMLElement, term: string, value: string): void {
  dl.append(el("dt", {}, term), el("dd", {}, value));
}

function details(m: ModelInfo): HTMLElement {
  const dl = el("dl");
  const o = m.online;
  row(dl, "File", m.name);
  if (m.copy_of) row(dl, "Copy of", `${m.copy_of} (same content; the recommender uses that file)`);
  row(dl, "Base model", `${m.base_model ?? "unknown"} (${m.family})`);
  const guessed = m.trigger_guessed && m.trigger_words.length ? " (guessed from training tags)" : "";
  row(dl, "Trigger words", (m.trigger_words.join(", ") || "none") + guessed);
  row(dl, "Tags", m.tags.join(", ") || "none");
  if (m.kind === "loras") {
    const weight = m.preferred_weight ?? o.recommended_weight ?? null;
    row(dl, "Weight", weight === null ? "not given" : String(weight));
  }
  row(dl, "Metadata from", m.sources.join(", ") || "the file name only");
  row(dl, "Hash lookup", lookupState(m));
  if (m.sha256) row(dl, "SHA-256", m.sha256);
  if (m.description) row(dl, "Description", m.description);
  if (o.status === "found") {
    // As the lookup answered: the site's own words, still only text.
    const site = o.sites[0] ?? "online";
    if (o.name) row(dl, `${site} name`, o.version ? `${o.name} (${o.version})` : o.name);
    if (o.base_model) row(dl, `${site} base model`, o.base_model);
    if (o.trigger_words?.length) row(dl, `${site} trigger words`, o.trigger_words.join(", "));
    if (o.tags?.length) row(dl, `${site} tags`, o.tags.join(", "));
    if (o.description) row(dl, `${site} description`, o.description);
  }
  if (m.problems.length) row(dl, "Problems", m.problems.join("\n"));
  return dl;
}

export interface ItemOptions {
  open: boolean;
  fetching: boolean; // a fetch runs: the button waits
  onToggle: (open: boolean) => void;
  onFetch: () => void;
  report: (error: unknown) => void;
}

// CivitAI's R and above (nsfwLevel 4, 8, 16) show blurred until clicked (services/previews.BLUR_FROM).
const BLUR_FROM = 4;

function thumbnail(m: ModelInfo): HTMLElement | null {
  if (!m.preview) return null;
  const blurred = (m.preview_nsfw ?? 0) >= BLUR_FROM;
  const img = el("img", {
    className: blurred ? "ig-thumb ig-thumb-blur" : "ig-thumb",
    title: blurred ? "Marked mature on CivitAI: click to show" : "Preview image",
    attrs: { src: previewURL(m), alt: "", loading: "lazy", "data-ig-thumb": blurred ? "blurred" : "shown" },
  });
  img.addEventListener("click", (event) => {
    if (!img.classList.contains("ig-thumb-blur")) return;
    event.preventDefault(); // a click on the summary would fold the details
    img.classList.remove("ig-thumb-blur");
    img.dataset.igThumb = "shown";
  });
  return img;
}

export function modelItem(m: ModelInfo, options: ItemOptions): HTMLElement {
  const summary = el(
    "summary",
    {},
    thumbnail(m),
    el("span", { className: "ig-model-title" }, m.title || m.name),
    el("span", { className: "ig-badge" }, KIND_LABELS[m.kind] ?? m.kind),
    m.base_model ? el("span", { className: "ig-badge" }, m.base_model) : null,
    m.online.status === "found" ? el("span", { className: "ig-badge", title: "Metadata from an online lookup" }, "online") : null,
    m.problems.length ? el("span", { className: "ig-badge ig-badge-warn" }, "problem") : null,
    m.copy_of ? el("span", { className: "ig-badge", title: `Same content as ${m.copy_of}` }, "copy") : null,
  );
  const fetchOne = el("button", { attrs: { "data-ig-fetch": "" } }, "Fetch metadata");
  fetchOne.disabled = options.fetching;
  fetchOne.addEventListener("click", options.onFetch);
  const item = el("details", { className: "ig-model", attrs: { "data-ig-model": `${m.kind}/${m.name}` } },
    summary, details(m), fetchOne, nameSearch(m, options.report));
  item.open = options.open;
  item.addEventListener("toggle", () => options.onToggle(item.open));
  return item;
}
