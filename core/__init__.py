"""The bottom layer: what every other package may import, and which imports none of them.

- `core.errors`: the one error hierarchy (`RagError` and its children).
- `core.sentences`: sentence spans of news text.
- `core.text`: stop words, tokens, stemming, names and numbers.
- `core.settings`: the `RAG_*` environment read once into one validated object.
- `core.models`: the process-wide registry of loaded models.

Layers, bottom to top: core → index (ingest, store, keyword index) → rag
(retrieval, generators, judges, the query API) → eval (grounding evaluation)
→ ui (web chat, REST API and the `rag` command line).
"""
