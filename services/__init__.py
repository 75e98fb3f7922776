"""Intelligent Generation's logic: plain Python that knows nothing of ComfyUI.

Modules import only the standard library at import time; Pillow, requests and
the Ollama client are imported inside the functions that need them.
"""

__version__ = "0.1.0"
