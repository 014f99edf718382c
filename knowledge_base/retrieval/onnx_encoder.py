"""The embedding model on ONNX Runtime: the same vectors as sentence-transformers, about twice as fast.

On one CPU thread, torch spends about 24 ms on a short question with multilingual-e5-small and
ONNX Runtime about 11 ms (cosine between the two vectors: 1.000000). Each new message a citizen
types takes one pass in the Rasa server (the NLU featurizer) and one in the action server (the
search), so this is most of the assistant's CPU per new message.

The ONNX graph is exported from the sentence-transformers folder itself into ``<folder>/onnx/``
(the layout sentence-transformers uses for its own ONNX backend) with the mean pooling and the
normalisation inside the graph. A record of the weights it came from (size, modification time)
sits beside it: a retrained model gets a fresh export instead of serving stale vectors. Only the
layout this project builds is supported (Transformer, mean or CLS pooling, Normalize); anything
else reports ``supports() == False`` and the caller stays on torch.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import warnings
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

log = logging.getLogger(__name__)

OPSET = 17
# 2: the graph also gives every layer's mean-pooled, normalised states ("layer_embeddings"), so a caller
# can take a lower layer's sentence vector from the same pass (the NLU featurizer: see ``encode_with_layer``)
GRAPH = 2
_MODULES = ("Transformer", "Pooling", "Normalize")


def onnx_dir(model_dir: Path) -> Path:
    """Where the export of ``model_dir`` lives."""
    return Path(model_dir) / "onnx"


def _pooling(model_dir: Path) -> Optional[str]:
    """'mean' or 'cls' when the folder is Transformer + that pooling + Normalize, else None."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = tuple(m["type"].rsplit(".", 1)[-1] for m in modules)
        if kinds != _MODULES:
            return None
        pooling = json.loads((model_dir / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError):
        return None
    mode = pooling.get("pooling_mode")
    if mode is None:  # sentence-transformers < 5 wrote one flag per mode
        mode = (
            "mean"
            if pooling.get("pooling_mode_mean_tokens")
            else "cls"
            if pooling.get("pooling_mode_cls_token")
            else None
        )
    return mode if mode in ("mean", "cls") else None


def supports(model_dir: Path) -> bool:
    """Whether ``model_dir`` is a local sentence-transformers folder this backend can run."""
    model_dir = Path(model_dir)
    return (model_dir / "tokenizer.json").is_file() and _pooling(model_dir) is not None


def _source(model_dir: Path) -> dict:
    weights = [p for p in (model_dir / "model.safetensors", model_dir / "pytorch_model.bin") if p.is_file()]
    stat = weights[0].stat() if weights else None
    return {"weights": weights[0].name if weights else None, "size": stat.st_size if stat else None,
            "mtime_ns": stat.st_mtime_ns if stat else None, "opset": OPSET, "graph": GRAPH}


def is_current(model_dir: Path) -> bool:
    """Whether the export exists and was made from the weights now in ``model_dir``."""
    out = onnx_dir(model_dir)
    return (out / "model.onnx").is_file() and _read_json(out / "source.json") == _source(Path(model_dir))


def export(model_dir: Path) -> Path:
    """Export ``model_dir`` (a sentence-transformers folder) to ``<model_dir>/onnx/model.onnx``.

    Several processes may start at once (the Rasa server and the action server): a file lock lets
    one export while the others wait, and the file appears whole (written aside, then renamed).
    """
    model_dir = Path(model_dir)
    pooling = _pooling(model_dir)
    if pooling is None:
        raise ValueError(f"{model_dir}: not a Transformer + mean/CLS pooling + Normalize model")
    out = onnx_dir(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_current(model_dir):
            return out / "model.onnx"
        log.info("exporting %s to ONNX (once per model)", model_dir)
        _export_graph(model_dir, pooling, out / "model.onnx.tmp")
        os.replace(out / "model.onnx.tmp", out / "model.onnx")
        (out / "source.json").write_text(json.dumps(_source(model_dir)), encoding="utf-8")
    return out / "model.onnx"


def _export_graph(model_dir: Path, pooling: str, path: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    transformer = SentenceTransformer(str(model_dir), device="cpu")[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        """Encoder + pooling + L2 normalisation: what the sentence-transformers folder computes."""

        def __init__(self):
            super().__init__()
            self.encoder = transformer

        def forward(self, input_ids, attention_mask):
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)

            def mean(states):
                return torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1).clamp(min=1e-9), dim=-1)

            tokens = out.last_hidden_state
            vec = torch.nn.functional.normalize(tokens[:, 0], dim=-1) if pooling == "cls" else mean(tokens)
            return vec, torch.stack([mean(states) for states in out.hidden_states], dim=1)

    # The second row is padded: with a mask of all ones transformers skips the attention mask, and
    # the traced graph would then ignore padding in every batch.
    ids = torch.tensor([[0, 100, 200, 2], [0, 100, 2, 1]], dtype=torch.long)
    mask = (ids != 1).long()
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shape checks it folds into constants
        torch.onnx.export(Pooled().eval(), (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding", "layer_embeddings"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        "sentence_embedding": {0: "batch"}, "layer_embeddings": {0: "batch"}})


class OnnxEncoder:
    """Embeds texts with the exported graph; tokenises exactly as the folder's tokenizer does."""

    def __init__(self, model_dir: Path, threads: int = 1):
        """Open ``model_dir``'s export (made first if missing or stale) with ``threads`` CPU threads."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        path = export(model_dir) if not is_current(model_dir) else onnx_dir(model_dir) / "model.onnx"
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        config = _read_json(model_dir / "sentence_bert_config.json")
        tok_config = _read_json(model_dir / "tokenizer_config.json")
        max_len = int(config.get("max_seq_length") or tok_config.get("model_max_length") or 512)
        self.tokenizer.enable_truncation(max_len)
        pad_token = tok_config.get("pad_token") or "<pad>"
        pad_id = self.tokenizer.token_to_id(pad_token)
        self.tokenizer.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token=pad_token)
        self.dimension = int(self.session.get_outputs()[0].shape[-1] or 0) or self._probe_dimension()
        # hidden layers: the per-layer output holds the embeddings' states and each layer's (0: no such output)
        shapes = {o.name: o.shape for o in self.session.get_outputs()}
        per_layer = shapes.get("layer_embeddings", [None, None])[1]
        self.layers = per_layer - 1 if isinstance(per_layer, int) else 0

    def _probe_dimension(self) -> int:
        return int(self.encode(["a"]).shape[1])

    def _run(self, texts: Sequence[str], outputs: List[str], batch_size: int, progress: bool) -> List[np.ndarray]:
        """``outputs`` of the graph for ``texts`` (in their order), in batches of ``batch_size``, stacked.

        Texts of like length are batched together: a batch is padded to its longest text, so batches in the
        given order spend most of their time on padding (the index build's 6,860 example questions: 85 s)."""
        out: List[List[np.ndarray]] = [[] for _ in outputs]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        steps = range(0, len(texts), batch_size)
        if progress:
            from tqdm import tqdm

            steps = tqdm(steps, desc="embedding")
        for start in steps:
            encodings = self.tokenizer.encode_batch([texts[i] for i in order[start:start + batch_size]])
            ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
            for kept, result in zip(out, self.session.run(outputs, {"input_ids": ids, "attention_mask": mask})):
                kept.append(result)
        back = np.argsort(np.asarray(order, dtype=np.int64))  # row of each text in the sorted results
        return [np.ascontiguousarray(np.concatenate(kept)[back], dtype=np.float32) for kept in out]

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings, in batches of ``batch_size``."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return self._run(texts, ["sentence_embedding"], batch_size, progress)[0]

    def encode_with_layer(self, texts: Sequence[str], layer: int, batch_size: int = 32):
        """(embeddings, layer ``layer``'s mean-pooled normalised states) of ``texts``, from one pass."""
        if not self.layers:
            raise ValueError("this ONNX export gives no layer's vectors: delete its onnx/ folder to export it again")
        if not 0 < layer <= self.layers:
            raise ValueError(f"layer must be between 1 and {self.layers}, not {layer}")
        if not texts:
            empty = np.zeros((0, self.dimension), np.float32)
            return empty, empty
        final, layers = self._run(texts, ["sentence_embedding", "layer_embeddings"], batch_size, False)
        return final, np.ascontiguousarray(layers[:, layer])


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
