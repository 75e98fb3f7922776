// The pack's settings in ComfyUI's settings dialog. The frontend stores them per user in
// comfy.settings.json, where services/settings.py reads them; ids, defaults and choices must stay
// equal to that module's (the browser test compares them with what the server reports).
import type { ComfyExtension } from "@comfyorg/comfyui-frontend-types";
import { toast } from "./toast";

type SettingParams = NonNullable<ComfyExtension["settings"]>[number];

const TAB = "Intelligent Generation";
// The dialog lists higher sortOrder first (groups by their highest): Ollama, then lookups, URL and host first.

export const SETTING_IDS = {
  ollamaUrl: "IntelligentGeneration.Ollama.URL",
  ollamaModel: "IntelligentGeneration.Ollama.Model",
  ollamaKeepAlive: "IntelligentGeneration.Ollama.KeepAlive",
  lookupHost: "IntelligentGeneration.Lookup.Host",
  lookupProxy: "IntelligentGeneration.Lookup.Proxy",
  namingMode: "IntelligentGeneration.Save.NamingMode",
  quality: "IntelligentGeneration.Generation.Quality",
  downloadPickleOverHttp: "IntelligentGeneration.Download.PickleOverHttp",
  storePreviews: "IntelligentGeneration.Lookup.StorePreviews",
} as const;

// As services/online.py: socks5:// would resolve host names here, outside the proxy.
const PROXY_SCHEMES = ["socks5h://", "http://", "https://"];
// As services/settings.py: "host:port" means http://host:port.
const usableUrl = (v: string) => /^https?:\/\/\S+$/.test(v.includes("://") ? v : `http://${v}`);

// Say at once, in the editor, what the server will do with a value it cannot use.
function warnUnless(valid: (value: string) => boolean, what: string, consequence: string) {
  return (value: unknown): void => {
    const text = String(value ?? "").trim();
    if (!valid(text)) toast("warn", `${what}: "${text}" is not usable`, consequence);
  };
}

export const SETTINGS: SettingParams[] = [
  {
    id: SETTING_IDS.ollamaUrl,
    sortOrder: 3,
    category: [TAB, "Ollama", "Server URL"],
    name: "Ollama server URL",
    tooltip: "Where Prompt Analyzer asks a local LLM. When it does not answer, keyword rules are used.",
    type: "text",
    defaultValue: "http://127.0.0.1:11434",
    onChange: warnUnless(usableUrl, "Ollama server URL",
      "Prompt Analyzer uses http://127.0.0.1:11434 until you correct it."),
  },
  {
    id: SETTING_IDS.ollamaModel,
    sortOrder: 2,
    category: [TAB, "Ollama", "Model"],
    name: "Ollama model",
    tooltip: "A model name from `ollama list`, or auto for the first suitable one installed.",
    type: "text",
    defaultValue: "auto",
  },
  {
    id: SETTING_IDS.ollamaKeepAlive,
    sortOrder: 1,
    category: [TAB, "Ollama", "Keep alive"],
    name: "Ollama keep-alive",
    tooltip: "How long Ollama keeps the model loaded after answering (0 frees the GPU for diffusion at once; e.g. 5m).",
    type: "text",
    defaultValue: "0",
  },
  {
    id: SETTING_IDS.lookupHost,
    sortOrder: 2,
    category: [TAB, "Online lookups", "Host"],
    name: "Metadata lookup host",
    tooltip: "Only file hashes are sent, and only when you run the Metadata Fetcher.",
    type: "combo",
    options: ["https://civitai.com", "https://civitai.red"],
    defaultValue: "https://civitai.com",
  },
  {
    id: SETTING_IDS.lookupProxy,
    sortOrder: 1,
    category: [TAB, "Online lookups", "Proxy"],
    name: "Proxy for lookups (optional)",
    tooltip: "For example socks5h://127.0.0.1:9050 (Tor). When the proxy is down or unusable, nothing is sent.",
    type: "text",
    defaultValue: "",
    onChange: warnUnless((v) => v === "" || PROXY_SCHEMES.some((s) => v.startsWith(s)), "Lookup proxy",
      "Lookups are refused (nothing is sent) until you correct it: use socks5h://host:port or http://host:port."),
  },
  {
    id: SETTING_IDS.namingMode,
    category: [TAB, "Saving", "Naming"],
    name: "Default file naming",
    tooltip: "standard: UTC time and a random id; descriptive: adds words of the prompt; guid: a random UUID only.",
    type: "combo",
    options: ["standard", "descriptive", "guid"],
    defaultValue: "standard",
  },
  {
    id: SETTING_IDS.quality,
    category: [TAB, "Generation", "Quality"],
    name: "Default quality",
    tooltip: "Scales the recommended steps: fast, balanced, high or ultra.",
    type: "combo",
    options: ["fast", "balanced", "high", "ultra"],
    defaultValue: "balanced",
  },
  {
    id: SETTING_IDS.downloadPickleOverHttp,
    category: [TAB, "Downloads", "Pickle files"],
    name: "Pickle files through the editor's download route",
    tooltip: "A .ckpt, .pt or .bin file can run code when loaded. refuse: only the Download Model node (with allow_pickle) fetches them.",
    type: "combo",
    options: ["refuse", "allow"],
    defaultValue: "refuse",
  },
  {
    id: SETTING_IDS.storePreviews,
    category: [TAB, "Online lookups", "Previews"],
    name: "Keep an example image as the preview when a lookup finds a model",
    tooltip: "off: never. Else the first of CivitAI's example images rated at most this (PG, PG-13, R, X, XXX) is " +
      "downloaded from CivitAI's image host into the pack's cache, for the Model Library's thumbnails.",
    type: "combo",
    options: ["off", "PG", "PG-13", "R", "X", "XXX"],
    defaultValue: "off",
  },
];
