"""The article store: two collections in one Chroma database.

- `chunks`: one record per chunk, with its embedding, text, offsets and the
  article's metadata. The collection's metadata records the embedding model and
  dimension that built it; opening it with another model is an error.
- `articles`: one record per article with its cleaned text (the text every
  citation offset refers to) and the fingerprint of what was ingested. The
  article record is written last, so it doubles as a commit marker: an article
  whose chunks were half written has no (or an old) fingerprint and is redone
  on the next ingest.

Chroma is always given embeddings: its default embedding function would
download a model, so no collection is ever created with one.

A store is a folder (embedded Chroma, `PersistentClient`) or a Chroma server
(`HttpClient`): `--store http://host:8000`, or `RAG_CHROMA_URL` when no store
is named. Several `rag serve` processes on several machines can then share one
store. Every write records a new `generation` (a file in the folder; a record
in the `newsrag_meta` collection on a server) so that other processes notice.

The package, one job per module:
- `chroma`: `ChromaStore` (reading, writing, staying fresh) and `open_store`.
- `connection`: connecting to a folder or a server, the generation marker, reset.
- `records`: how chunks and articles are laid out in Chroma records.
- `lock`: one writer at a time (`write_lock`).
- `location`: where a store is (`resolve_location`, `store_key`).
- `mapping`: library errors turned into `StoreError` with a next step.
"""

from core.errors import StoreError

from .chroma import ARTICLES, CHUNKS, HNSW, META, SCHEMA_VERSION, ChromaStore, open_store
from .connection import reset_store
from .location import is_remote, resolve_location, store_key
from .lock import LOCK_FILE, write_lock
from .records import published_timestamp

__all__ = [
    "ARTICLES",
    "CHUNKS",
    "HNSW",
    "LOCK_FILE",
    "META",
    "SCHEMA_VERSION",
    "ChromaStore",
    "StoreError",
    "is_remote",
    "open_store",
    "published_timestamp",
    "reset_store",
    "resolve_location",
    "store_key",
    "write_lock",
]
