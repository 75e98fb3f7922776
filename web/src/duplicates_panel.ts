// The Model Library tab's "Duplicates" section: files that hold one model (GET /intelligent-generation/library's
// `duplicates`), with the bytes the copies take. Possible copies (one size, same first and last bytes) are
// confirmed by hashing them only (POST /intelligent-generation/duplicates). The pack never deletes a file: the
// user decides which copy goes.
import { el } from "./dom";
import { confirmDuplicates, type DuplicateGroup, type DuplicateSummary } from "./library_api";
import { bytes } from "./format";
import { toast } from "./toast";

const HOW: Record<string, string> = {
  sha256: "same SHA-256",
  autov3: "same tensors (AutoV3)",
  link: "one file under several names",
  fingerprint: "possibly the same: one size, same first and last bytes (not hashed yet)",
};

function groupItem(group: DuplicateGroup): HTMLElement {
  const [kept, ...copies] = group.files;
  const waste = group.wasted_bytes ? `${bytes(group.wasted_bytes)} in copies` : "links to one file: no bytes wasted";
  return el("li", { attrs: { "data-ig-duplicate": group.confirmed ? "confirmed" : "possible" } },
    el("div", {}, `${kept?.name ?? ""} (${bytes(group.size)}; ${HOW[group.how] ?? group.how})`),
    el("div", { className: "ig-muted" }, `${copies.length} cop${copies.length === 1 ? "y" : "ies"}: ` +
      `${copies.map((f) => f.name).join(", ")}; ${group.confirmed ? waste : "confirm to know"}`));
}

function headline(summary: DuplicateSummary): string {
  if (!summary.groups && !summary.unconfirmed_groups) return "Duplicates: none found";
  const known = summary.groups ? `${summary.copies} cop${summary.copies === 1 ? "y" : "ies"}, ${bytes(summary.wasted_bytes)} wasted` : "";
  const possible = summary.unconfirmed_groups ? `${summary.unconfirmed_groups} possible` : "";
  return `Duplicates: ${[known, possible].filter(Boolean).join("; ")}`;
}

/** The section for one listing; `reload` lists the library again after a confirmation. */
export function duplicatesPanel(groups: DuplicateGroup[], summary: DuplicateSummary, reload: () => Promise<void>,
                                report: (error: unknown) => void): HTMLElement {
  const confirm = el("button", { title: "Hash only the possible copies to confirm them (nothing is sent or deleted)",
    attrs: { "data-ig-confirm-duplicates": "" } }, "Confirm by hashing");
  confirm.disabled = summary.unconfirmed_groups === 0;
  confirm.addEventListener("click", () => {
    confirm.disabled = true;
    confirm.textContent = "Hashing…";
    void (async () => {
      try {
        const found = await confirmDuplicates();
        toast("success", "Duplicates", `${found.copies} cop${found.copies === 1 ? "y" : "ies"} confirmed, ` +
          `${bytes(found.wasted_bytes)} wasted. Nothing was deleted.`);
        await reload();
      } catch (error) {
        report(error);
        confirm.disabled = false;
        confirm.textContent = "Confirm by hashing";
      }
    })();
  });
  return el("details", { className: "ig-model", attrs: { "data-ig-duplicates-panel": "" } },
    el("summary", {}, el("span", { className: "ig-model-title" }, headline(summary))),
    el("p", { className: "ig-muted" }, "The recommender uses the first file of each confirmed group. " +
      "Intelligent Generation deletes nothing: remove the copies you do not want yourself."),
    el("ul", {}, ...groups.map(groupItem)),
    el("div", { className: "ig-library-bar" }, confirm));
}
