// Fails when the committed bundle in web/js is not what web/src builds to (run `make web`, then
// commit web/js). Builds into a temporary folder with the same config and compares byte for byte.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";

const here = import.meta.dirname;
const committed = join(here, "js");
const fresh = mkdtempSync(join(tmpdir(), "ig-web-"));
try {
  await build({ configFile: join(here, "vite.config.ts"), logLevel: "warn", build: { outDir: fresh } });
  const names = (dir) => readdirSync(dir).sort();
  const problems = [];
  if (JSON.stringify(names(fresh)) !== JSON.stringify(names(committed))) {
    problems.push(`files differ: built ${names(fresh).join(", ")}; web/js has ${names(committed).join(", ")}`);
  } else {
    for (const name of names(fresh)) {
      if (!readFileSync(join(fresh, name)).equals(readFileSync(join(committed, name)))) {
        problems.push(`${name} differs from what web/src builds to`);
      }
    }
  }
  if (problems.length) {
    console.error(`web/js is stale: ${problems.join("; ")}.\nRun \`make web\` and commit web/js.`);
    process.exitCode = 1;
  } else {
    console.log("web/js is up to date with web/src");
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
