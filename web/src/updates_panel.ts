// The Model Library tab's "Updates" section: newer CivitAI versions, for the same base model, of the models whose
// record knows their CivitAI ids (POST /intelligent-generation/updates: only those ids are sent). A newer version
// downloads through the confirmed, verified download (POST /intelligent-generation/download): the user sees
// what would arrive and agrees first.
import { postJson as post } from "./api";
import { el } from "./dom";
import { bytes } from "./format";
import { toast } from "./toast";

interface Newer {
  version_id: number;
  name: string;
  base_model: string | null;
  published_at: string | null;
}

interface Checked {
  kind: string;
  name: string;
  found: boolean;
  summary: string;
  newer: Newer[];
}

interface Planned {
  status: string;
  file_name?: string;
  size?: number | null;
  page?: string | null;
}

/** The section; `downloaded` lists the library again after a new version arrived. */
export function updatesPanel(report: (error: unknown) => void, downloaded: () => Promise<void>): HTMLElement {
  const check = el("button", { title: "Ask CivitAI for newer versions (only the CivitAI model ids of your models are sent)",
    attrs: { "data-ig-check-updates": "" } }, "Check for updates");
  const results = el("div", { className: "ig-library-list", attrs: { "data-ig-updates": "" } });

  async function download(m: Checked, v: Newer, button: HTMLButtonElement): Promise<void> {
    const target = { kind: m.kind, source: "civitai", civitai_version: v.version_id };
    button.disabled = true;
    try {
      const plan = await post<Planned>("/download", "Download", target);
      const size = typeof plan.size === "number" ? bytes(plan.size) : "unknown size";
      if (!window.confirm(`Download ${v.name} (${plan.file_name ?? "file"}, ${size}) into ComfyUI's ${m.kind} folder, ` +
        `beside ${m.name}?\nIts licence is on its CivitAI page: ${plan.page ?? "(unknown)"}`)) return;
      const done = await post<{ status: string; name: string }>("/download", "Download",
        { ...target, confirm: true });
      toast("success", `${done.name} downloaded and verified`, `The older ${m.name} stays; remove it yourself if you want.`);
      await downloaded();
    } catch (error) {
      report(error);
    } finally {
      button.disabled = false;
    }
  }

  function item(m: Checked): HTMLElement {
    const newest = m.newer[0];
    const button = el("button", { attrs: { "data-ig-update-download": "" } }, newest ? `Download ${newest.name}` : "");
    button.addEventListener("click", () => newest && void download(m, newest, button));
    return el("div", { className: "ig-model", attrs: { "data-ig-update": m.name } },
      el("div", {}, m.summary), newest ? el("div", { className: "ig-library-bar" }, button) : null);
  }

  check.addEventListener("click", () => {
    check.disabled = true;
    results.replaceChildren("Asking CivitAI…");
    void (async () => {
      try {
        const answer = await post<{ checked: number; with_updates: number; models: Checked[] }>(
          "/updates", "Update check", {});
        const shown = answer.models.filter((m) => m.newer.length || !m.found);
        results.replaceChildren(...shown.map(item));
        if (!shown.length) results.replaceChildren(answer.checked ? `All ${answer.checked} checked models are up to date.` :
          "No model is known to CivitAI yet: fetch metadata first.");
        toast("success", "Update check", `${answer.checked} checked, ${answer.with_updates} with a newer version for the same base model.`);
      } catch (error) {
        results.replaceChildren();
        report(error);
      } finally {
        check.disabled = false;
      }
    })();
  });
  return el("details", { className: "ig-model", attrs: { "data-ig-updates-panel": "" } },
    el("summary", {}, el("span", { className: "ig-model-title" }, "Updates")),
    el("p", { className: "ig-muted" }, "Newer versions for the same base model of the models CivitAI knows. " +
      "Only their CivitAI model ids are sent; nothing downloads without your confirmation."),
    el("div", { className: "ig-library-bar" }, check), results);
}
