"""ComfyUI adapters: one module per node. The only code that imports ComfyUI."""
