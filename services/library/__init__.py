"""The model library: what files the user has and what is known of each, offline.

`entries` (ModelEntry, the kinds), `describe` (one file: header, sidecars, training metadata, name), `scan`
(the folders into a Library, remembered per process), `index` (the SQLite index on disk), `workers` (describing
in worker processes), `folder_watch` (what changed, from directory mtimes), `search` (BM25F over each model's own
words), `safetensors_header`, `sidecars`, `base_model`, `hashing`, `model_records`, `example_images`, `previews`,
`duplicates`, `stats`. Depends only on `services.text`.
"""
