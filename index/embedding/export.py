"""The one-time export of a sentence-transformers model to ONNX: fused attention, INT8 weights, checked."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

from core.errors import ModelError

from .folder import _pool, _read_json, _read_pooling


def export_onnx(model_path: Path, target: Path, *, quantize: bool = True) -> None:
    """Export a sentence-transformers model folder's transformer to `target` (ONNX).

    Attention is exported in its plain ("eager") form so that ONNX Runtime's
    transformer optimizer can fuse it; then weights are quantized to INT8
    (dynamic, per channel). The result must reproduce the PyTorch embeddings
    (cosine >= 0.97 on sample texts) or it is not kept.

    Raises:
        ModelError: PyTorch / transformers / onnx are missing or the export fails.
    """
    import tempfile
    import warnings


    print(f"preparing the ONNX embedding model (once): {target}", file=sys.stderr)
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
        from transformers import AutoModel
    except ImportError as err:
        raise ModelError(
            f"exporting the embedding model to ONNX needs torch, transformers and onnx ({err}); "
            "install them (pip install onnx) or use RAG_EMBEDDER=torch"
        ) from err
    config = _read_json(model_path / "config.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager").eval()
            reference = _reference(model, model_path)

            class _Hidden(torch.nn.Module):
                def __init__(self, inner: torch.nn.Module) -> None:
                    super().__init__()
                    self.inner = inner

                def forward(self, input_ids, attention_mask, token_type_ids):
                    return self.inner(
                        input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                    ).last_hidden_state

            ids = torch.ones(2, 16, dtype=torch.long)
            mask = torch.ones(2, 16, dtype=torch.long)
            mask[1, 9:] = 0  # a padded row, so the masking path is traced
            axes = {0: "batch", 1: "tokens"}
            plain = Path(tmp) / "plain.onnx"
            with torch.no_grad():
                torch.onnx.export(
                    _Hidden(model),
                    (ids, mask, torch.zeros_like(ids)),
                    str(plain),
                    input_names=["input_ids", "attention_mask", "token_type_ids"],
                    output_names=["last_hidden_state"],
                    dynamic_axes={n: axes for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")},
                    opset_version=17,
                    dynamo=False,
                )
            fused = Path(tmp) / "fused.onnx"
            optimize_model(
                str(plain),
                model_type="bert",
                num_heads=int(config.get("num_attention_heads", 0)),
                hidden_size=int(config.get("hidden_size", 0)),
            ).save_model_to_file(str(fused))
            final = fused
            if quantize:
                import onnx

                final = Path(tmp) / "int8.onnx"
                logging.disable(logging.WARNING)  # its advice to pre-process is for image models
                try:
                    quantize_dynamic(
                        str(fused),
                        str(final),
                        weight_type=QuantType.QInt8,
                        per_channel=True,
                        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
                    )
                finally:
                    logging.disable(logging.NOTSET)
            _check_export(reference, model_path, final)
        except ModelError:
            raise
        except Exception as err:  # torch / onnx errors, mapped at the boundary
            raise ModelError(f"exporting {model_path} to ONNX failed: {err}; use RAG_EMBEDDER=torch instead") from err
        os.replace(final, target)


_CHECK_TEXTS = (
    "Putin invited Zelensky to Moscow for talks, the Kremlin said on Thursday.",
    "The central bank raised its key interest rate by half a point to 4.5% to fight inflation.",
    "Firefighters",
)


def _sample_inputs(model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tok.enable_padding()
    enc = tok.encode_batch(list(_CHECK_TEXTS))
    return np.array([e.ids for e in enc], dtype=np.int64), np.array([e.attention_mask for e in enc], dtype=np.int64)


def _reference(model, model_path: Path) -> np.ndarray:
    """The PyTorch model's pooled embeddings of the check texts (before export: tracing alters the model)."""
    import torch

    ids, mask = _sample_inputs(model_path)
    with torch.no_grad():
        tensor = torch.from_numpy(ids)
        hidden = model(input_ids=tensor, attention_mask=torch.from_numpy(mask), token_type_ids=torch.zeros_like(tensor))
    return _pool(hidden.last_hidden_state.numpy(), mask, _read_pooling(model_path))


def _check_export(reference: np.ndarray, model_path: Path, onnx_path: Path) -> None:
    import onnxruntime as ort

    ids, mask = _sample_inputs(model_path)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
    cosine = (reference * _pool(got, mask, _read_pooling(model_path))).sum(axis=1)
    if float(cosine.min()) < 0.97:
        raise ModelError(
            f"the ONNX export of {model_path} does not reproduce the model (cosine {float(cosine.min()):.3f}); "
            "use RAG_EMBEDDER=torch"
        )

