"""Reading words, the layer everything else stands on: what prompt and metadata words mean (`vocabulary`: styles,
media, concepts, folding, stems) and A1111's `<lora:name:weight>` tags (`lora_tags`). Imports nothing of ours."""
