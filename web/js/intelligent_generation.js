import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
// web/src/dom.ts
function el(tag, props = {}, ...children) {
	const node = document.createElement(tag);
	if (props.className) node.className = props.className;
	if (props.title) node.title = props.title;
	for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
	for (const child of children) {
		if (child === null || child === void 0 || child === false) continue;
		node.append(typeof child === "string" ? document.createTextNode(child) : child);
	}
	return node;
}
// web/src/node_hooks.ts
/** Runs `handler` after the node's own onExecuted (and any other extension's) each time it ran. */
function afterExecuted(nodeType, handler) {
	const proto = nodeType.prototype;
	const previous = proto.onExecuted;
	proto.onExecuted = function(output) {
		previous?.call(this, output);
		handler(this, output);
	};
}
/** A DOM element shown on the node as a widget that the workflow does not save: widgets_values keep
* their order, and the prompt sent to the server does not carry it. */
function addDisplayWidget(node, name, element, height) {
	const widget = node.addDOMWidget(name, name, element, {
		serialize: false,
		hideOnZoom: true,
		getMinHeight: height.min,
		getMaxHeight: height.max
	});
	widget.serialize = false;
}
/** Grow the node to fit what was added (never shrink what the user sized); the nodes around stay put. */
function fitNode(node) {
	const [width, height] = node.computeSize();
	node.setSize([Math.max(width, node.size[0]), Math.max(height, node.size[1])]);
	node.setDirtyCanvas(true, true);
}
var WIDGET$1 = "ig_explanation";
var LINE_PX = 16;
var CHAR_PX = 6.5;
var HEIGHT = {
	min: 40,
	max: 200
};
var GAP_PX = 10;
var boxes = /* @__PURE__ */ new WeakMap();
/** The box's height for a text at a node width, estimated: the box is measured only once drawn. */
function heightFor(text, width) {
	const perLine = Math.max(20, Math.floor((width - 30) / CHAR_PX));
	const lines = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / perLine)), 0);
	return Math.min(HEIGHT.max, Math.max(HEIGHT.min, lines * LINE_PX + 8));
}
function isOurNode(def) {
	return def.category === "Intelligent Generation" || def.category.startsWith(`Intelligent Generation/`);
}
/** The explanation from an `executed` message: {"text": ["..."]}, or nothing. */
function explanationOf(output) {
	const text = output?.["text"];
	if (!Array.isArray(text)) return null;
	const parts = text.filter((t) => typeof t === "string");
	return parts.length ? parts.join("\n") : null;
}
function render(box, text) {
	const [head = "", ...rest] = text.split("\n");
	box.replaceChildren(el("div", { className: "ig-explanation-head" }, head), rest.join("\n"));
}
/** How far the node may grow downwards before it meets a node below it (Infinity: none below). Bounds are
* the graph's own, title bars included. */
function bounds(node) {
	const b = node.getBounding();
	return [
		b[0] ?? 0,
		b[1] ?? 0,
		b[2] ?? 0,
		b[3] ?? 0
	];
}
function roomBelow(node) {
	const [x, y, width, height] = bounds(node);
	const bottom = y + height;
	let room = Infinity;
	for (const other of node.graph?.nodes ?? []) {
		if (other === node) continue;
		const [ox, top, otherWidth] = bounds(other);
		if (ox < x + width && ox + otherWidth > x && top >= bottom - 1) room = Math.min(room, top - bottom);
	}
	return room;
}
/** The box is added on the first run only, so an unrun node looks like any other. It grows the node into
* the free space below it, never over another node: a longer text scrolls inside the box. */
function showOn$1(node, text) {
	let shown = boxes.get(node);
	if (!shown || !node.widgets?.some((w) => w.name === WIDGET$1)) {
		const box = el("div", {
			className: "ig-explanation",
			attrs: { "data-ig-explanation": "" }
		});
		const entry = {
			box,
			height: HEIGHT.min
		};
		addDisplayWidget(node, WIDGET$1, box, {
			min: () => entry.height,
			max: () => Math.max(entry.height, HEIGHT.max)
		});
		boxes.set(node, entry);
		shown = entry;
	}
	render(shown.box, text);
	shown.height = heightFor(text, node.size[0]);
	const tallest = node.size[1] + Math.max(0, roomBelow(node) - GAP_PX);
	const needed = node.computeSize()[1];
	if (needed > tallest) shown.height = Math.max(HEIGHT.min, shown.height - (needed - tallest));
	fitNode(node);
}
function addExplanationDisplay(nodeType) {
	afterExecuted(nodeType, (node, output) => {
		const text = explanationOf(output);
		if (text) showOn$1(node, text);
	});
}
// web/src/library_filter.ts
var KIND_LABELS = {
	checkpoints: "Checkpoint",
	loras: "LoRA",
	vae: "VAE"
};
function haystack(m) {
	const o = m.online;
	return [
		m.name,
		m.title,
		m.base_model ?? "",
		m.family,
		...m.tags,
		...m.trigger_words,
		m.description,
		o.name ?? "",
		...o.tags ?? [],
		...o.trigger_words ?? [],
		o.description ?? ""
	].join("\n").toLowerCase();
}
/** Every word of the query must occur somewhere in the model's names, tags, trigger words or description. */
function applyFilter(models, filter) {
	const words = filter.query.toLowerCase().split(/\s+/).filter(Boolean);
	return models.filter((m) => {
		if (filter.kind && m.kind !== filter.kind) return false;
		if (filter.base && (m.base_model ?? "") !== filter.base) return false;
		const text = haystack(m);
		return words.every((w) => text.includes(w));
	});
}
function baseModels(models) {
	return [...new Set(models.map((m) => m.base_model).filter((b) => !!b))].sort();
}
// web/src/api.ts
var ROUTES = "/intelligent-generation";
var RESTART_HINT = "Restart ComfyUI after installing or updating Intelligent Generation.";
/** A failure with what to do about it, ready for a toast. */
var RouteError = class extends Error {
	hint;
	constructor(message, hint) {
		super(message);
		this.hint = hint;
	}
};
async function failure(response, what, missingHint = RESTART_HINT) {
	if (response.status === 404) return new RouteError(`${what}: this ComfyUI has no such route`, missingHint);
	let body = {};
	try {
		body = await response.json();
	} catch {}
	const message = typeof body.error === "string" ? body.error : `HTTP ${response.status}`;
	const hint = typeof body.hint === "string" ? body.hint : "See the ComfyUI console for details.";
	return new RouteError(`${what}: ${message}`, hint);
}
/** `path` below ROUTES; `what` names the action in an error. A 404 means an older pack without the route. */
async function request(path, what, init = {}, missingHint) {
	const response = await api.fetchApi(`${ROUTES}${path}`, {
		cache: "no-store",
		...init
	});
	if (!response.ok) throw await failure(response, what, missingHint);
	return await response.json();
}
/** A JSON body, as the pack's changing routes take only. */
function postJson(path, what, body = {}, missingHint) {
	return request(path, what, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(body)
	}, missingHint);
}
/** A model's own path segment: each folder and the file name encoded, the slashes kept. */
function modelPath(kind, name) {
	return `/models/${encodeURIComponent(kind)}/${name.split("/").map(encodeURIComponent).join("/")}`;
}
var routeURL = (path) => api.apiURL(`${ROUTES}${path}`);
// web/src/library_api.ts
/** Where the server serves a model's preview image (only images next to ComfyUI's own model files). */
var previewURL = (m) => routeURL(`${modelPath(m.kind, m.name)}/preview`);
var FETCH_PROGRESS_EVENT = "intelligent-generation.fetch-progress";
async function loadLibrary() {
	const body = await request("/library", "Model Library", { cache: "no-cache" });
	return {
		models: body.models ?? [],
		duplicates: body.duplicates ?? [],
		duplicate_summary: body.duplicate_summary ?? {
			groups: 0,
			copies: 0,
			wasted_bytes: 0,
			unconfirmed_groups: 0
		}
	};
}
/** Hash the possible copies (only those) and answer every group found; nothing is deleted. */
var confirmDuplicates = () => postJson("/duplicates", "Finding duplicates");
var fetchMetadata = (target) => postJson("/metadata/fetch", "Metadata fetch", target, "This version of Intelligent Generation cannot look up metadata from the editor yet; use the Metadata Fetcher node or `python -m services metadata`.");
/** Listen to one of our server events. ComfyUI only dispatches custom websocket messages whose type
* has a listener, and its typed addEventListener knows core events only. */
function onServerEvent(type, handler) {
	api.addEventListener(type, (event) => handler(event.detail));
}
// web/src/name_search.ts
var ask = (m, confirm) => postJson(`${modelPath(m.kind, m.name)}/name-search`, "Search by name", { confirm });
function link(url, text) {
	if (!/^https?:\/\/[^/]+\//.test(url)) return el("span", {}, text);
	return el("a", { attrs: {
		href: url,
		target: "_blank",
		rel: "noopener noreferrer"
	} }, text);
}
/** The button and where its answers go; only for files CivitAI did not find by hash. */
function nameSearch(m, report) {
	if (m.online.status !== "not_found" || ![
		"loras",
		"checkpoints",
		"vae"
	].includes(m.kind)) return null;
	const results = el("div", { attrs: { "data-ig-name-results": "" } });
	const button = el("button", {
		title: "CivitAI does not know this file's hash: search it by its file name",
		attrs: { "data-ig-name-search": "" }
	}, "Search CivitAI by name");
	button.addEventListener("click", () => {
		button.disabled = true;
		(async () => {
			try {
				const plan = await ask(m, false);
				const base = plan.sent.baseModels ? `, base model ${plan.sent.baseModels}` : "";
				if (!window.confirm(`This sends "${plan.sent.query}" (type ${plan.sent.types}${base}) to ${plan.site}, and nothing else. Send it?`)) return;
				const found = await ask(m, true);
				results.replaceChildren(...found.candidates.length ? found.candidates.map((c) => el("div", { attrs: { "data-ig-name-candidate": c.name } }, link(c.page, `${c.name} ${c.version}`), ` (${c.base_model ?? "base unknown"})`)) : [`Nothing on CivitAI is named like "${found.sent.query}".`]);
			} catch (error) {
				report(error);
			} finally {
				button.disabled = false;
			}
		})();
	});
	return el("div", {}, el("div", { className: "ig-library-bar" }, button), results);
}
// web/src/library_item.ts
function day(iso) {
	return iso ? iso.slice(0, 10) : "unknown date";
}
function lookupState(m) {
	const o = m.online;
	if (o.status === "found") return `found on ${o.sites.join(", ")} (${day(o.fetched_at)})`;
	if (o.status === "not_found") return `not found online (${day(o.fetched_at)})`;
	return m.sha256 ? "hashed, not looked up online yet" : "not hashed yet";
}
function row(dl, term, value) {
	dl.append(el("dt", {}, term), el("dd", {}, value));
}
function details(m) {
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
var BLUR_FROM = 4;
function thumbnail(m) {
	if (!m.preview) return null;
	const blurred = (m.preview_nsfw ?? 0) >= BLUR_FROM;
	const img = el("img", {
		className: blurred ? "ig-thumb ig-thumb-blur" : "ig-thumb",
		title: blurred ? "Marked mature on CivitAI: click to show" : "Preview image",
		attrs: {
			src: previewURL(m),
			alt: "",
			loading: "lazy",
			"data-ig-thumb": blurred ? "blurred" : "shown"
		}
	});
	img.addEventListener("click", (event) => {
		if (!img.classList.contains("ig-thumb-blur")) return;
		event.preventDefault();
		img.classList.remove("ig-thumb-blur");
		img.dataset.igThumb = "shown";
	});
	return img;
}
function modelItem(m, options) {
	const summary = el("summary", {}, thumbnail(m), el("span", { className: "ig-model-title" }, m.title || m.name), el("span", { className: "ig-badge" }, KIND_LABELS[m.kind] ?? m.kind), m.base_model ? el("span", { className: "ig-badge" }, m.base_model) : null, m.online.status === "found" ? el("span", {
		className: "ig-badge",
		title: "Metadata from an online lookup"
	}, "online") : null, m.problems.length ? el("span", { className: "ig-badge ig-badge-warn" }, "problem") : null, m.copy_of ? el("span", {
		className: "ig-badge",
		title: `Same content as ${m.copy_of}`
	}, "copy") : null);
	const fetchOne = el("button", { attrs: { "data-ig-fetch": "" } }, "Fetch metadata");
	fetchOne.disabled = options.fetching;
	fetchOne.addEventListener("click", options.onFetch);
	const item = el("details", {
		className: "ig-model",
		attrs: { "data-ig-model": `${m.kind}/${m.name}` }
	}, summary, details(m), fetchOne, nameSearch(m, options.report));
	item.open = options.open;
	item.addEventListener("toggle", () => options.onToggle(item.open));
	return item;
}
// web/src/format.ts
function bytes(n) {
	const units = [
		"B",
		"KB",
		"MB",
		"GB",
		"TB"
	];
	let value = n;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit += 1;
	}
	return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}
// web/src/toast.ts
var LIFE_MS = {
	success: 4e3,
	info: 4e3,
	warn: 8e3,
	error: 12e3
};
function toast(severity, summary, detail) {
	const manager = app.extensionManager;
	if (!manager?.toast) {
		console.warn(`[Intelligent Generation] ${summary}: ${detail}`);
		return;
	}
	manager.toast.add({
		severity,
		summary,
		detail,
		life: LIFE_MS[severity]
	});
}
// web/src/download_panel.ts
var DOWNLOAD_PROGRESS_EVENT = "intelligent-generation.download-progress";
async function searchableWords() {
	const body = await request("/download/concepts", "Online search");
	return [...body.styles ?? [], ...body.concepts ?? []];
}
/** Only links to the sites' own https pages become links; anything else stays text. */
function pageLink(url) {
	if (!/^https:\/\/[^/]+\//.test(url)) return el("span", {}, url);
	return el("a", { attrs: {
		href: url,
		target: "_blank",
		rel: "noopener noreferrer"
	} }, "page");
}
var SITE_NAMES = {
	civitai: "CivitAI",
	huggingface: "Hugging Face"
};
var listening = null;
var listenerAdded = false;
function showProgress(panel, p) {
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
	const amount = p.total ? `${Math.floor(100 * p.done / p.total)}% of ${bytes(p.total)}` : bytes(p.done);
	panel.progress.replaceChildren(bar, el("span", { attrs: { "data-ig-download-progress": "" } }, `Downloading ${p.name}: ${amount}`));
	panel.progress.hidden = false;
}
function candidateItem(c, kind, panel, start) {
	const size = c.size === null ? "size unknown" : bytes(c.size);
	const button = el("button", { attrs: { "data-ig-download": "" } }, "Download");
	button.disabled = panel.busy || !c.safe_format;
	if (!c.safe_format) button.title = "A pickle file (.ckpt, .pt, .bin) can run code: use the Download Model node with allow_pickle if you trust it";
	button.addEventListener("click", () => start(c, kind));
	return el("div", {
		className: "ig-model",
		attrs: { "data-ig-candidate": c.name }
	}, el("div", { className: "ig-library-bar" }, el("span", { className: "ig-model-title" }, c.name), el("span", { className: "ig-badge" }, c.base_model ?? "base unknown"), el("span", { className: "ig-badge" }, SITE_NAMES[c.site] ?? c.site), el("span", { className: "ig-badge" }, size), button), el("div", { className: "ig-library-status" }, `${c.file_name}. Licence: ${c.licence_text}. ${c.why} `, pageLink(c.page)));
}
/** The section. `bases` gives the base models to offer; `downloaded` runs after a file arrived. */
function downloadPanel(bases, report, downloaded) {
	const words = el("datalist", { attrs: { id: "ig-searchable-words" } });
	const concept = el("input", { attrs: {
		type: "search",
		list: "ig-searchable-words",
		placeholder: "A concept or style, e.g. pixel art",
		"aria-label": "Concept"
	} });
	const kind = el("select", { attrs: { "aria-label": "Kind to find" } });
	for (const [value, label] of [
		["loras", "LoRAs"],
		["checkpoints", "Checkpoints"],
		["vae", "VAEs"]
	]) {
		const o = el("option", {}, label);
		o.value = value;
		kind.append(o);
	}
	const base = el("select", { attrs: { "aria-label": "Base model to find" } });
	const find = el("button", { title: "Only the concept, the kind and the base model are sent" }, "Find online");
	const results = el("div", {
		className: "ig-library-list",
		attrs: { "data-ig-candidates": "" }
	});
	const panel = {
		busy: false,
		progress: el("div", { className: "ig-library-progress" })
	};
	panel.progress.hidden = true;
	let shown = {
		list: [],
		kind: "loras"
	};
	const render = () => results.replaceChildren(...shown.list.map((c) => candidateItem(c, shown.kind, panel, start)));
	async function search() {
		const word = concept.value.trim();
		if (!word) return;
		const offered = Array.from(words.options, (o) => o.value);
		if (offered.length && !offered.includes(word)) {
			toast("warn", "Pick a listed concept or style", `"${word}" is not one of the words the pack searches for (e.g. ${offered.slice(0, 3).join(", ")}).`);
			return;
		}
		find.disabled = true;
		results.replaceChildren("Searching…");
		try {
			const answer = await postJson("/download/candidates", "Online search", {
				concept: word,
				kind: kind.value,
				base_model: base.value || null
			});
			shown = {
				list: answer.candidates,
				kind: kind.value
			};
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
	async function start(c, k) {
		if (panel.busy) return;
		const size = c.size === null ? "unknown size" : bytes(c.size);
		if (!window.confirm(`Download ${c.name} (${c.file_name}, ${size}) into ComfyUI's ${k} folder?\nLicence: ${c.licence_text}`)) return;
		panel.busy = true;
		render();
		showProgress(panel, {
			state: "running",
			name: c.file_name,
			done: 0,
			total: c.size,
			error: null
		});
		try {
			const answer = await postJson("/download", "Download", {
				kind: k,
				...c.target,
				confirm: true
			});
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
		if (e.key === "Enter") search();
	});
	const section = el("details", {
		className: "ig-model",
		attrs: { "data-ig-download-panel": "" }
	}, el("summary", {}, el("span", { className: "ig-model-title" }, "Find models online")), el("div", { className: "ig-library-bar" }, concept, words), el("div", { className: "ig-library-bar" }, kind, base, find), panel.progress, results);
	section.addEventListener("toggle", () => {
		if (!section.open) return;
		const current = base.value;
		base.replaceChildren(el("option", { attrs: { value: "" } }, "Any base model"), ...bases().map((b) => el("option", { attrs: { value: b } }, b)));
		base.value = current;
		if (!words.childElementCount) searchableWords().then((list) => words.replaceChildren(...list.map((w) => el("option", { attrs: { value: w } })))).catch(report);
	});
	listening = panel;
	if (!listenerAdded) {
		listenerAdded = true;
		onServerEvent(DOWNLOAD_PROGRESS_EVENT, (p) => {
			if (listening?.busy && p?.state === "running" && typeof p.done === "number") showProgress(listening, p);
		});
	}
	return section;
}
// web/src/duplicates_panel.ts
var HOW = {
	sha256: "same SHA-256",
	autov3: "same tensors (AutoV3)",
	link: "one file under several names",
	fingerprint: "possibly the same: one size, same first and last bytes (not hashed yet)"
};
function groupItem(group) {
	const [kept, ...copies] = group.files;
	const waste = group.wasted_bytes ? `${bytes(group.wasted_bytes)} in copies` : "links to one file: no bytes wasted";
	return el("li", { attrs: { "data-ig-duplicate": group.confirmed ? "confirmed" : "possible" } }, el("div", {}, `${kept?.name ?? ""} (${bytes(group.size)}; ${HOW[group.how] ?? group.how})`), el("div", { className: "ig-muted" }, `${copies.length} cop${copies.length === 1 ? "y" : "ies"}: ${copies.map((f) => f.name).join(", ")}; ${group.confirmed ? waste : "confirm to know"}`));
}
function headline(summary) {
	if (!summary.groups && !summary.unconfirmed_groups) return "Duplicates: none found";
	return `Duplicates: ${[summary.groups ? `${summary.copies} cop${summary.copies === 1 ? "y" : "ies"}, ${bytes(summary.wasted_bytes)} wasted` : "", summary.unconfirmed_groups ? `${summary.unconfirmed_groups} possible` : ""].filter(Boolean).join("; ")}`;
}
/** The section for one listing; `reload` lists the library again after a confirmation. */
function duplicatesPanel(groups, summary, reload, report) {
	const confirm = el("button", {
		title: "Hash only the possible copies to confirm them (nothing is sent or deleted)",
		attrs: { "data-ig-confirm-duplicates": "" }
	}, "Confirm by hashing");
	confirm.disabled = summary.unconfirmed_groups === 0;
	confirm.addEventListener("click", () => {
		confirm.disabled = true;
		confirm.textContent = "Hashing…";
		(async () => {
			try {
				const found = await confirmDuplicates();
				toast("success", "Duplicates", `${found.copies} cop${found.copies === 1 ? "y" : "ies"} confirmed, ${bytes(found.wasted_bytes)} wasted. Nothing was deleted.`);
				await reload();
			} catch (error) {
				report(error);
				confirm.disabled = false;
				confirm.textContent = "Confirm by hashing";
			}
		})();
	});
	return el("details", {
		className: "ig-model",
		attrs: { "data-ig-duplicates-panel": "" }
	}, el("summary", {}, el("span", { className: "ig-model-title" }, headline(summary))), el("p", { className: "ig-muted" }, "The recommender uses the first file of each confirmed group. Intelligent Generation deletes nothing: remove the copies you do not want yourself."), el("ul", {}, ...groups.map(groupItem)), el("div", { className: "ig-library-bar" }, confirm));
}
// web/src/updates_panel.ts
/** The section; `downloaded` lists the library again after a new version arrived. */
function updatesPanel(report, downloaded) {
	const check = el("button", {
		title: "Ask CivitAI for newer versions (only the CivitAI model ids of your models are sent)",
		attrs: { "data-ig-check-updates": "" }
	}, "Check for updates");
	const results = el("div", {
		className: "ig-library-list",
		attrs: { "data-ig-updates": "" }
	});
	async function download(m, v, button) {
		const target = {
			kind: m.kind,
			source: "civitai",
			civitai_version: v.version_id
		};
		button.disabled = true;
		try {
			const plan = await postJson("/download", "Download", target);
			const size = typeof plan.size === "number" ? bytes(plan.size) : "unknown size";
			if (!window.confirm(`Download ${v.name} (${plan.file_name ?? "file"}, ${size}) into ComfyUI's ${m.kind} folder, beside ${m.name}?\nIts licence is on its CivitAI page: ${plan.page ?? "(unknown)"}`)) return;
			toast("success", `${(await postJson("/download", "Download", {
				...target,
				confirm: true
			})).name} downloaded and verified`, `The older ${m.name} stays; remove it yourself if you want.`);
			await downloaded();
		} catch (error) {
			report(error);
		} finally {
			button.disabled = false;
		}
	}
	function item(m) {
		const newest = m.newer[0];
		const button = el("button", { attrs: { "data-ig-update-download": "" } }, newest ? `Download ${newest.name}` : "");
		button.addEventListener("click", () => newest && void download(m, newest, button));
		return el("div", {
			className: "ig-model",
			attrs: { "data-ig-update": m.name }
		}, el("div", {}, m.summary), newest ? el("div", { className: "ig-library-bar" }, button) : null);
	}
	check.addEventListener("click", () => {
		check.disabled = true;
		results.replaceChildren("Asking CivitAI…");
		(async () => {
			try {
				const answer = await postJson("/updates", "Update check", {});
				const shown = answer.models.filter((m) => m.newer.length || !m.found);
				results.replaceChildren(...shown.map(item));
				if (!shown.length) results.replaceChildren(answer.checked ? `All ${answer.checked} checked models are up to date.` : "No model is known to CivitAI yet: fetch metadata first.");
				toast("success", "Update check", `${answer.checked} checked, ${answer.with_updates} with a newer version for the same base model.`);
			} catch (error) {
				results.replaceChildren();
				report(error);
			} finally {
				check.disabled = false;
			}
		})();
	});
	return el("details", {
		className: "ig-model",
		attrs: { "data-ig-updates-panel": "" }
	}, el("summary", {}, el("span", { className: "ig-model-title" }, "Updates")), el("p", { className: "ig-muted" }, "Newer versions for the same base model of the models CivitAI knows. Only their CivitAI model ids are sent; nothing downloads without your confirmation."), el("div", { className: "ig-library-bar" }, check), results);
}
// web/src/stats_panel.ts
var loadStats = () => request("/stats", "Library statistics");
var loadRatings = async () => (await request("/feedback", "Ratings")).ratings;
var deleteRatings = async () => (await request("/feedback", "Deleting ratings", { method: "DELETE" })).deleted;
var KIND_NAMES = {
	checkpoints: "Checkpoints",
	loras: "LoRAs",
	vae: "VAEs"
};
function statRows(stats) {
	const rows = [];
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
	if (system?.memory.available && system.memory.total_bytes !== void 0) rows.push(["RAM", `${bytes(system.memory.available_bytes ?? 0)} free of ${bytes(system.memory.total_bytes)}`]);
	if (system?.gpu.available) for (const gpu of system.gpu.devices) {
		const temperature = gpu.temperature_c === null ? "" : `, ${gpu.temperature_c} °C`;
		rows.push(["GPU", `${gpu.name}: ${bytes(gpu.memory_used_bytes)} of ${bytes(gpu.memory_total_bytes)} used${temperature}`]);
	}
	else if (system) rows.push(["GPU", system.gpu.reason ?? "none"]);
	return rows;
}
function table(rows) {
	return el("dl", { attrs: { "data-ig-stats": "" } }, ...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}
function saveAsFile(name, text) {
	const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
	el("a", { attrs: {
		href: url,
		download: name
	} }).click();
	setTimeout(() => URL.revokeObjectURL(url), 1e4);
}
/** The section, filled in when opened (statistics ask psutil and pynvml, so not on every list reload). */
function statsPanel(report) {
	const body = el("div", { className: "ig-stats-body" }, "Loading…");
	const section = el("details", {
		className: "ig-model",
		attrs: { "data-ig-stats-panel": "" }
	}, el("summary", {}, el("span", { className: "ig-model-title" }, "Statistics and ratings")), body);
	async function fill() {
		body.replaceChildren("Loading…");
		try {
			const [stats, ratings] = await Promise.all([loadStats(), loadRatings()]);
			const exportButton = el("button", {
				title: "Save every rating as a JSON file",
				attrs: { "data-ig-export-ratings": "" }
			}, "Export ratings");
			exportButton.addEventListener("click", () => {
				saveAsFile(`intelligent-generation-ratings-${(/* @__PURE__ */ new Date()).toISOString().slice(0, 10)}.json`, JSON.stringify(ratings, null, 2));
			});
			const deleteButton = el("button", {
				title: "Forget every rating on this machine",
				attrs: { "data-ig-delete-ratings": "" }
			}, "Delete ratings");
			deleteButton.addEventListener("click", () => void removeAll(ratings.length));
			exportButton.disabled = deleteButton.disabled = ratings.length === 0;
			const rated = ratings.length ? `${ratings.length} rated image${ratings.length === 1 ? "" : "s"}, kept on this machine` : "No ratings yet";
			body.replaceChildren(table(statRows(stats)), el("div", { className: "ig-library-bar" }, el("span", { attrs: { "data-ig-ratings-count": "" } }, rated), exportButton, deleteButton));
		} catch (error) {
			body.replaceChildren("Statistics could not be loaded.");
			report(error);
		}
	}
	async function removeAll(count) {
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
		if (section.open) fill();
	});
	return section;
}
// web/src/library_tab.ts
var TAB_ID = "intelligent-generation-library";
var MAX_SHOWN = 300;
var state = {
	models: [],
	listing: null,
	filter: {
		query: "",
		kind: "",
		base: ""
	},
	fetching: null,
	open: /* @__PURE__ */ new Set()
};
var view = null;
function reportError(error) {
	if (error instanceof RouteError) toast("error", error.message, error.hint);
	else {
		toast("error", "Intelligent Generation", `${String(error)}. See the browser console for details.`);
		console.error(error);
	}
}
function option(value, label) {
	const o = el("option", {}, label);
	o.value = value;
	return o;
}
function itemFor(m) {
	const key = `${m.kind}/${m.name}`;
	return modelItem(m, {
		open: state.open.has(key),
		fetching: state.fetching !== null,
		onToggle: (open) => open ? state.open.add(key) : state.open.delete(key),
		onFetch: () => void runFetch({
			kind: m.kind,
			name: m.name
		}, m.title || m.name),
		report: reportError
	});
}
function renderList() {
	if (!view) return;
	const shown = applyFilter(state.models, state.filter);
	view.list.replaceChildren(...shown.slice(0, MAX_SHOWN).map(itemFor));
	const more = shown.length > MAX_SHOWN ? ` (first ${MAX_SHOWN} shown; refine the search)` : "";
	view.status.textContent = `${shown.length} of ${state.models.length} models${more}`;
}
function renderBaseOptions() {
	if (!view) return;
	const current = state.filter.base;
	view.base.replaceChildren(option("", "All base models"), ...baseModels(state.models).map((b) => option(b, b)));
	view.base.value = current;
	if (view.base.value !== current) state.filter.base = "";
}
function renderProgress() {
	if (!view) return;
	const f = state.fetching;
	view.fetchAll.disabled = f !== null;
	for (const button of view.list.querySelectorAll("button[data-ig-fetch]")) button.disabled = f !== null;
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
	const counts = f.total <= 0 ? "starting" : f.phase === "hashing" ? `${Math.floor(100 * f.done / f.total)}%` : `${f.done} / ${f.total}`;
	const text = `Fetching metadata for ${f.label}: ${counts}${f.name ? ` (${f.name})` : ""}`;
	view.progress.replaceChildren(bar, el("span", { attrs: { "data-ig-progress-text": "" } }, text));
	view.progress.hidden = false;
}
function describe(summary) {
	const parts = [];
	if (summary.found !== void 0) parts.push(`${summary.found} found`);
	if (summary.not_found !== void 0) parts.push(`${summary.not_found} not found`);
	if (summary.hashed !== void 0) parts.push(`${summary.hashed} hashed`);
	if (summary.errors) parts.push(`${summary.errors} failed (see the ComfyUI console)`);
	return parts.join(", ") || "Done.";
}
async function runFetch(target, label) {
	if (state.fetching) return;
	state.fetching = {
		label,
		done: 0,
		total: 0,
		name: "",
		phase: ""
	};
	renderProgress();
	try {
		const summary = await fetchMetadata(target);
		toast(summary.errors ? "warn" : "success", `Metadata fetched for ${label}`, describe(summary));
		await reload();
	} catch (error) {
		reportError(error);
	} finally {
		state.fetching = null;
		renderProgress();
	}
}
async function reload() {
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
function renderDuplicates() {
	if (!view || !state.listing) return;
	const { duplicates, duplicate_summary } = state.listing;
	view.duplicates.replaceChildren(duplicatesPanel(duplicates, duplicate_summary, reload, reportError));
}
function mount(container) {
	const search = el("input", { attrs: {
		type: "search",
		placeholder: "Search names, tags, trigger words",
		"aria-label": "Search models"
	} });
	search.value = state.filter.query;
	search.addEventListener("input", () => {
		state.filter.query = search.value;
		renderList();
	});
	const kind = el("select", { attrs: { "aria-label": "Kind" } }, option("", "All kinds"), ...Object.entries(KIND_LABELS).map(([value, label]) => option(value, `${label}s`)));
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
	const status = el("div", {
		className: "ig-library-status",
		attrs: { role: "status" }
	});
	const progress = el("div", { className: "ig-library-progress" });
	const list = el("div", { className: "ig-library-list" });
	const duplicates = el("div");
	container.replaceChildren(el("div", {
		className: "ig-library",
		attrs: { "data-ig-library": "" }
	}, el("div", { className: "ig-library-bar" }, search), el("div", { className: "ig-library-bar" }, kind, base, refresh, fetchAll), statsPanel(reportError), duplicates, updatesPanel(reportError, reload), downloadPanel(() => baseModels(state.models), reportError, reload), progress, status, list));
	view = {
		search,
		kind,
		base,
		fetchAll,
		status,
		progress,
		list,
		duplicates
	};
	renderBaseOptions();
	renderList();
	renderDuplicates();
	renderProgress();
}
function registerLibraryTab() {
	app.extensionManager.registerSidebarTab({
		id: TAB_ID,
		icon: "pi pi-database",
		title: "Model Library",
		tooltip: "Model Library (Intelligent Generation)",
		type: "custom",
		render: (container) => {
			mount(container);
			reload();
		},
		destroy: () => {
			view = null;
		}
	});
	onServerEvent(FETCH_PROGRESS_EVENT, (p) => {
		if (!state.fetching || typeof p?.done !== "number" || typeof p.total !== "number") return;
		const text = (value) => typeof value === "string" ? value : "";
		state.fetching = {
			...state.fetching,
			done: p.done,
			total: p.total,
			name: text(p.name),
			phase: text(p.phase)
		};
		renderProgress();
	});
}
// web/src/node_errors.ts
var ours = /* @__PURE__ */ new Map();
function trackNodeType(type, displayName) {
	ours.set(type, displayName);
}
function watchNodeErrors() {
	api.addEventListener("execution_error", ({ detail }) => {
		const name = ours.get(detail.node_type);
		if (name === void 0) return;
		toast("error", `${name} failed`, detail.exception_message || "See the ComfyUI console for details.");
	});
}
// web/src/open_workflow.ts
async function workflowOf(file) {
	if (file.type !== "image/png") return null;
	const read = window.comfyAPI?.pnginfo?.getPngMetadata;
	const text = read ? await read(file) : {};
	if (!text.workflow || !text.parameters) return null;
	try {
		return JSON.parse(text.workflow);
	} catch {
		return null;
	}
}
function openWorkflowsFirst() {
	const original = app.handleFile.bind(app);
	app.handleFile = async (file, openSource) => {
		const workflow = await workflowOf(file);
		if (workflow && typeof workflow === "object") {
			await app.loadGraphData(workflow, true, true, file.name.replace(/\.\w+$/, ""), openSource ? { openSource } : {});
			return;
		}
		return original(file, openSource);
	};
}
var WIDGET = "ig_rating";
var HEIGHT_PX = 64;
/** The output-folder names of the images a run of the node saved: "subfolder/file.png". */
function savedImages(output) {
	const images = output?.["images"];
	if (!Array.isArray(images)) return [];
	return images.filter((i) => typeof i?.filename === "string" && (i.type ?? "output") === "output").map((i) => i.subfolder ? `${i.subfolder}/${i.filename}` : i.filename);
}
async function rateImage(image, rating, comment) {
	await postJson("/feedback", "Rating", {
		image,
		rating,
		comment
	});
}
var controls = /* @__PURE__ */ new WeakMap();
function showStars(control, stars) {
	control.stars.forEach((button, i) => {
		button.textContent = i < stars ? "★" : "☆";
		button.setAttribute("aria-pressed", String(i < stars));
	});
}
function refresh(control) {
	const given = control.rated.get(control.picker.value) ?? 0;
	showStars(control, given);
	control.status.textContent = given ? `Rated ${given} of 5` : "Not rated";
}
function build() {
	const picker = el("select", { attrs: { "aria-label": "Image to rate" } });
	const comment = el("input", { attrs: {
		type: "text",
		placeholder: "Comment (optional)",
		"aria-label": "Comment"
	} });
	const status = el("span", {
		className: "ig-rating-status",
		attrs: { role: "status" }
	});
	const stars = [
		1,
		2,
		3,
		4,
		5
	].map((n) => el("button", {
		className: "ig-star",
		title: `${n} of 5`,
		attrs: {
			type: "button",
			"data-ig-star": String(n)
		}
	}, "☆"));
	const control = {
		root: el("div", {
			className: "ig-rating",
			attrs: { "data-ig-rating": "" }
		}, el("div", { className: "ig-rating-row" }, el("span", {}, "Rate:"), ...stars, status), el("div", { className: "ig-rating-row" }, picker, comment)),
		picker,
		stars,
		comment,
		status,
		rated: /* @__PURE__ */ new Map()
	};
	stars.forEach((button, i) => button.addEventListener("click", () => void submit(control, i + 1)));
	picker.addEventListener("change", () => refresh(control));
	return control;
}
async function submit(control, stars) {
	const image = control.picker.value;
	if (!image) return;
	control.stars.forEach((b) => b.disabled = true);
	try {
		await rateImage(image, stars, control.comment.value.trim());
		control.rated.set(image, stars);
		toast("success", `Rated ${stars} of 5`, `${image}: similar prompts will lean on this rating.`);
	} catch (error) {
		const known = error instanceof RouteError;
		toast("error", known ? error.message : "Rating failed", known ? error.hint : String(error));
	} finally {
		control.stars.forEach((b) => b.disabled = false);
		refresh(control);
	}
}
function showOn(node, images) {
	let control = controls.get(node);
	if (!control || !node.widgets?.some((w) => w.name === WIDGET)) {
		control = build();
		addDisplayWidget(node, WIDGET, control.root, {
			min: () => HEIGHT_PX,
			max: () => HEIGHT_PX
		});
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
function addRatingControl(nodeType) {
	afterExecuted(nodeType, (node, output) => {
		const images = savedImages(output);
		if (images.length) showOn(node, images);
	});
}
// web/src/settings.ts
var TAB = "Intelligent Generation";
var SETTING_IDS = {
	ollamaUrl: "IntelligentGeneration.Ollama.URL",
	ollamaModel: "IntelligentGeneration.Ollama.Model",
	ollamaKeepAlive: "IntelligentGeneration.Ollama.KeepAlive",
	lookupHost: "IntelligentGeneration.Lookup.Host",
	lookupProxy: "IntelligentGeneration.Lookup.Proxy",
	namingMode: "IntelligentGeneration.Save.NamingMode",
	quality: "IntelligentGeneration.Generation.Quality",
	downloadPickleOverHttp: "IntelligentGeneration.Download.PickleOverHttp",
	storePreviews: "IntelligentGeneration.Lookup.StorePreviews"
};
var PROXY_SCHEMES = [
	"socks5h://",
	"http://",
	"https://"
];
var usableUrl = (v) => /^https?:\/\/\S+$/.test(v.includes("://") ? v : `http://${v}`);
function warnUnless(valid, what, consequence) {
	return (value) => {
		const text = String(value ?? "").trim();
		if (!valid(text)) toast("warn", `${what}: "${text}" is not usable`, consequence);
	};
}
var SETTINGS = [
	{
		id: SETTING_IDS.ollamaUrl,
		sortOrder: 3,
		category: [
			TAB,
			"Ollama",
			"Server URL"
		],
		name: "Ollama server URL",
		tooltip: "Where Prompt Analyzer asks a local LLM. When it does not answer, keyword rules are used.",
		type: "text",
		defaultValue: "http://127.0.0.1:11434",
		onChange: warnUnless(usableUrl, "Ollama server URL", "Prompt Analyzer uses http://127.0.0.1:11434 until you correct it.")
	},
	{
		id: SETTING_IDS.ollamaModel,
		sortOrder: 2,
		category: [
			TAB,
			"Ollama",
			"Model"
		],
		name: "Ollama model",
		tooltip: "A model name from `ollama list`, or auto for the first suitable one installed.",
		type: "text",
		defaultValue: "auto"
	},
	{
		id: SETTING_IDS.ollamaKeepAlive,
		sortOrder: 1,
		category: [
			TAB,
			"Ollama",
			"Keep alive"
		],
		name: "Ollama keep-alive",
		tooltip: "How long Ollama keeps the model loaded after answering (0 frees the GPU for diffusion at once; e.g. 5m).",
		type: "text",
		defaultValue: "0"
	},
	{
		id: SETTING_IDS.lookupHost,
		sortOrder: 2,
		category: [
			TAB,
			"Online lookups",
			"Host"
		],
		name: "Metadata lookup host",
		tooltip: "Only file hashes are sent, and only when you run the Metadata Fetcher.",
		type: "combo",
		options: ["https://civitai.com", "https://civitai.red"],
		defaultValue: "https://civitai.com"
	},
	{
		id: SETTING_IDS.lookupProxy,
		sortOrder: 1,
		category: [
			TAB,
			"Online lookups",
			"Proxy"
		],
		name: "Proxy for lookups (optional)",
		tooltip: "For example socks5h://127.0.0.1:9050 (Tor). When the proxy is down or unusable, nothing is sent.",
		type: "text",
		defaultValue: "",
		onChange: warnUnless((v) => v === "" || PROXY_SCHEMES.some((s) => v.startsWith(s)), "Lookup proxy", "Lookups are refused (nothing is sent) until you correct it: use socks5h://host:port or http://host:port.")
	},
	{
		id: SETTING_IDS.namingMode,
		category: [
			TAB,
			"Saving",
			"Naming"
		],
		name: "Default file naming",
		tooltip: "standard: UTC time and a random id; descriptive: adds words of the prompt; guid: a random UUID only.",
		type: "combo",
		options: [
			"standard",
			"descriptive",
			"guid"
		],
		defaultValue: "standard"
	},
	{
		id: SETTING_IDS.quality,
		category: [
			TAB,
			"Generation",
			"Quality"
		],
		name: "Default quality",
		tooltip: "Scales the recommended steps: fast, balanced, high or ultra.",
		type: "combo",
		options: [
			"fast",
			"balanced",
			"high",
			"ultra"
		],
		defaultValue: "balanced"
	},
	{
		id: SETTING_IDS.downloadPickleOverHttp,
		category: [
			TAB,
			"Downloads",
			"Pickle files"
		],
		name: "Pickle files through the editor's download route",
		tooltip: "A .ckpt, .pt or .bin file can run code when loaded. refuse: only the Download Model node (with allow_pickle) fetches them.",
		type: "combo",
		options: ["refuse", "allow"],
		defaultValue: "refuse"
	},
	{
		id: SETTING_IDS.storePreviews,
		category: [
			TAB,
			"Online lookups",
			"Previews"
		],
		name: "Keep an example image as the preview when a lookup finds a model",
		tooltip: "off: never. Else the first of CivitAI's example images rated at most this (PG, PG-13, R, X, XXX) is downloaded from CivitAI's image host into the pack's cache, for the Model Library's thumbnails.",
		type: "combo",
		options: [
			"off",
			"PG",
			"PG-13",
			"R",
			"X",
			"XXX"
		],
		defaultValue: "off"
	}
];
// web/src/styles.ts
var CSS = `
.ig-explanation {
  box-sizing: border-box; width: 100%; height: 100%; overflow-y: auto; padding: 4px 6px;
  font: 12px/1.35 system-ui, sans-serif; white-space: pre-wrap; overflow-wrap: anywhere;
  color: var(--input-text, #ddd); background: var(--comfy-input-bg, #222); border-radius: 6px;
}
.ig-explanation-head { font-weight: 600; }
.ig-rating { display: flex; flex-direction: column; gap: 4px; font: 12px/1.35 system-ui, sans-serif;
  color: var(--input-text, #ddd); }
.ig-rating-row { display: flex; gap: 4px; align-items: center; }
.ig-rating input, .ig-rating select { flex: 1; min-width: 0; font: inherit; color: inherit;
  background: var(--comfy-input-bg, #222); border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 2px 6px; }
.ig-star { font-size: 18px; line-height: 1; padding: 0 2px; cursor: pointer; color: #e8b931; background: none; border: none; }
.ig-star:disabled { opacity: 0.5; cursor: default; }
.ig-rating-status { margin-left: 6px; color: var(--descrip-text, #999); }
.ig-library { display: flex; flex-direction: column; gap: 8px; height: 100%; padding: 8px;
  box-sizing: border-box; font: 13px/1.4 system-ui, sans-serif; color: var(--fg-color, #ddd); }
.ig-library-bar { display: flex; gap: 6px; flex-wrap: wrap; align-items: center; }
.ig-library input, .ig-library select, .ig-library button {
  font: inherit; color: var(--input-text, #ddd); background: var(--comfy-input-bg, #222);
  border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 3px 8px; }
.ig-library input[type="search"] { flex: 1 1 160px; min-width: 0; }
.ig-library button { cursor: pointer; }
.ig-library button:disabled { opacity: 0.5; cursor: default; }
.ig-library-status { color: var(--descrip-text, #999); font-size: 12px; }
.ig-thumb { width: 40px; height: 40px; object-fit: cover; border-radius: 4px; vertical-align: middle;
  margin-right: 6px; }
.ig-thumb-blur { filter: blur(8px); cursor: pointer; }
.ig-muted { color: var(--descrip-text, #999); font-size: 12px; overflow-wrap: anywhere; }
.ig-library-progress { display: flex; gap: 8px; align-items: center; font-size: 12px; }
.ig-library-progress progress { flex: 1; }
.ig-library-list { flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: 4px; }
.ig-model { border: 1px solid var(--border-color, #444); border-radius: 6px; padding: 4px 8px; }
.ig-model > summary { cursor: pointer; display: flex; gap: 6px; align-items: baseline; flex-wrap: wrap; }
.ig-model-title { font-weight: 600; overflow-wrap: anywhere; }
.ig-badge { font-size: 11px; padding: 0 6px; border-radius: 8px; background: var(--comfy-menu-bg, #333);
  border: 1px solid var(--border-color, #444); white-space: nowrap; }
.ig-badge-warn { border-color: #c90; }
.ig-model dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 6px 0; }
.ig-model dt { color: var(--descrip-text, #999); }
.ig-model dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
`;
var installed = false;
function installStyles() {
	if (installed) return;
	installed = true;
	const style = document.createElement("style");
	style.dataset["pack"] = "intelligent-generation";
	style.textContent = CSS;
	document.head.append(style);
}
// web/src/widget_defaults.ts
var DEFAULTS = {
	IntelligentSaveWithMetadata: [{
		widget: "filename_mode",
		setting: SETTING_IDS.namingMode
	}],
	IntelligentAutoModelSelect: [{
		widget: "quality",
		setting: SETTING_IDS.quality
	}]
};
function apply(node, defaults) {
	for (const { widget: name, setting } of defaults) {
		const widget = node.widgets?.find((w) => w.name === name);
		const value = app.extensionManager.setting.get(setting);
		const options = (widget?.options)?.values;
		if (widget && typeof value === "string" && Array.isArray(options) && options.includes(value)) widget.value = value;
	}
}
function addWidgetDefaults(nodeType, nodeData) {
	const defaults = DEFAULTS[nodeData.name];
	if (!defaults) return;
	const proto = nodeType.prototype;
	const previous = proto.onNodeCreated;
	proto.onNodeCreated = function() {
		previous?.call(this);
		apply(this, defaults);
	};
}
// web/src/main.ts
app.registerExtension({
	name: "IntelligentGeneration",
	settings: SETTINGS,
	beforeRegisterNodeDef(nodeType, nodeData) {
		if (!isOurNode(nodeData)) return;
		trackNodeType(nodeData.name, nodeData.display_name || nodeData.name);
		addExplanationDisplay(nodeType);
		addWidgetDefaults(nodeType, nodeData);
		if (nodeData.name === "IntelligentSaveWithMetadata") addRatingControl(nodeType);
	},
	setup() {
		installStyles();
		watchNodeErrors();
		registerLibraryTab();
		openWorkflowsFirst();
	}
});
