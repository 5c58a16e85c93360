"""Token alignment against the sentence cosine on the paraphrase tables (issue 18, tried and
not adopted: see the paraphrase paragraph of benchmarks/README.md).

For the candidate pairs the other columns allow (``near_copy_pairs`` on store, price and
quantity), each similarity below is thresholded on a grid and the flagged rows scored
against the paraphrase copies exactly as ``paraphrase.py`` does (``keep="first"`` groups,
the almost-same rows left out). Printed per seed: the best F1 of each similarity at its
own best threshold on that table, then the best threshold common to every seed with the
F1 it gives per seed.

- ``cos``: the rule's own similarity, the cosine of WordLlama's mean token vectors;
- ``align``: BERTScore-style greedy alignment of WordLlama's token vectors (each token's
  best cosine in the other text; the F-measure of the two means), ``align_min`` the smaller
  of the two means; ``_idf``: tokens weighted by the column's IDF;
- ``align_centred_idf``: the same on token vectors centred on the column's mean;
- ``cos+align_idf``: the mean of ``cos`` and ``align_idf``.

Needs the ``text`` extra. Run: ``.venv/bin/python benchmarks/paraphrase_alignment.py
[--seeds 0,1,2,3,4,5,6,7]`` (about a minute).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd
from paraphrase import f1, table

GRID = np.arange(0.10, 0.96, 0.01)


def _tokens(model: object, texts: pd.Series) -> list[np.ndarray]:
    enc = model.tokenizer.encode_batch(list(texts), add_special_tokens=False)  # type: ignore[attr-defined]
    return [
        np.array([i for i, m in zip(e.ids, e.attention_mask, strict=True) if m], dtype=np.int64)
        for e in enc
    ]


def _align(U: np.ndarray, ta: np.ndarray, tb: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(F-measure, smaller mean) of the greedy alignment of two texts' unit token rows."""
    S = U[ta] @ U[tb].T
    wa, wb = w[ta], w[tb]
    r = float((S.max(axis=1) * wa).sum() / wa.sum())
    p = float((S.max(axis=0) * wb).sum() / wb.sum())
    return 2 * p * r / (p + r) if p + r > 0 else 0.0, min(p, r)


def _flag_f1(
    df: pd.DataFrame,
    truth: np.ndarray,
    scored: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray],
    linked: np.ndarray,
) -> float:
    from dcai_jupyter.ops._mixed_rows import mixed_groups

    a, b = pairs
    group = mixed_groups(np.arange(len(df)), a[linked], b[linked], np.zeros(int(linked.sum())))
    g = group["group"].to_numpy()
    flag = np.zeros(len(df), dtype=bool)
    for v in np.unique(g[g >= 0]):
        flag[np.flatnonzero(g == v)[1:]] = True  # keep="first": the earliest row stays
    return f1(flag[scored], truth[scored])[0]


def similarities(df: pd.DataFrame) -> tuple[tuple[np.ndarray, np.ndarray], dict[str, Any]]:
    """The candidate pairs and each similarity of every pair, plus the exact-text keys."""
    from dcai_jupyter.ops._mixed_rows import _text_key, near_copy_pairs
    from dcai_jupyter.ops._text_embed import _model, embed_text

    model = _model()
    model.embed(["warm"])
    W = np.asarray(model._stored, dtype=np.float32)
    roles = {"store": "categorical", "price": "numeric", "quantity": "numeric"}
    a, b, _ = near_copy_pairs({c: df[c].to_numpy() for c in roles}, roles)
    T = _tokens(model, df["note"])
    counts = np.zeros(W.shape[0])
    for t in T:
        counts[np.unique(t)] += 1
    idf = np.log((len(T) + 1) / (counts + 1))
    ones = np.ones(W.shape[0])
    U = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    C = W - W[np.unique(np.concatenate(T))].mean(axis=0)
    Uc = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    E = embed_text(df["note"])
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    plain = np.array([_align(U, T[i], T[j], ones) for i, j in zip(a, b, strict=True)])
    weighted = np.array([_align(U, T[i], T[j], idf) for i, j in zip(a, b, strict=True)])
    sims: dict[str, Any] = {
        "cos": np.einsum("nd,nd->n", E[a], E[b]),
        "align": plain[:, 0],
        "align_min": plain[:, 1],
        "align_idf": weighted[:, 0],
        "align_min_idf": weighted[:, 1],
        "align_centred_idf": np.array(
            [_align(Uc, T[i], T[j], idf)[0] for i, j in zip(a, b, strict=True)]
        ),
    }
    sims["cos+align_idf"] = (sims["cos"] + sims["align_idf"]) / 2
    keys = np.array([_text_key(x) for x in df["note"]], dtype=object)
    sims["_same_text"] = keys[a] == keys[b]
    return (a, b), sims


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2,3,4,5,6,7")
    ap.add_argument("--n", type=int, default=600)
    args = ap.parse_args()
    curves: dict[str, list[np.ndarray]] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        df, truth, almost = table(args.n, seed)
        pairs, sims = similarities(df)
        same = sims.pop("_same_text")
        print(f"seed {seed}: {len(pairs[0])} candidate pairs")
        for name, s in sims.items():
            f = np.array([_flag_f1(df, truth, ~almost, pairs, (s >= t) | same) for t in GRID])
            curves.setdefault(name, []).append(f)
            print(f"  {name:18s} best {f.max():.3f} at {GRID[f.argmax()]:.2f}")
    print("\none threshold for every seed (the best worst case):")
    for name, fs in curves.items():
        F = np.array(fs)
        j = int(F.min(axis=0).argmax())
        print(
            f"  {name:18s} at {GRID[j]:.2f}: per seed {np.round(F[:, j], 3)}, min {F[:, j].min():.3f}"
        )


if __name__ == "__main__":
    main()
