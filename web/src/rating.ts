// A 1-5 star control (with an optional comment) on Save With Metadata after it saved images. A rating is
// stored on this machine by POST /intelligent-generation/feedback (nodes/routes/feedback.py), keyed by the
// generation id embedded in the image; later recommendations for similar prompts lean on it.
import { RouteError, postJson } from "./api";
import { el } from "./dom";
import { addDisplayWidget, afterExecuted, fitNode, type GraphNode, type NodeClass } from "./node_hooks";
import { toast } from "./toast";

export const SAVE_NODE = "IntelligentSaveWithMetadata";
const WIDGET = "ig_rating";
const HEIGHT_PX = 64;

interface SavedImage {
  filename: string;
  subfolder: string;
  type: string;
}

/** The output-folder names of the images a run of the node saved: "subfolder/file.png". */
export function savedImages(output: Record<string, unknown> | undefined): string[] {
  const images = output?.["images"];
  if (!Array.isArray(images)) return [];
  return images
    .filter((i): i is SavedImage => typeof i?.filename === "string" && (i.type ?? "output") === "output")
    .map((i) => (i.subfolder ? `${i.subfolder}/${i.filename}` : i.filename));
}

export async function rateImage(image: string, rating: number, comment: string): Promise<void> {
  await postJson<unknown>("/feedback", "Rating", { image, rating, comment });
}

interface Control {
  root: HTMLElement;
  picker: HTMLSelectElement;
  stars: HTMLButtonElement[];
  comment: HTMLInputElement;
  status: HTMLElement;
  rated: Map<string, number>; // image -> stars given in this session
}

const controls = new WeakMap<GraphNode, Control>();

function showStars(control: Control, stars: number): void {
  control.stars.forEach((button, i) => {
    button.textContent = i < stars ? "★" : "☆";
    button.setAttribute("aria-pressed", String(i < stars));
  });
}

function refresh(control: Control): void {
  const given = control.rated.get(control.picker.value) ?? 0;
  showStars(control, given);
  control.status.textContent = given ? `Rated ${given} of 5` : "Not rated";
}

function build(): Control {
  const picker = el("select", { attrs: { "aria-label": "Image to rate" } });
  const comment = el("input", { attrs: { type: "text", placeholder: "Comment (optional)", "aria-label": "Comment" } });
  const status = el("span", { className: "ig-rating-status", attrs: { role: "status" } });
  const stars = [1, 2, 3, 4, 5].map((n) =>
    el("button", { className: "ig-star", title: `${n} of 5`, attrs: { type: "button", "data-ig-star": String(n) } }, "☆"));
  const root = el("div", { className: "ig-rating", attrs: { "data-ig-rating": "" } },
    el("div", { className: "ig-rating-row" }, el("span", {}, "Rate:"), ...stars, status),
    el("div", { className: "ig-rating-row" }, picker, comment));
  const control: Control = { root, picker, stars, comment, status, rated: new Map() };
  stars.forEach((button, i) => button.addEventListener("click", () => void submit(control, i + 1)));
  picker.addEventListener("change", () => refresh(control));
  return control;
}

async function submit(control: Control, stars: number): Promise<void> {
  const image = control.picker.value;
  if (!image) return;
  control.stars.forEach((b) => (b.disabled = true));
  try {
    await rateImage(image, stars, control.comment.value.trim());
    control.rated.set(image, stars);
    toast("success", `Rated ${stars} of 5`, `${image}: similar prompts will lean on this rating.`);
  } catch (error) {
    const known = error instanceof RouteError;
    toast("error", known ? error.message : "Rating failed", known ? error.hint : String(error));
  } finally {
    control.stars.forEach((b) => (b.disabled = false));
    refresh(control);
  }
}

function showOn(node: GraphNode, images: string[]): void {
  let control = controls.get(node);
  if (!control || !node.widgets?.some((w) => w.name === WIDGET)) {
    control = build();
    addDisplayWidget(node, WIDGET, control.root, { min: () => HEIGHT_PX, max: () => HEIGHT_PX });
    controls.set(node, control);
  }
  const c = control;
  c.picker.replaceChildren(...images.map((name, i) => {
    const o = el("option", {}, images.length > 1 ? `${i + 1}: ${name}` : name);
    o.value = name;
    return o;
  }));
  c.picker.hidden = images.length < 2;
  c.comment.value = "";
  refresh(c);
  fitNode(node);
}

export function addRatingControl(nodeType: NodeClass): void {
  afterExecuted(nodeType, (node, output) => {
    const images = savedImages(output);
    if (images.length) showOn(node, images);
  });
}
