"""The plain parts of serving the editor, without ComfyUI: `request_body` (the JSON bodies routes accept),
`request_guard` (who may call state-changing routes) and `settings` (the pack's settings as the editor stores
them)."""
