"""Text columns by meaning: ``dj.Dataset(embed=...)`` (issue 18, "Text meaning, offline").

Small generated frames with every column role; the WordLlama tests need the ``text`` extra
(in the ``test`` extra too)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import dcai_jupyter as dj
from dcai_jupyter.ops._params import ParamError
from dcai_jupyter.ops._tabular import dataset_dense, dataset_design
from dcai_jupyter.ops._text_vectors import recorded_embed

CALLS: list[int] = []


def letters(texts: list[str]) -> np.ndarray:
    """A tiny embedder of our own: letter counts (a user's model stands in here)."""
    CALLS.append(len(texts))
    out = np.zeros((len(texts), 26), dtype=np.float32)
    for i, t in enumerate(texts):
        for ch in t.lower():
            if "a" <= ch <= "z":
                out[i, ord(ch) - 97] += 1
    return out


dj.register_transform(letters, name="test_text_meaning.letters")


def frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topics = ["stock markets fell", "my phone battery died", "great fast delivery", "cold rain"]
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "city": rng.choice(["paris", "oslo", "rome"], n),
            "signup": pd.date_range("2024-01-01", periods=n, freq="D"),
            "note": [f"{topics[i % 4]} on day {i}" for i in range(n)],
            "y": np.array(["a", "b"])[np.arange(n) % 2],
        }
    )


def test_embed_function_is_recorded_by_name_and_replayed(capsys, tmp_path):
    df = frame()
    path = str(tmp_path / "h.sqlite")
    ds = dj.Dataset(df, label="y", text="note", embed=letters, history=path)
    assert "pip install" not in capsys.readouterr().out  # no notice with an embedder
    assert recorded_embed(ds.history) == "test_text_meaning.letters"
    assert len(ds.history.events) == 0 and len(ds.history.changes) == 0  # a setting only
    assert recorded_embed(dj.open_history(path)) == "test_text_meaning.letters"  # in the file
    CALLS.clear()
    X, used = dataset_dense(ds)
    assert "note" in used and X.shape[1] > 26  # the embedding is appended to the dense view
    design, _ = dataset_design(ds)
    assert design.meaning is not None and design.meaning.shape == (len(df), 26)
    np.testing.assert_allclose(np.linalg.norm(design.meaning, axis=1), 1.0, rtol=1e-5)
    assert CALLS == [len(df)]  # computed once for this version, then cached
    ds.relabel([ds.ids[0]], ["b"])  # a new version: computed again
    dataset_design(ds)
    assert CALLS == [len(df), len(df)]
    # replay on new data embeds with the same function, by its recorded name
    result = ds.history.replay_recipe(frame(40, seed=1), progress=False)
    assert recorded_embed(result.dataset.history) == "test_text_meaning.letters"
    CALLS.clear()
    assert dataset_design(result.dataset)[0].meaning.shape == (40, 26)
    assert CALLS == [40]


def test_an_unregistered_embedder_is_refused_before_anything_is_made():
    def mine(texts):
        return np.ones((len(texts), 3))

    with pytest.raises(ParamError, match="register_transform"):
        dj.Dataset(frame(), label="y", text="note", embed=mine)
    with pytest.raises(TypeError, match="embed must be"):
        dj.Dataset(frame(), label="y", text="note", embed=3)


def test_a_wrong_embedder_output_says_what_is_expected():
    def flat(texts):
        return np.ones(len(texts))

    dj.register_transform(flat, name="test_text_meaning.flat")
    ds = dj.Dataset(frame(), label="y", text="note", embed=flat)
    with pytest.raises(ValueError, match="2-D array with one row per text"):
        dataset_design(ds)


def test_embed_false_is_tfidf_alone_without_a_notice(capsys):
    ds = dj.Dataset(frame(), label="y", text="note", embed=False)
    out = capsys.readouterr().out
    assert "pip install" not in out
    design, _ = dataset_design(ds)
    assert design.meaning is None
    assert recorded_embed(ds.history) == "off"  # a replay of this history embeds nothing


def test_without_the_text_extra_tfidf_is_said_once():
    # wordllama made unimportable in a fresh process (sys.modules entry None)
    code = textwrap.dedent(
        """
        import sys
        sys.modules["wordllama"] = None
        import numpy as np, pandas as pd
        import dcai_jupyter as dj
        from dcai_jupyter.ops._tabular import dataset_design
        df = pd.DataFrame({"x": np.arange(30.0), "t": [f"word {i % 7} here" for i in range(30)],
                           "y": ["a", "b"] * 15})

        def lengths(texts):
            return np.array([[len(t), t.count("o") + 1.0] for t in texts])

        dj.register_transform(lengths)
        own = dj.Dataset(df, label="y", text="t", embed=lengths)  # its own embedder: silent
        own.relabel([0], ["b"])
        own.history.replay_recipe(df, progress=False)  # replays with lengths: silent too
        print("default embedder")
        ds = dj.Dataset(df, label="y", text="t")
        assert dataset_design(ds)[0].meaning is None
        found = ds.find_duplicates(progress=False).frame
        print("flagged", int(found["is_duplicate"].sum()))
        dj.Dataset(df.iloc[:20], label="y", text="t")  # said already in this process
        ds.relabel([0], ["b"])
        ds.history.replay_recipe(df, progress=False)
        dj.Dataset(df[["x", "y"]], label="y")  # no text column: nothing to say
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout.split("default embedder", 1)
    assert len(out) == 2 and "dcai-jupyter[text]" not in out[0], run.stdout
    lines = [ln for ln in out[1].splitlines() if "dcai-jupyter[text]" in ln]
    assert len(lines) == 1 and lines[0].startswith("dcai_jupyter: text columns are read as TF-IDF")
    assert "flagged 0" in run.stdout
    assert "Warning" not in run.stderr


def paraphrase_frame() -> pd.DataFrame:
    rows = [
        ("the cat sat on the mat", 20.0, "home"),
        ("a kitten rests on a rug", 20.1, "home"),  # a paraphrase of row 0: a near copy
        ("stock markets fell sharply today", 55.0, "news"),
        ("today sharply fell markets stock", 71.0, "news"),  # same words, other numbers
        ("my phone battery died again", 33.0, "tech"),
        ("she plays the violin every evening", 47.0, "home"),
        ("the train was late this morning", 29.0, "news"),
        ("he cooks pasta for dinner", 62.0, "home"),
        ("the garden needs more water", 38.0, "home"),
        ("our team won the final match", 51.0, "news"),
    ]
    df = pd.DataFrame(rows, columns=["text", "price", "section"])
    df["y"] = ["a", "b"] * 5
    return df


def test_a_paraphrase_is_a_near_copy_by_meaning_and_a_word_bag_with_other_numbers_is_not():
    pytest.importorskip("wordllama")
    df = paraphrase_frame()
    found = dj.Dataset(df, label="y", text="text").find_duplicates(progress=False).frame
    assert found["is_duplicate"].tolist() == [False, True] + [False] * 8
    assert found.loc[1, "nearest_id"] == 0
    assert "alike in meaning" in found.loc[1, "reason"]
    # TF-IDF alone (embed=False) does not see it: the words differ
    off = dj.Dataset(df, label="y", text="text", embed=False).find_duplicates(progress=False)
    assert not off.frame["is_duplicate"].any()


def test_embed_text_gives_wordllamas_own_vectors():
    # the vectors are read from the wheel's files without importing wordllama: the same
    # numbers as its own loader and embed, over several of its batches of 64 texts
    pytest.importorskip("wordllama")
    import pathlib

    import wordllama
    from wordllama import WordLlama

    from dcai_jupyter.ops import embed_text

    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "Übergrößen", "naïve", "🙂", "on", "mat", "42", "rug,"]
    texts = [" ".join(rng.choice(words, rng.integers(0, 30))) for _ in range(150)]
    texts[3] = ""
    wl = WordLlama.load(cache_dir=pathlib.Path(wordllama.__file__).parent, disable_download=True)
    got = embed_text(texts)
    want = wl.embed(texts)
    assert got.shape == (150, 256) and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert not got[3].any()  # an empty text: zeros


def test_embed_text_falls_back_to_wordllamas_loader(monkeypatch):
    # another wheel layout (the files not where 0.4 puts them): WordLlama's own loader
    pytest.importorskip("wordllama")
    from wordllama.inference import WordLlamaInference

    from dcai_jupyter.ops import _text_embed, embed_text

    texts = ["the cat sat on the mat", "a kitten rests on a rug", ""]
    before = embed_text(texts)
    monkeypatch.setattr(_text_embed, "_WEIGHTS", "weights/not_in_this_wheel.safetensors")
    monkeypatch.setattr(_text_embed, "_MODEL", None)
    assert isinstance(_text_embed._model(), WordLlamaInference)
    np.testing.assert_array_equal(embed_text(texts), before)


def test_label_issues_read_the_meaning_member():
    pytest.importorskip("wordllama")
    rng = np.random.default_rng(0)
    pos = ["great product", "works very well", "really happy with it", "excellent quality"]
    neg = ["broke after a day", "very disappointed", "poor quality", "waste of money"]
    n = 120
    y = np.arange(n) % 2
    text = [(pos if c else neg)[rng.integers(4)] + f" item {i}" for i, c in enumerate(y)]
    df = pd.DataFrame({"text": text, "price": rng.normal(10, 2, n), "y": y.astype(str)})
    df.loc[:5, "y"] = np.where(df.loc[:5, "y"] == "1", "0", "1")  # six flipped labels
    ds = dj.Dataset(df, label="y", text="text")
    design, _ = dataset_design(ds)
    assert design.meaning is not None and design.meaning.shape == (n, 256)
    issues = ds.find_label_issues(progress=False).frame
    flagged = set(issues.index[issues["is_issue"]].tolist())
    assert len(flagged & set(range(6))) >= 4


def test_active_learning_reads_the_embeddings():
    df = frame(80)
    df.loc[40:, "y"] = None  # the pool
    on = dj.Dataset(df, label="y", text="note", embed=letters)
    off = dj.Dataset(df, label="y", text="note", embed=False)
    CALLS.clear()
    f = on.suggest_samples(k=5, strategy="margin", progress=False)
    assert CALLS == [80]  # the suggestion read the vectors
    assert dataset_dense(on)[0].shape[1] == dataset_dense(off)[0].shape[1] + 26
    assert CALLS == [80]  # and they were kept for this version
    assert len(f) == 5 and set(f.ids) <= set(on.pool.index)
