"""Hybrid retrieval: a lexical index over folded syllables and a dense FAISS index, fused."""
