"""Dense retrieval: sentence-transformers embeddings in a FAISS inner-product index."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np


def one_blas_thread() -> None:
    """Run this process's BLAS (numpy's products) on one thread. Serving multiplies one message's vector at a time,
    which one thread does in well under a millisecond, while OpenBLAS's idle threads keep spinning after each
    product and slow the encoder's own threads on a small machine (p95 search 40 -> 15 ms on 2 cores)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def model_fingerprint(model_name: str) -> str:
    """Identifies the model's weights: file names, sizes and times of a local folder, else the name.

    The ONNX export in ``onnx/`` is left out: it is made from the weights (and again when they
    change) and gives the same vectors, so making it must not mark the index stale.
    """
    path = Path(model_name)
    if not path.is_dir():
        return model_name
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.relative_to(path).parts[0] != "onnx":
            st = f.stat()
            h.update(f"{f.relative_to(path)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be loaded; the message says what to run."""


class TorchEncoder:
    """A sentence-transformers model on torch (the reference backend; int8 quantisation is torch's)."""

    def __init__(self, model):
        """``model``: a loaded SentenceTransformer."""
        self.model = model
        size = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(size())

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings."""
        import torch

        with torch.inference_mode():
            if len(texts) == 1 and not progress:  # straight through the modules: skips encode()'s ~5 ms
                features = self.model.tokenize(list(texts))
                vecs = torch.nn.functional.normalize(self.model(features)["sentence_embedding"], dim=-1).numpy()
            else:
                vecs = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_with_layer(self, texts: Sequence[str], layer: int,
                          batch_size: int = 32) -> Tuple[np.ndarray, np.ndarray]:
        """(embeddings, layer ``layer``'s mean-pooled normalised states) of ``texts``, from one pass."""
        import torch

        config = self.model[0].auto_model.config
        if not 0 < layer <= int(config.num_hidden_layers):
            raise ValueError(f"layer must be between 1 and {config.num_hidden_layers}, not {layer}")
        config.output_hidden_states = True  # the Transformer module then returns every layer's states
        finals, lowers = [np.zeros((0, self.dimension), np.float32)], [np.zeros((0, self.dimension), np.float32)]
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                out = self.model(self.model.tokenize(list(texts[start:start + batch_size])))
                mask = out["attention_mask"].unsqueeze(-1).to(out["sentence_embedding"].dtype)
                pooled = (out["all_layer_embeddings"][layer] * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                finals.append(torch.nn.functional.normalize(out["sentence_embedding"], dim=-1).numpy())
                lowers.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return (np.ascontiguousarray(np.concatenate(finals), dtype=np.float32),
                np.ascontiguousarray(np.concatenate(lowers), dtype=np.float32))


class Embedder:
    """Loads an embedding model lazily and embeds queries (cached) and passages.

    ``backend`` 'onnx' runs a local sentence-transformers folder on ONNX Runtime (same vectors,
    about twice as fast on CPU; see ``onnx_encoder``); 'torch' runs it on torch. A model name
    from a hub, a folder the ONNX backend does not support, and ``int8`` use torch.
    """

    def __init__(self, model_name: str, query_prefix: str = "query: ", passage_prefix: str = "passage: ",
                 threads: int = 2, cache_size: int = 4096, int8: bool = False, backend: str = "onnx"):
        """``model_name``: a local folder or a model name sentence-transformers can load.

        ``int8`` quantises the model's linear layers dynamically (about twice as fast on CPU).
        """
        self.model_name = model_name
        self.int8 = int8
        self.backend = backend
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.threads = threads
        self._model = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()  # actions search in worker threads
        self._cache_size = cache_size
        self.load_seconds: Optional[float] = None
        self.encoded = 0  # query texts encoded by the model (not served from the cache)
        self._signature: Optional[str] = None

    @classmethod
    def configured(cls, settings, model_name: Optional[str] = None, threads: Optional[int] = None) -> Embedder:
        """The embedder ``settings`` describe (model, prefixes, threads, int8, backend)."""
        return cls(
            model_name or settings.knowledge.embedding_model,
            settings.knowledge.query_prefix,
            settings.knowledge.passage_prefix,
            settings.knowledge.torch_threads if threads is None else threads,
            int8=settings.knowledge.embedding_int8,
            backend=settings.knowledge.embedding_backend,
        )

    @property
    def model(self):
        """The loaded encoder (``TorchEncoder`` or ``OnnxEncoder``; loaded on first use)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        one_blas_thread()  # the encoder's threads are the ones that count
        self._signature = None  # taken now: it must describe the weights being loaded
        _ = self.signature
        looks_local = os.sep in self.model_name or self.model_name.startswith(".")
        if looks_local and not Path(self.model_name).is_dir():
            raise EmbeddingModelError(
                f"embedding model folder {self.model_name} not found: run `make model` "
                "(or set MOTCUA_EMBEDDING_MODEL to a sentence-transformers model)")
        start = time.perf_counter()
        if self.backend == "onnx" and not self.int8 and looks_local:
            from knowledge_base.retrieval import onnx_encoder

            if onnx_encoder.supports(Path(self.model_name)):
                try:
                    model = onnx_encoder.OnnxEncoder(Path(self.model_name), self.threads)
                except Exception as exc:  # export or runtime failure: one clear error, not a trace
                    raise EmbeddingModelError(
                        f"cannot run embedding model {self.model_name} on ONNX Runtime: {exc} "
                        "(MOTCUA_EMBEDDING_BACKEND=torch runs it on torch)") from exc
                self.load_seconds = time.perf_counter() - start
                return model
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, self.threads))
        try:
            model = SentenceTransformer(self.model_name, device="cpu")
        except Exception as exc:  # the library raises many kinds; report one clear error
            raise EmbeddingModelError(f"cannot load embedding model {self.model_name}: {exc}") from exc
        model.eval()
        if self.int8:
            model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.load_seconds = time.perf_counter() - start
        return TorchEncoder(model)

    @property
    def identity(self) -> str:
        """What the index manifest records as 'model': the name plus the numeric mode.

        The backend is not part of it: ONNX Runtime and torch give the same vectors.
        """
        return self.model_name + ("#int8" if self.int8 else "")

    @property
    def signature(self) -> str:
        """What a query vector handed between processes must name: the identity, the weights' fingerprint
        (taken once) and the query prefix, so a vector from other weights or another prefix is never used."""
        if self._signature is None:
            self._signature = f"{self.identity}|{model_fingerprint(self.model_name)}|{self.query_prefix}"
        return self._signature

    @property
    def dimension(self) -> int:
        """Embedding size."""
        return self.model.dimension

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings of passages."""
        return self.model.encode([self.passage_prefix + t for t in texts], batch_size, progress)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 embeddings of queries, with an LRU cache for repeated questions."""
        with self._cache_lock:
            out: List[Optional[np.ndarray]] = [self._cache.get(t) for t in texts]
            for t in texts:
                if t in self._cache:
                    self._cache.move_to_end(t)
        todo = [i for i, v in enumerate(out) if v is None]
        if todo:
            vecs = self.model.encode([self.query_prefix + texts[i] for i in todo], 32, False)
            self.encoded += len(todo)
            for i, vec in zip(todo, vecs):
                out[i] = vec
                self.remember(texts[i], vec)
        return (
            np.vstack([v for v in out if v is not None]).astype(np.float32)
            if out
            else np.zeros((0, self.dimension), np.float32)
        )

    def embed_examples(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings of known questions, as queries but not cached (index build)."""
        return self.model.encode([self.query_prefix + t for t in texts], 32, progress)

    def embed_queries_with_layer(self, texts: Sequence[str], layer: int) -> Tuple[np.ndarray, np.ndarray]:
        """(query embeddings, the sentence vectors of hidden layer ``layer``) of ``texts`` from one encoder pass,
        not cached (the NLU's process serves no search; its results cache keeps repeated texts)."""
        final, lower = self.model.encode_with_layer([self.query_prefix + t for t in texts], layer)
        self.encoded += len(texts)
        return final, lower

    def remember(self, text: str, vector: np.ndarray, replace: bool = True) -> None:
        """Cache ``vector`` as this model's embedding of the query ``text``; ``replace=False`` (a vector handed
        over by the NLU) keeps one already cached."""
        with self._cache_lock:
            if text in self._cache and not replace:
                self._cache.move_to_end(text)
                return
            self._cache[text] = vector
            self._cache.move_to_end(text)
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def build_faiss(vectors: np.ndarray):
    """Exact inner-product FAISS index over normalised vectors (cosine similarity)."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index
