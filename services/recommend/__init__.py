"""From a prompt to a plan: `analysis` (keywords, offline), `llm` (a local Ollama with schema-constrained JSON),
`prompt_keys` (how a prompt names characters and tags), `loras` (LoRAs scored by retrieval and planned),
`checkpoint` (checkpoint, VAE and parameters), `feedback` (ratings and the leans they teach), `missing` (what
the library lacks), and `pipeline`, the one function the nodes, the CLI and the LLM path call. Depends on
`services.library`, `services.records` and `services.text`; never goes online.
"""
