// Drives the real ComfyUI frontend with the pack in Debian's headless Chromium (playwright-core, never a
// downloaded browser) and records what a user would see. It does not judge: tests/browser/test_editor.py
// asserts on the observations this writes to $OUT_DIR/observations.json, next to the screenshots.
//
// Scenarios run in order, each even when an earlier one failed (its failure is recorded as {error}).
// Environment: COMFY_URL, OUT_DIR, CHROMIUM (default /usr/bin/chromium), PROBE_MODEL (a LoRA whose
// sidecar holds markup), BROKEN_CHECKPOINT (a truncated file in the checkpoints folder).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.COMFY_URL;
const out = process.env.OUT_DIR;
const probe = process.env.PROBE_MODEL ?? "";
const broken = process.env.BROKEN_CHECKPOINT ?? "";
if (!url || !out) throw new Error("COMFY_URL and OUT_DIR are required");
mkdirSync(out, { recursive: true });

// Upper bounds for waiting, generous for slow CI machines; nothing here measures time.
const WAIT = { ui: 30_000, start: 90_000, run: 300_000 };
const PACK = "intelligent_generation";
const observations = { consoleErrors: [], packFiles: [] };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true, // playwright passes --headless
  // Flags that work as root without a display; the last four keep Chromium off the (closed) network.
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run"],
});
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } }); // a fresh, empty profile
const page = await context.newPage();
page.setDefaultTimeout(WAIT.ui);
page.on("pageerror", (e) => observations.consoleErrors.push(`pageerror: ${e.stack ?? e.message}`));
page.on("console", (m) => {
  if (m.type() === "error") observations.consoleErrors.push(`${m.text()} @ ${m.location().url}`);
});
page.on("response", (r) => { // what the browser loaded from the pack's web folder
  const path = new URL(r.url()).pathname;
  if (path.startsWith(`/extensions/${PACK}/`)) observations.packFiles.push({ path, status: r.status() });
});

// --- helpers -----------------------------------------------------------------------------------------

const shot = (name) => page.screenshot({ path: join(out, `${name}.png`) });

async function toastText(pattern) {
  const toast = page.locator(".p-toast-message", { hasText: pattern }).first();
  await toast.waitFor();
  return (await toast.innerText()).trim();
}

async function closeToasts() {
  await page.evaluate(() => window.comfyAPI.app.app.extensionManager.toast.removeAll());
}

async function closeDialogs() {
  for (const button of await page.locator(".p-dialog-close-button:visible").all()) await button.click();
  await page.locator(".p-dialog-mask").waitFor({ state: "detached" });
}

async function serverJson(path) {
  return page.evaluate(async (p) => {
    const r = await window.comfyAPI.api.api.fetchApi(p);
    return { status: r.status, body: r.headers.get("content-type")?.includes("json") ? await r.json() : null };
  }, path);
}

const graphNodes = () => page.evaluate(() => window.comfyAPI.app.app.graph.nodes.map((n) => n.type));

// Puts a node at the top left at 100% zoom: below about 60% the canvas draws no text and hides DOM widgets.
async function focusNode(type) {
  const found = await page.evaluate((t) => {
    const app = window.comfyAPI.app.app;
    const node = app.graph.nodes.find((n) => n.type === t);
    if (!node) return false;
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [80 - node.pos[0], 120 - node.pos[1]];
    app.canvas.setDirty(true, true);
    return true;
  }, type);
  if (found) await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return found;
}

// The whole graph in view, for a person to look at (the templates' thumbnails are cut from these).
async function overview() {
  await page.evaluate(() => {
    const app = window.comfyAPI.app.app;
    const nodes = app.graph.nodes;
    const left = Math.min(...nodes.map((n) => n.pos[0])), top = Math.min(...nodes.map((n) => n.pos[1] - 30));
    const right = Math.max(...nodes.map((n) => n.pos[0] + n.size[0]));
    const bottom = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
    const scale = Math.min(1, 1400 / (right - left), 780 / (bottom - top));
    app.canvas.ds.scale = scale;
    app.canvas.ds.offset = [80 / scale - left, 170 / scale - top]; // below the floating toolbars
    app.canvas.setDirty(true, true);
  });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function openTemplate(name) {
  await page.locator(".templates-tab-button").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByText(PACK, { exact: true }).first().click(); // the pack's category in the browser
  const card = dialog.getByText(name, { exact: true }).first();
  await card.waitFor();
  await shot(`05-templates-${name}`);
  await card.click();
  await dialog.waitFor({ state: "detached" });
}

// The tiny test models draw noise and take minutes for a 512x512 image on a CPU: the latent's size is
// taken off Auto Model Select's outputs and set to 64x64, as a user would by editing the node. A size
// read from an image (Load Generation Metadata) stays: the example image is 64x64.
function shrinkLatent() {
  return page.evaluate(() => {
    const graph = window.comfyAPI.app.app.graph;
    const latent = graph.nodes.find((n) => n.type === "EmptyLatentImage");
    if (!latent) return false;
    for (const name of ["width", "height"]) {
      const slot = latent.inputs.findIndex((i) => i.name === name);
      if (slot >= 0 && latent.inputs[slot].link != null) {
        if (latent.getInputNode(slot)?.type === "IntelligentLoadGenerationMetadata") return false;
        latent.disconnectInput(slot);
      }
      latent.widgets.find((w) => w.name === name).value = 64;
    }
    graph.setDirtyCanvas(true, true);
    return true;
  });
}

/** Queues the graph with the Run button; resolves with how the run ended ("success" or the error). */
async function run() {
  await page.evaluate(() => {
    window.igRun = null;
    const api = window.comfyAPI.api.api;
    const end = (state) => (e) => (window.igRun ??= { state, message: e.detail?.exception_message ?? null });
    api.addEventListener("execution_success", end("success"), { once: true });
    api.addEventListener("execution_error", end("error"), { once: true });
  });
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.waitForFunction(() => window.igRun !== null, null, { timeout: WAIT.run, polling: 500 });
  const ended = await page.evaluate(() => window.igRun);
  if (ended.state === "success" && (await graphNodes()).includes("IntelligentSaveWithMetadata")) {
    await page.waitForFunction(() => window.comfyAPI.app.app.graph.nodes
      .find((n) => n.type === "IntelligentSaveWithMetadata")?.imgs?.length > 0); // the image loads after the run
  }
  return ended;
}

const explanations = () => page.evaluate(() => window.comfyAPI.app.app.graph.nodes
  .map((n) => [n.type, n.widgets?.find((w) => w.name === "ig_explanation")?.element?.textContent ?? null])
  .filter(([, text]) => text !== null));

// Where each explanation box ended up: its node's bounds (title included, graph units) against every other
// node's, and whether the box shows its whole text or scrolls to it.
const explanationLayout = () => page.evaluate(() => {
  const nodes = window.comfyAPI.app.app.graph.nodes;
  const bounds = (n) => Array.from(n.getBounding());
  return nodes.filter((n) => n.widgets?.some((w) => w.name === "ig_explanation")).map((n) => {
    const box = n.widgets.find((w) => w.name === "ig_explanation").element;
    return { type: n.type, bounds: bounds(n), others: nodes.filter((o) => o !== n).map((o) => [o.type, bounds(o)]),
      scrollHeight: box.scrollHeight, clientHeight: box.clientHeight, overflowY: getComputedStyle(box).overflowY };
  });
});

const SETTING_IDS = ["Ollama.URL", "Ollama.Model", "Ollama.KeepAlive", "Lookup.Host", "Lookup.Proxy",
  "Save.NamingMode", "Generation.Quality", "Download.PickleOverHttp", "Lookup.StorePreviews"].map((n) => `IntelligentGeneration.${n}`);

const serverSettings = async () => (await serverJson("/intelligent-generation/settings")).body?.settings;

function serverSettingIs(id, value) {
  return page.waitForFunction(async ([i, v]) => {
    const r = await window.comfyAPI.api.api.fetchApi("/intelligent-generation/settings");
    return (await r.json()).settings[i] === v;
  }, [id, value], { polling: 250 });
}

// --- scenarios -----------------------------------------------------------------------------------------

const scenarios = {
  async editor() {
    await page.goto(url);
    await page.waitForFunction(() => window.comfyAPI?.app?.app?.graph && document.querySelector(".side-bar-button"),
      null, { timeout: WAIT.start });
    await shot("01-editor");
    return { extensions: await page.evaluate(() => window.comfyAPI.app.app.extensions.map((e) => e.name)) };
  },

  // Browser defaults equal the Python side's; changes made in the settings dialog reach it.
  async settings() {
    const browserDefaults = await page.evaluate((ids) => {
      const store = window.comfyAPI.app.app.extensionManager.setting;
      return Object.fromEntries(ids.map((id) => [id, store.get(id)]));
    }, SETTING_IDS);
    const serverBefore = await serverSettings();
    await page.evaluate(() => window.comfyAPI.app.app.extensionManager.command.execute("Comfy.ShowSettingsDialog"));
    await page.getByRole("option", { name: "Intelligent Generation", exact: true }).click();
    await page.locator('[id="IntelligentGeneration.Save.NamingMode"]').click();
    await page.locator('[id="IntelligentGeneration.Save.NamingMode_list"]')
      .getByRole("option", { name: "guid", exact: true }).click();
    // A proxy the lookups cannot use (socks5:// would resolve names outside it): the editor warns at once.
    const proxy = page.locator('[id="IntelligentGeneration.Lookup.Proxy"]');
    await proxy.fill("socks5://127.0.0.1:9050");
    await proxy.press("Tab");
    const proxyWarning = await toastText("Lookup proxy");
    await shot("02-settings");
    // The frontend saves each change with its own request: wait until the Python side reads them.
    await serverSettingIs("IntelligentGeneration.Save.NamingMode", "guid");
    await serverSettingIs("IntelligentGeneration.Lookup.Proxy", "socks5://127.0.0.1:9050");
    const serverAfter = await serverSettings();
    await proxy.fill(""); // back to no proxy, so that the fetch below may go out (to the loopback CivitAI)
    await proxy.press("Tab");
    await serverSettingIs("IntelligentGeneration.Lookup.Proxy", "");
    await closeDialogs();
    await closeToasts();
    return { browserDefaults, serverBefore, serverAfter, proxyWarning };
  },

  // Every node of the pack is found in the node search; one is added to the canvas.
  async nodeSearch() {
    const nodes = await page.evaluate(async () => {
      const info = await (await window.comfyAPI.api.api.fetchApi("/object_info")).json();
      return Object.values(info).filter((d) => d.category?.startsWith("Intelligent Generation"))
        .map((d) => ({ type: d.name, title: d.display_name }));
    });
    const found = {};
    // A double click on empty canvas opens the node search box; a node added lands where it was opened.
    const search = async (title, where = { x: 250, y: 760 }) => {
      const input = page.getByPlaceholder("Search Nodes...");
      // The canvas tells a double click by its own timing: on a busy machine it may take two for one.
      for (let attempt = 1; ; attempt++) {
        await page.locator("#graph-canvas").dblclick({ position: where });
        try {
          await input.waitFor({ timeout: 5000 });
          break;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
      await input.fill(title);
      const options = page.locator(".p-autocomplete-option"); // the results, not the input's own "chip"
      // The results follow the typing after a moment: wait until they name the node (or time out: not found).
      await options.filter({ hasText: title }).first().waitFor();
      found[title] = await options.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
      return input;
    };
    const add = async (input) => {
      const before = (await graphNodes()).length;
      await input.press("Enter"); // adds the first (highlighted) result
      await page.waitForFunction((n) => window.comfyAPI.app.app.graph.nodes.length > n, before);
      await input.waitFor({ state: "hidden" });
    };
    for (const { title } of nodes) {
      if (title !== "Prompt Analyzer") await (await search(title)).press("Escape");
    }
    const input = await search("Prompt Analyzer");
    await shot("03-node-search");
    await add(input);
    // A new Save With Metadata starts with the naming mode chosen in the settings above (guid).
    await add(await search("Save With Metadata", { x: 1050, y: 560 }));
    await shot("04-node-added");
    return {
      nodes,
      found,
      added: (await graphNodes()).filter((t) => t.startsWith("Intelligent")),
      newSaveNaming: await page.evaluate(() => window.comfyAPI.app.app.graph.nodes
        .find((n) => n.type === "IntelligentSaveWithMetadata").widgets.find((w) => w.name === "filename_mode").value),
    };
  },

  // The Model Library tab: list, search, details; markup from sidecars stays text.
  async library() {
    await page.locator(".intelligent-generation-library-tab-button").click();
    const root = page.locator("[data-ig-library]");
    const status = root.locator("[role=status]");
    await status.filter({ hasText: /^\d+ of \d+ models/ }).waitFor();
    const allStatus = await status.innerText();
    const allItems = await root.locator("[data-ig-model]").evaluateAll((els) => els.map((e) => e.dataset.igModel));
    await shot("08-library");
    await root.getByRole("searchbox").fill("probe");
    await status.filter({ hasText: /^1 of / }).waitFor();
    const item = root.locator(`[data-ig-model="loras/${probe}"]`);
    const thumb = item.locator("[data-ig-thumb]");
    await thumb.evaluate((img) => img.decode());
    const thumbBefore = await thumb.getAttribute("data-ig-thumb");
    await thumb.click();
    const thumbAfter = await thumb.getAttribute("data-ig-thumb");
    const thumbWidth = await thumb.evaluate((img) => img.naturalWidth);
    await item.locator("summary").click();
    await shot("09-library-probe");
    return {
      status: allStatus,
      allItems,
      searchFound: await root.locator("[data-ig-model]").evaluateAll((els) => els.map((e) => e.dataset.igModel)),
      searchStatus: await status.innerText(),
      title: await item.locator(".ig-model-title").innerText(),
      details: await item.locator("dt").evaluateAll((dts) =>
        Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent]))),
      // Markup rendered as HTML would have made elements or run the probe's handlers.
      elementsInList: await root.locator("[data-ig-model] img:not([data-ig-thumb]), [data-ig-model] script, [data-ig-model] b").count(),
      thumbBefore,
      thumbAfter,
      thumbWidth,
      pwned: await page.evaluate(() => globalThis.igPwned ?? null),
    };
  },

  // Copies of one model: listed as possible (one size and fingerprint), confirmed by hashing from the tab.
  async duplicates() {
    const tab = page.locator("[data-ig-library]");
    const panel = () => tab.locator("[data-ig-duplicates-panel]");
    await panel().locator("summary").click();
    const read = async () => ({
      headline: await panel().locator("summary").innerText(),
      groups: await panel().locator("[data-ig-duplicate]").evaluateAll((els) =>
        els.map((e) => ({ state: e.dataset.igDuplicate, text: e.textContent }))),
    });
    const before = await read();
    await panel().locator("[data-ig-confirm-duplicates]").click();
    const toast = await toastText("Duplicates");
    await panel().locator("[data-ig-duplicate='confirmed']", { hasText: process.env.COPY_MODEL }).waitFor({ state: "attached" });
    await panel().locator("summary").click(); // a reload made a new panel, closed
    await shot("13-duplicates");
    const after = await read();
    await closeToasts();
    await tab.getByRole("searchbox").fill("neon city");
    await tab.locator("[data-ig-model]").first().waitFor();
    const badges = await tab.locator("[data-ig-model]").evaluateAll((els) =>
      els.map((e) => [e.dataset.igModel, [...e.querySelectorAll(".ig-badge")].map((b) => b.textContent)]));
    await tab.getByRole("searchbox").fill(probe); // as the library scenario left it, for the fetch
    return { before, toast, after, badges };
  },

  // Fetch one model through the Metadata Fetcher's route (the test's loopback CivitAI knows it).
  async fetch() {
    // Every progress event and every text the progress line shows, however fast the fetch is.
    await page.evaluate(() => {
      window.igTest = { events: [], progressTexts: [] };
      window.comfyAPI.api.api.addEventListener("intelligent-generation.fetch-progress",
        (e) => window.igTest.events.push(e.detail));
      new MutationObserver(() => {
        const text = document.querySelector("[data-ig-progress-text]")?.textContent;
        if (text && window.igTest.progressTexts.at(-1) !== text) window.igTest.progressTexts.push(text);
      }).observe(document.querySelector("[data-ig-library]"), { subtree: true, childList: true, characterData: true });
    });
    const item = page.locator(`[data-ig-model="loras/${probe}"]`);
    const answer = page.waitForResponse((r) => r.url().includes("/intelligent-generation/metadata/fetch")
      && r.request().method() === "POST", { timeout: WAIT.run });
    await item.locator("[data-ig-fetch]").click();
    const response = await answer;
    const toast = await toastText("Metadata fetched");
    // The list reloads after the fetch; the probe's details stay unfolded.
    await item.locator("dd", { hasText: /^found on / }).waitFor();
    await item.scrollIntoViewIfNeeded();
    await shot("10-fetch-done");
    const result = {
      status: response.status(),
      requestBody: response.request().postDataJSON(),
      events: await page.evaluate(() => window.igTest.events),
      progressTexts: await page.evaluate(() => window.igTest.progressTexts),
      progressGone: (await page.locator("[data-ig-progress-text]").count()) === 0,
      toast,
      details: await item.locator("dt").evaluateAll((dts) =>
        Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent]))),
      elementsInList: await page.locator("[data-ig-model] img:not([data-ig-thumb]), [data-ig-model] script, [data-ig-model] b").count(),
      pwned: await page.evaluate(() => globalThis.igPwned ?? null),
    };
    await closeToasts();
    await page.locator(".intelligent-generation-library-tab-button").click(); // close the tab: room for the graph
    return result;
  },

  // Every bundled workflow from the templates browser, queued; the image and explanations on the nodes.
  async templates() {
    const listed = (await serverJson("/workflow_templates")).body?.[PACK] ?? [];
    const runs = {};
    for (const name of listed) {
      await openTemplate(name);
      const types = await graphNodes();
      const shrunk = await shrinkLatent();
      const ended = await run();
      for (const type of ["IntelligentPromptAnalyzer", "IntelligentAutoModelSelect", "IntelligentMetadataFetcher",
        "IntelligentLoadGenerationMetadata", "IntelligentSaveWithMetadata"]) {
        if (await focusNode(type)) await shot(`06-ran-${name}-${type.replace("Intelligent", "")}`);
      }
      await overview();
      await shot(`06-overview-${name}`);
      runs[name] = {
        types,
        shrunk,
        ended,
        explanations: await explanations(),
        layout: await explanationLayout(),
        images: await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.filter((n) => n.imgs?.length)
          .map((n) => ({ type: n.type, src: n.imgs[0].src, width: n.imgs[0].naturalWidth }))),
        // Saved as the workflow would be: the explanation box must not be among the widget values.
        workflowValues: await page.evaluate(() => window.comfyAPI.app.app.graph.serialize().nodes
          .filter((n) => n.type.startsWith("Intelligent")).sort((a, b) => a.id - b.id)
          .map((n) => [n.type, n.widgets_values ?? []])),
      };
      await closeToasts();
    }
    return { listed, runs };
  },

  // The star control on Save With Metadata (the last template's run): a rating with a comment is stored.
  async rating() {
    const types = await graphNodes();
    if (!types.includes("IntelligentSaveWithMetadata")) throw new Error(`no Save With Metadata in ${types}`);
    await focusNode("IntelligentSaveWithMetadata");
    const control = page.locator("[data-ig-rating]");
    await control.waitFor();
    const image = await control.locator("select").inputValue();
    await control.getByLabel("Comment").fill("sharp <b>enough</b>");
    await control.locator('[data-ig-star="4"]').click();
    const toast = await toastText("Rated 4 of 5");
    await control.locator("[role=status]", { hasText: "Rated 4 of 5" }).waitFor();
    await shot("11-rated");
    await closeToasts();
    return {
      image,
      toast,
      stars: await control.locator("[data-ig-star]").evaluateAll((els) => els.map((e) => e.textContent).join("")),
      stored: (await serverJson("/intelligent-generation/feedback")).body?.ratings ?? null,
      workflowValues: await page.evaluate(() => window.comfyAPI.app.app.graph.serialize().nodes
        .find((n) => n.type === "IntelligentSaveWithMetadata").widgets_values),
    };
  },

  // A failing node of ours raises a toast that says what to do.
  async errorToast() {
    const workflow = (await serverJson(`/workflow_templates/${PACK}/intelligent_text_to_image.json`)).body;
    await page.evaluate((w) => window.comfyAPI.app.app.loadGraphData(w), workflow);
    await page.evaluate((file) => {
      const node = window.comfyAPI.app.app.graph.nodes.find((n) => n.type === "IntelligentAutoModelSelect");
      node.widgets.find((w) => w.name === "checkpoint").value = file;
    }, broken);
    const ended = await run();
    const toast = await toastText("Auto Model Select failed");
    await shot("07-error-toast");
    await closeDialogs(); // ComfyUI's own error dialog
    await closeToasts();
    return { ended, toast };
  },

  // The library tab's statistics, and the ratings exported to a file and deleted.
  async statsAndRatings() {
    await page.locator(".intelligent-generation-library-tab-button").click();
    const panel = page.locator("[data-ig-stats-panel]");
    await panel.locator("summary").click();
    await panel.locator("[data-ig-stats]").waitFor();
    const stats = await panel.locator("dt").evaluateAll((dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
    const countBefore = await panel.locator("[data-ig-ratings-count]").innerText();
    await shot("12-stats");
    const download = page.waitForEvent("download");
    await panel.locator("[data-ig-export-ratings]").click();
    const file = await download;
    const exported = JSON.parse(readFileSync(await file.path(), "utf8"));
    page.once("dialog", (d) => d.accept());
    await panel.locator("[data-ig-delete-ratings]").click();
    const toast = await toastText("Ratings deleted");
    await panel.locator("[data-ig-ratings-count]", { hasText: "No ratings yet" }).waitFor();
    await closeToasts();
    await panel.locator("summary").click();
    return {
      stats,
      countBefore,
      exportName: file.suggestedFilename(),
      exported,
      toast,
      storedAfter: (await serverJson("/intelligent-generation/feedback")).body?.ratings ?? null,
    };
  },

  // Updates of the fetched probe (model 77 on the loopback CivitAI): only the newer same-base version is offered,
  // and its download asks first (dismissed here: nothing is downloaded).
  async updates() {
    const panel = page.locator("[data-ig-updates-panel]");
    await panel.locator("summary").click();
    const asked = page.waitForRequest((r) => r.url().includes("/intelligent-generation/updates"));
    await panel.locator("[data-ig-check-updates]").click();
    const body = (await asked).postDataJSON();
    const toast = await toastText("Update check");
    await panel.locator("[data-ig-update]").first().waitFor();
    const items = await panel.locator("[data-ig-update]").evaluateAll((els) => els.map((e) => e.textContent));
    let question = null;
    page.once("dialog", (d) => {
      question = d.message();
      return d.dismiss();
    });
    await panel.locator("[data-ig-update-download]").first().click();
    await page.waitForFunction(() => !document.querySelector("[data-ig-update-download]")?.disabled);
    await shot("13-updates");
    await closeToasts();
    await panel.locator("summary").click();
    return { body, toast, items, question };
  },

  // A LoRA CivitAI did not find by its hash (the library fetch template looked it up): searched by its file
  // name only after the dialog said what would be sent.
  async nameSearch() {
    const root = page.locator("[data-ig-library]");
    await root.getByRole("searchbox").fill("neon_city_sd15.safetensors");
    const item = root.locator('[data-ig-model="loras/neon_city_sd15.safetensors"]');
    await item.locator("summary").click();
    let question = null;
    page.once("dialog", (d) => {
      question = d.message();
      return d.accept();
    });
    await item.locator("[data-ig-name-search]").click();
    const results = item.locator("[data-ig-name-results]");
    await results.filter({ hasText: /./ }).waitFor();
    const text = await results.innerText();
    await item.locator("summary").click();
    await root.getByRole("searchbox").fill("");
    return { question, text };
  },

  // Online candidates for a concept (the loopback CivitAI), one downloaded after the confirmation, with
  // progress; the library lists it at once.
  async download() {
    const panel = page.locator("[data-ig-download-panel]");
    await panel.locator("summary").click();
    await page.evaluate(() => {
      window.igDownload = { events: [], texts: [] };
      window.comfyAPI.api.api.addEventListener("intelligent-generation.download-progress",
        (e) => window.igDownload.events.push(e.detail));
      new MutationObserver(() => {
        const text = document.querySelector("[data-ig-download-progress]")?.textContent;
        if (text && window.igDownload.texts.at(-1) !== text) window.igDownload.texts.push(text);
      }).observe(document.querySelector("[data-ig-library]"), { subtree: true, childList: true, characterData: true });
    });
    // Free text is refused in the browser: only the pack's words (offered in the field's list) are sent.
    await page.waitForFunction(() => document.querySelectorAll("#ig-searchable-words option").length > 0);
    let freeTextSent = false;
    const spy = (r) => { if (r.url().includes("/download/candidates")) freeTextSent = true; };
    page.on("request", spy);
    await panel.getByLabel("Concept").fill("portrait of my neighbour");
    await panel.getByRole("button", { name: "Find online" }).click();
    const refused = await toastText("Pick a listed concept or style");
    page.off("request", spy);
    await closeToasts();
    await panel.getByLabel("Concept").fill("pixel art");
    const searched = page.waitForRequest((r) => r.url().includes("/download/candidates"));
    await panel.getByRole("button", { name: "Find online" }).click();
    const searchBody = (await searched).postDataJSON();
    const candidate = panel.locator("[data-ig-candidate]").first();
    await candidate.waitFor();
    const candidates = await panel.locator("[data-ig-candidate]").evaluateAll((els) => els.map((e) => e.dataset.igCandidate));
    await shot("13-candidates");
    let question = null;
    page.once("dialog", (d) => {
      question = d.message();
      return d.accept();
    });
    await candidate.locator("[data-ig-download]").click();
    const toast = await toastText("downloaded and verified");
    const root = page.locator("[data-ig-library]");
    await root.getByRole("searchbox").fill("pixel");
    await root.locator("[data-ig-model]").first().waitFor();
    await shot("14-downloaded");
    await closeToasts();
    return {
      refused,
      freeTextSent,
      searchBody,
      candidates,
      question,
      toast,
      events: await page.evaluate(() => window.igDownload.events),
      progressTexts: await page.evaluate(() => window.igDownload.texts),
      listed: await root.locator("[data-ig-model]").evaluateAll((els) => els.map((e) => e.dataset.igModel)),
      pwned: await page.evaluate(() => globalThis.igPwned ?? null),
    };
  },

  // `make demo`'s image (saved by the server before this session), dropped onto the editor as a user drags
  // it in from a file browser: the template's layout comes back, with what ran.
  async dragBack() {
    const image = process.env.DEMO_IMAGE;
    if (!image) throw new Error("DEMO_IMAGE is not set");
    const dataTransfer = await page.evaluateHandle(async (name) => {
      const url = `/api/view?filename=${encodeURIComponent(name)}&type=output`;
      const blob = await (await fetch(url)).blob();
      const transfer = new DataTransfer();
      transfer.items.add(new File([blob], name.split("/").pop(), { type: blob.type }));
      return transfer;
    }, image);
    await page.evaluate(() => window.comfyAPI.app.app.graph.clear());
    await page.locator("#graph-canvas").dispatchEvent("drop", { dataTransfer });
    await page.waitForFunction(() => window.comfyAPI.app.app.graph.nodes.length > 0, null, { timeout: 30_000 });
    await overview();
    await shot("15-dragged-back");
    return {
      nodes: await page.evaluate(() => window.comfyAPI.app.app.graph.nodes.map((n) => ({
        id: n.id, type: n.type, pos: Array.from(n.pos), widgets: (n.widgets ?? []).filter((w) => w.serialize !== false)
          .map((w) => w.value),
      }))),
    };
  },
};

for (const [name, scenario] of Object.entries(scenarios)) {
  const started = Date.now();
  try {
    observations[name] = await scenario();
  } catch (error) {
    observations[name] = { error: String(error?.stack ?? error) };
    await shot(`${name}-failed`).catch(() => {});
    await closeDialogs().catch(() => {}); // leave no dialog over the canvas for the next scenario
  }
  observations[name].seconds = (Date.now() - started) / 1000;
  console.log(`[browser] ${name}: ${observations[name].error ? "FAILED" : "done"} in ${observations[name].seconds} s`);
}

observations.pwnedAtEnd = await page.evaluate(() => globalThis.igPwned ?? null).catch((e) => String(e));
writeFileSync(join(out, "observations.json"), JSON.stringify(observations, null, 2));
await browser.close();
