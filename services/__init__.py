"""Intelligent Generation's logic: plain Python that knows nothing of ComfyUI.

Packages, each importing only those below it: `text` (what words mean) < `library` (the model files and
what is known of them) < `records` (what a generation leaves behind) < `recommend` (prompt to plan) < `online`
(lookups and downloads, on request) < `cli` (`python -m services`); `server` holds the routes' plain parts.
Modules import only the standard library at import time; Pillow, requests and the Ollama client are imported
inside the functions that need them.
"""

__version__ = "0.1.0"
