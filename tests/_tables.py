"""Issue 18's generated mixed table with outliers: one copy, shared by the tests and
``benchmarks/remove.py`` (which puts ``tests/`` on ``sys.path``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def issue_table(n: int, rate: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Issue 18's generated table (age with 5 % missing, a job, 40 cities, a lognormal
    income, a 6-word review, 3 classes); a share ``rate`` of rows are outliers in two of
    age, income and city (5-8 robust SD, or a city no other row has)."""
    rng = np.random.default_rng(seed)
    words = "good bad fine slow quick cheap dear kind rude clean late early".split()
    age = rng.normal(40, 12, n)
    income = rng.lognormal(10, 0.8, n)
    city = np.array([f"city{v}" for v in rng.integers(0, 40, n)], dtype=object)
    out = rng.choice(n, round(rate * n), replace=False)
    for i in out:
        for c in rng.choice(3, 2, replace=False):
            sign, size = rng.choice([-1.0, 1.0]), rng.uniform(5, 8)
            if c == 0:
                age[i] += sign * size * 12
            elif c == 1:
                income[i] *= np.exp(sign * size * 0.8)
            else:
                city[i] = f"nowhere{i}"
    age[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame(
        {
            "age": age,
            "job": rng.choice(["clerk", "nurse", "driver", "teacher", "cook"], n),
            "city": city,
            "income": income,
            "review": [" ".join(rng.choice(words, 6)) for _ in range(n)],
            "label": rng.choice(["a", "b", "c"], n),
        }
    )
    truth = np.zeros(n, dtype=bool)
    truth[out] = True
    return df, truth
