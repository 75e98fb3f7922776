// "Search CivitAI by name" for a model CivitAI does not know by its hash (a renamed or converted file): the
// server first says what it would send (the file's stem, its type and base model), the user agrees, then it is
// sent (POST /intelligent-generation/models/{kind}/{name}/name-search). The answers are only candidates to look
// at: nothing is stored as this file's metadata.
import { modelPath, postJson } from "./api";
import { el } from "./dom";
import type { ModelInfo } from "./library_api";

interface Sent {
  query: string;
  types: string;
  baseModels?: string;
}

interface Found {
  status: string;
  site: string;
  sent: Sent;
  candidates: { name: string; version: string; base_model: string | null; page: string }[];
}

const ask = (m: ModelInfo, confirm: boolean): Promise<Found> =>
  postJson<Found>(`${modelPath(m.kind, m.name)}/name-search`, "Search by name", { confirm });

function link(url: string, text: string): HTMLElement {
  if (!/^https?:\/\/[^/]+\//.test(url)) return el("span", {}, text);
  return el("a", { attrs: { href: url, target: "_blank", rel: "noopener noreferrer" } }, text);
}

/** The button and where its answers go; only for files CivitAI did not find by hash. */
export function nameSearch(m: ModelInfo, report: (error: unknown) => void): HTMLElement | null {
  if (m.online.status !== "not_found" || !["loras", "checkpoints", "vae"].includes(m.kind)) return null;
  const results = el("div", { attrs: { "data-ig-name-results": "" } });
  const button = el("button", { title: "CivitAI does not know this file's hash: search it by its file name",
    attrs: { "data-ig-name-search": "" } }, "Search CivitAI by name");
  button.addEventListener("click", () => {
    button.disabled = true;
    void (async () => {
      try {
        const plan = await ask(m, false);
        const base = plan.sent.baseModels ? `, base model ${plan.sent.baseModels}` : "";
        if (!window.confirm(`This sends "${plan.sent.query}" (type ${plan.sent.types}${base}) to ${plan.site}, and ` +
          "nothing else. Send it?")) return;
        const found = await ask(m, true);
        results.replaceChildren(...(found.candidates.length
          ? found.candidates.map((c) => el("div", { attrs: { "data-ig-name-candidate": c.name } },
            link(c.page, `${c.name} ${c.version}`), ` (${c.base_model ?? "base unknown"})`))
          : [`Nothing on CivitAI is named like "${found.sent.query}".`]));
      } catch (error) {
        report(error);
      } finally {
        button.disabled = false;
      }
    })();
  });
  return el("div", {}, el("div", { className: "ig-library-bar" }, button), results);
}
