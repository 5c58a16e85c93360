from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _in_tmp_cwd(tmp_path, monkeypatch):
    """Every test runs in its own directory, so default `.dcai/` histories never collide."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def small_df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.normal(size=20),
            "n": np.arange(20, dtype=np.int64),
            "label": pd.array(rng.choice(["cat", "dog", "cow"], 20), dtype="str"),
        }
    )
