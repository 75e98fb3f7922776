"""Everything that leaves the machine, only on the user's action: `session` (the one hardened HTTP session, its
retry loop and settings), `civitai`, `huggingface`, `lookups` (hash, look up, record), `name_lookup`, `suggest`
(candidates for what the library lacks), `download_target` (the request, its checks, the site's answer as a
plan), `licences`, `download` (stream, verify, install), `previews` (example
images kept on request), `updates`. The top layer: within services/ only `cli` imports it.
"""
