"""Strict mypy over nodes/ (make lint). The nodes import services/ relatively and ComfyUI's modules by name, so
mypy reads the checkout as a package (a link in a temporary folder names it, whatever the clone's folder is
called) with ComfyUI's installed source (.comfyui) beside it: ComfyUI's own `nodes` is then not our nodes/."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "intelligent_generation"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ig-mypy-") as folder:
        (Path(folder) / PACKAGE).symlink_to(ROOT, target_is_directory=True)
        env = {**os.environ, "MYPYPATH": str(ROOT / ".comfyui")}
        return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "scripts" / "mypy_nodes.ini"),
                               "--cache-dir", str(ROOT / ".mypy_cache" / "nodes"), "-p", f"{PACKAGE}.nodes"],
                              cwd=folder, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
