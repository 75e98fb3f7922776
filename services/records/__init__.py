"""What a generation leaves behind and how it is read back: `generation` (the record gathered from the executed
graph), `chosen_models` (what was chosen, with hashes, between our nodes), `infotext` (A1111 `parameters`),
`image_file` (PNG chunks, EXIF; atomic writes), `naming` (output file names), `variations`, `read_back` (what a
saved image says, for reproducing it). Depends on `services.library` and `services.text`.
"""
