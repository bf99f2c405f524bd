"""CSV text to DataFrames: pandas always, polars when it is installed.

Numbers are read exactly: silos writes each with Rust's shortest round-trip form, and pandas
reads them back exactly (``float_precision="round_trip"`` before pandas 3, the default
since), so a value in a DataFrame is the value the model computed, bit for bit. ``NA`` (and
only ``NA``) marks an undefined value.
"""

from __future__ import annotations

import io
import json
import os
from typing import Dict, Iterable, Optional


def _exact() -> dict:
    """pandas before 3 parses floats to within an ulp unless asked for round trips; pandas 3
    parses them exactly by default and deprecates the option."""
    import pandas as pd

    major = int(pd.__version__.split(".")[0])
    return {"float_precision": "round_trip"} if major < 3 else {}


def pandas_frame(text: str):
    import pandas as pd

    return pd.read_csv(io.StringIO(text), na_values=["NA"], keep_default_na=False, **_exact())


def polars_frame(text: str):
    try:
        import polars as pl
    except ImportError:
        raise ImportError(
            "polars is not installed: pip install polars (silos returns pandas DataFrames "
            "without it)"
        ) from None
    return pl.read_csv(
        io.BytesIO(text.encode("utf-8")), null_values=["NA"], infer_schema_length=None
    )


class Tables:
    """A set of named CSV tables (``ticks`` for ``ticks.csv``), read once when first asked
    for. Holds the text in memory, or reads it from a directory that stays on disk."""

    def __init__(self, names: Iterable[str], texts: Optional[Dict[str, str]], out: Optional[str]):
        self._names = [n for n in names]
        self._texts = dict(texts or {})
        self._out = out
        self._pandas: Dict[str, object] = {}

    @property
    def names(self):
        return list(self._names)

    def csv(self, name: str) -> str:
        """The table's CSV text: the same bytes the command line writes."""
        name = name[:-4] if name.endswith(".csv") else name
        if name not in self._names:
            raise KeyError(f"no table {name!r}; the tables are {', '.join(self._names)}")
        if name not in self._texts:
            with open(os.path.join(self._out, name + ".csv"), "rb") as f:
                self._texts[name] = f.read().decode("utf-8")
        return self._texts[name]

    def pandas(self, name: str):
        name = name[:-4] if name.endswith(".csv") else name
        if name not in self._pandas:
            self._pandas[name] = pandas_frame(self.csv(name))
        return self._pandas[name]

    def polars(self, name: str):
        return polars_frame(self.csv(name))


def read_dir(out: str, names: Iterable[str]) -> Dict[str, str]:
    texts = {}
    for n in names:
        with open(os.path.join(out, n + ".csv"), "rb") as f:
            texts[n] = f.read().decode("utf-8")
    return texts


def read_manifest(out: str) -> dict:
    with open(os.path.join(out, "manifest.json"), "rb") as f:
        return json.loads(f.read().decode("utf-8"))
