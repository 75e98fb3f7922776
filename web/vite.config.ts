// Builds web/src into the one ES module ComfyUI loads from WEB_DIRECTORY (web/js/).
// ComfyUI's runtime objects are not bundled: the sources import "comfyui/app" and "comfyui/api"
// (typed in src/comfyui.d.ts), and the bundle imports them from where ComfyUI serves them.
// The bundle is served at /extensions/<pack folder>/intelligent_generation.js, so ../../scripts/ is
// ComfyUI's /scripts/, also when ComfyUI runs behind a path prefix.
import { defineConfig, type Plugin } from "vite";

const RUNTIME: Record<string, string> = {
  "comfyui/app": "../../scripts/app.js",
  "comfyui/api": "../../scripts/api.js",
};

function comfyRuntime(): Plugin {
  return {
    name: "comfyui-runtime",
    resolveId(source) {
      const target = RUNTIME[source];
      return target ? { id: target, external: true } : null;
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  plugins: [comfyRuntime()],
  build: {
    outDir: "js",
    emptyOutDir: true, // only the bundle may live in web/js: every .js there is loaded by the browser
    target: "es2022",
    minify: false, // readable in the browser's devtools and in review; the bundle is small
    sourcemap: false,
    reportCompressedSize: false,
    lib: {
      entry: "src/main.ts",
      formats: ["es"],
      fileName: () => "intelligent_generation.js",
    },
  },
});
