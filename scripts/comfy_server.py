"""Start and drive a real ComfyUI server (the pinned copy in .comfyui/) with this pack installed.

Used by the end-to-end tests, the demo and the benchmarks. Standard library only.
Each server gets its own port and base directory (custom_nodes, models, output,
user), so runs never see each other's files.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMFYUI = ROOT / ".comfyui"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PACK_FOLDER = "intelligent_generation"
TINY_MODELS = ROOT / ".cache" / "tiny_models"
# The image the reproduce_from_image template opens: A1111 parameters naming the tiny models.
REPRODUCE_EXAMPLE = "reproduce_example.png"
REPRODUCE_PARAMETERS = (
    "photo of a cat with cat ears, soft window light <lora:cat_ears_sd15:0.8>\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 6, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, Size: 64x64, "
    "Model: tiny_photoreal_v1"
)


def write_png(path: Path, width: int, height: int, text: dict[str, str]) -> None:
    """A grey PNG with tEXt chunks, written with the standard library (PIL is not needed here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    rows = b"".join(b"\0" + bytes([128, 128, 128]) * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    texts = b"".join(chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1"))
                     for key, value in text.items())
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + texts
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_tiny_models() -> Path:
    """Generate the tiny models once (seconds); later calls reuse them."""
    subprocess.run([str(VENV_PYTHON), str(ROOT / "scripts" / "tiny_models.py"), str(TINY_MODELS)],
                   check=True, stdout=subprocess.DEVNULL)
    return TINY_MODELS


class ComfyServer:
    def __init__(self, base: Path, models: Path | None = None, extra_models_root: Path | None = None,
                 port: int | None = None, env: dict[str, str] | None = None) -> None:
        """`models`: a folder with checkpoints/, loras/ ... linked into the base's models folder.
        `extra_models_root`: a user's ComfyUI models folder, added through extra_model_paths.yaml."""
        self.base = base
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.models = models
        self.extra_models_root = extra_models_root
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = base / "comfyui.log"

    def prepare(self) -> None:
        for sub in ("custom_nodes", "output", "input", "temp", "user/default"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        link = self.base / "custom_nodes" / PACK_FOLDER
        if not link.exists():
            link.symlink_to(ROOT, target_is_directory=True)
        if self.models:
            for kind in self.models.iterdir():
                if kind.is_dir():
                    target = self.base / "models" / kind.name
                    target.mkdir(parents=True, exist_ok=True)
                    for item in kind.iterdir():
                        dest = target / item.name
                        if not dest.exists():
                            dest.symlink_to(item)
        example = self.base / "input" / REPRODUCE_EXAMPLE
        if not example.exists():
            write_png(example, 64, 64, {"parameters": REPRODUCE_PARAMETERS})
        # The frontend's first-visit template dialog would cover the graph in browser tests.
        settings = self.base / "user" / "default" / "comfy.settings.json"
        if not settings.exists():
            settings.write_text(json.dumps({"Comfy.TutorialCompleted": True}))

    def command(self) -> list[str]:
        cmd = [str(VENV_PYTHON), str(COMFYUI / "main.py"), "--cpu", "--listen", "127.0.0.1",
               "--port", str(self.port), "--disable-auto-launch", "--base-directory", str(self.base),
               "--database-url", f"sqlite:///{self.base / 'user' / 'comfyui.db'}"]
        if self.extra_models_root:
            config = self.base / "extra_model_paths.yaml"
            root = self.extra_models_root
            kinds = ("checkpoints", "loras", "vae", "diffusion_models", "unet", "clip", "text_encoders", "embeddings")
            lines = ["user_models:", f"  base_path: {json.dumps(str(root))}"]
            lines += [f"  {k}: {k}" for k in kinds if (root / k).is_dir()]
            config.write_text("\n".join(lines) + "\n")
            cmd += ["--extra-model-paths-config", str(config)]
        return cmd

    def start(self, timeout: float = 120) -> ComfyServer:
        self.prepare()
        log = open(self.log_path, "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        # Own process group and recorded PID, so stop() ends exactly this server.
        self.process = subprocess.Popen(self.command(), cwd=COMFYUI, stdout=log, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.process.returncode}; log:\n{self.log_tail()}")
            try:
                self.get("/system_stats", timeout=2)
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"ComfyUI did not answer within {timeout:.0f} s; log:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def __enter__(self) -> ComfyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def get(self, path: str, timeout: float = 30) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return json.loads(r.read())

    def post_raw(self, path: str, body: Any, timeout: float = 30) -> bytes:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return bytes(r.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise RuntimeError(f"POST {path} -> {exc.code}: {detail}") from exc

    def post(self, path: str, body: Any, timeout: float = 30) -> Any:
        return json.loads(self.post_raw(path, body, timeout))

    def run_prompt(self, graph: dict[str, Any], timeout: float = 300,
                   workflow: dict[str, Any] | None = None) -> dict[str, Any]:
        """Queue an API-format workflow and wait for its history entry. `workflow`: the editor's layout of it,
        sent along as the frontend does (`extra_pnginfo`), so saved images restore that layout."""
        body: dict[str, Any] = {"prompt": graph, "client_id": uuid.uuid4().hex}
        if workflow is not None:
            body["extra_data"] = {"extra_pnginfo": {"workflow": workflow}}
        prompt_id = self.post("/prompt", body)["prompt_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            history = self.get(f"/history/{prompt_id}")
            if prompt_id in history and history[prompt_id].get("status", {}).get("completed") is not None:
                entry: dict[str, Any] = history[prompt_id]
                if entry["status"].get("status_str") == "error":
                    errors = [m[1] for m in entry["status"].get("messages", []) if m[0] == "execution_error"]
                    detail = "; ".join(f"{e.get('node_type')}: {e.get('exception_message')}" for e in errors)
                    raise RuntimeError(f"workflow failed: {detail or 'unknown error'}")
                return entry
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"ComfyUI died; log:\n{self.log_tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"prompt {prompt_id} did not finish within {timeout:.0f} s")

    def output_files(self, entry: dict[str, Any]) -> list[Path]:
        files = []
        for node_output in entry.get("outputs", {}).values():
            for image in node_output.get("images", []):
                files.append(self.base / "output" / image.get("subfolder", "") / image["filename"])
        return files


def load_api_workflow(name: str = "intelligent_text_to_image") -> dict[str, Any]:
    graph: dict[str, Any] = json.loads((ROOT / "example_workflows" / "api" / f"{name}.json").read_text())
    return graph


def load_ui_workflow(name: str = "intelligent_text_to_image") -> dict[str, Any]:
    """The template as the editor saves it (nodes, positions, links): what a saved image restores."""
    workflow: dict[str, Any] = json.loads((ROOT / "example_workflows" / f"{name}.json").read_text())
    return workflow


def demo_prompt(prompt: str | None = None, size: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """`make demo`'s graph and its editor layout, the same changes made to both (the prompt, the latent size)
    so that the saved image, dragged back into the editor, shows what ran."""
    graph, workflow = load_api_workflow(), load_ui_workflow()
    nodes = {str(node["id"]): node for node in workflow["nodes"]}
    if prompt:
        graph["1"]["inputs"]["prompt"] = prompt
        nodes["1"]["widgets_values"][0] = prompt
    if size:
        graph["5"]["inputs"]["width"] = graph["5"]["inputs"]["height"] = size
        nodes["5"]["widgets_values"][:2] = [size, size]
    return graph, workflow


if __name__ == "__main__":
    sys.exit("import this module; see scripts/demo.py")
