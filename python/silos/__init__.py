"""silos: an agent-based model of bureaucratic politics in joined-up government, from Python.

The model is the Rust library the ``silos`` command line is built on; this package calls it
in-process and returns its tables as pandas DataFrames (polars too, when installed). A run
is a pure function of (scenario, seed, behaviour, overrides, ticks): the same arguments give
the same numbers as ``silos run``, byte for byte.

>>> import silos
>>> r = silos.run(seed=7, behaviour="bp", set={"levers.host_reimbursement": 0.5}, ticks=24)
>>> r.ticks[["tick", "share_need_met", "dumped_share"]].tail(3)      # doctest: +SKIP

The API (``docs/python.md``):

- :func:`run`: one seeded run, returning :class:`Run` (``ticks``, ``agencies``, ``groups``,
  ``needs``, ``dumping`` DataFrames and the ``manifest``);
- :func:`sweep`: an experiment file run in parallel inside Rust, returning :class:`Sweep`
  (``runs``, ``summary``, ``paired``, ``effects``, ... DataFrames);
- :mod:`silos.scenario`: ``load``, ``default``, ``to_dict``;
- :func:`parameters`: every scenario parameter and lever with its default, range, unit and
  meaning; :func:`columns`: every output column;
- :mod:`silos.ema`: an EMA Workbench model of a scenario;
- exceptions :class:`SilosError`, :class:`ScenarioError`, :class:`ExperimentError`,
  :class:`SweepError`, :class:`ModelError`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Any, Optional, Union

from . import _silos
from . import scenario
from ._errors import ExperimentError, ModelError, ScenarioError, SilosError, SweepError
from ._tables import Tables, read_dir, read_manifest
from .scenario import Scenario, _dict_text, _overrides, _source

__version__ = _silos.__version__

__all__ = [
    "run",
    "sweep",
    "parameters",
    "columns",
    "derive_seed",
    "scenario",
    "Scenario",
    "Run",
    "Sweep",
    "SilosError",
    "ScenarioError",
    "ExperimentError",
    "SweepError",
    "ModelError",
]

#: The CSV files of a run, as tables of :class:`Run`.
RUN_TABLES = ("ticks", "agencies", "groups", "needs", "dumping")
#: The CSV files of a sweep, as tables of :class:`Sweep` (``docs/experiments.md``).
SWEEP_TABLES = (
    "points",
    "runs",
    "summary",
    "paired",
    "effects",
    "agencies_summary",
    "dumping_summary",
    "agenda_summary",
    "failures",
    "localities_summary",
    "series",
)


class Run:
    """The result of :func:`run`.

    ``ticks``, ``agencies``, ``groups``, ``needs`` and ``dumping`` are pandas DataFrames of
    the files of the same name (``silos.columns()`` explains every column; ``NA`` becomes NaN), each read
    when first used. ``manifest`` is ``manifest.json`` as a dict (scenario path and SHA-256,
    seed, ticks, behaviour, overrides, each agency's family, build). ``out`` is the directory
    holding the files when ``run(out=...)`` was given, else ``None``.

    ``to_polars(name)`` gives a table as a polars DataFrame (needs ``polars``), and
    ``csv(name)`` its CSV text, the same bytes ``silos run`` writes.
    """

    def __init__(self, tables: Tables, manifest: dict, out: Optional[str]) -> None:
        self._tables = tables
        self.manifest = manifest
        self.out = out

    @property
    def ticks(self):
        """``ticks.csv``: one row per tick, one column per arena observable."""
        return self._tables.pandas("ticks")

    @property
    def agencies(self):
        """``agencies.csv``: one row per agency per tick."""
        return self._tables.pandas("agencies")

    @property
    def groups(self):
        """``groups.csv``: one row per client group per tick."""
        return self._tables.pandas("groups")

    @property
    def needs(self):
        """``needs.csv``: one row per number of needs per tick (the same cases as
        ``groups``, broken down by how many needs each has)."""
        return self._tables.pandas("needs")

    @property
    def dumping(self):
        """``dumping.csv``: run totals per (sender, receiver) pair with referrals."""
        return self._tables.pandas("dumping")

    def table(self, name: str):
        """A table by name (``"ticks"`` or ``"ticks.csv"``) as a pandas DataFrame."""
        return self._tables.pandas(name)

    def to_polars(self, name: str):
        """A table by name as a polars DataFrame (``pip install polars``)."""
        return self._tables.polars(name)

    def csv(self, name: str) -> str:
        """A table's CSV text, byte for byte what ``silos run`` writes."""
        return self._tables.csv(name)

    @property
    def seed(self) -> int:
        return self.manifest["seed"]

    def means(self):
        """Each ``ticks.csv`` observable's mean over the run's ticks, skipping NA: the
        numbers a sweep's ``runs.csv`` holds for a run (a pandas Series)."""
        return self.ticks.drop(columns=["tick"]).mean()

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<silos.Run {m['scenario']['path']} seed {m['seed']} behaviour {m['behaviour']} "
            f"{m['ticks']} ticks{' ' + ' '.join(m['overrides']) if m['overrides'] else ''}>"
        )


class Sweep:
    """The result of :func:`sweep`: the experiment's tables as pandas DataFrames.

    ``runs`` (one row per run, each observable's run mean), ``summary`` (each arm's mean
    tick by tick), ``paired`` (paired differences from the reference arm tick by tick),
    ``effects`` (run means and paired differences with 95% intervals), ``points`` (the
    design), and ``table(name)`` for the rest (``agencies_summary``, ``dumping_summary``,
    ``agenda_summary``, ``failures``, ``localities_summary``, ``series``: per-run time
    series when the experiment's ``[outputs]`` asks for them); ``docs/experiments.md``
    documents every column. ``manifest`` is ``manifest.json`` as a dict; ``failures`` the
    number of runs that failed (listed in ``table("failures")``); ``out`` the output
    directory when one was given.
    """

    def __init__(self, tables: Tables, manifest: dict, failures: int, out: Optional[str]) -> None:
        self._tables = tables
        self.manifest = manifest
        self.failures = failures
        self.out = out

    @property
    def runs(self):
        return self._tables.pandas("runs")

    @property
    def summary(self):
        return self._tables.pandas("summary")

    @property
    def paired(self):
        return self._tables.pandas("paired")

    @property
    def effects(self):
        return self._tables.pandas("effects")

    @property
    def points(self):
        return self._tables.pandas("points")

    def table(self, name: str):
        return self._tables.pandas(name)

    def to_polars(self, name: str):
        return self._tables.polars(name)

    def csv(self, name: str) -> str:
        return self._tables.csv(name)

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<silos.Sweep {m['experiment']['name']}: {m['points']} point(s) x "
            f"{len(m['arms'])} arm(s) x {m['replicates']} replicate(s) = {m['runs']} runs, "
            f"{self.failures} failed>"
        )


def run(
    scenario: Any = None,
    *,
    seed: Optional[int] = None,
    behaviour: str = "mixed",
    set: Any = None,
    ticks: Optional[int] = None,
    out: Union[None, str, "os.PathLike[str]"] = None,
) -> Run:
    """Run one seeded simulation: what ``silos run`` does, in-process.

    Parameters
    ----------
    scenario:
        ``None`` or ``"default"`` (the embedded default), a path, TOML text, a dict, or a
        :class:`silos.Scenario` (see :mod:`silos.scenario`).
    seed:
        A whole number from 0 to 2**64 - 1; default: the scenario's ``scenario.seed``.
    behaviour:
        ``"ra"``, ``"bp"`` or ``"mixed"`` (each agency keeps the scenario's own), as
        ``--behaviour``.
    set:
        Overrides of scenario fields: a dict ``{path: value}`` or a list of ``"path=value"``
        strings, as ``--set``.
    ticks:
        Months to run; default: the scenario's ``scenario.ticks``.
    out:
        A directory to write the CSV files and ``manifest.json`` into (as
        ``silos run --no-plots --out``) and keep; by default they live in a temporary
        directory that is removed once they are read.

    Returns a :class:`Run`. Raises :class:`ScenarioError` for an invalid scenario or
    override (naming file, field, value and what is allowed), :class:`SilosError` for an
    invalid ``behaviour`` or ``ticks``. The GIL is released while the model runs, so runs in
    several Python threads proceed in parallel.
    """
    text, label, carried = _source(scenario)
    sets = carried + _overrides(set)
    if seed is not None:
        seed = _whole(seed, "seed")
    if ticks is not None:
        ticks = _whole(ticks, "ticks", upper=2**32)
    return _run_source(text, label, sets, seed, behaviour, ticks, out)


def _run_source(text, label, sets, seed, behaviour, ticks, out) -> Run:
    """:func:`run` on scenario text already resolved (used by :mod:`silos.ema`)."""
    if out is not None:
        out = os.fspath(out)
        _silos.run(text, label, sets, seed, behaviour, ticks, out)
        return Run(Tables(RUN_TABLES, None, out), read_manifest(out), out)
    tmp = tempfile.mkdtemp(prefix="silos-run-")
    try:
        _silos.run(text, label, sets, seed, behaviour, ticks, tmp)
        texts = read_dir(tmp, RUN_TABLES)
        manifest = read_manifest(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Run(Tables(RUN_TABLES, texts, None), manifest, None)


def _whole(x: Any, name: str, upper: int = 2**64) -> int:
    """A whole number in [0, upper), accepting numpy integers; else SilosError."""
    item = getattr(x, "item", None)
    v = item() if callable(item) and not isinstance(x, int) else x
    if isinstance(v, bool) or not isinstance(v, int) or not (0 <= v < upper):
        raise SilosError(
            f"{name} {x!r}: expected a whole number from 0 to {upper - 1}",
            field=name,
            value=repr(x),
            allowed=f"a whole number from 0 to {upper - 1}",
        )
    return v


def sweep(
    experiment: Any,
    *,
    threads: Optional[int] = None,
    out: Union[None, str, "os.PathLike[str]"] = None,
) -> Sweep:
    """Run an experiment (``docs/experiments.md``): every design point under every arm, once
    per replicate, in parallel inside Rust; what ``silos sweep`` does (without charts).

    Parameters
    ----------
    experiment:
        A path to an experiment file (its ``scenario`` is relative to the file), TOML text
        or a dict (a relative ``scenario`` is then relative to the current directory).
    threads:
        Worker threads; ``None`` or 0: every core. The tables are identical whatever the
        count.
    out:
        The output directory, kept (and resumed, like the CLI, if the sweep was
        interrupted). By default a temporary directory, read into memory and removed.

    Returns a :class:`Sweep`. Raises :class:`ExperimentError` for an invalid experiment
    (naming file, field, value and what is allowed) and :class:`SweepError` when ``out``
    cannot be written or holds another experiment's sweep. The GIL is released while the
    sweep runs.
    """
    path: Optional[str] = None
    text: Optional[str] = None
    if isinstance(experiment, dict):
        label = "<dict>"
        text = _dict_text(experiment, label, "ExperimentError")
    elif isinstance(experiment, str) and ("\n" in experiment or "\r" in experiment):
        label = "<text>"
        text = experiment
    elif isinstance(experiment, (str, os.PathLike)):
        path = os.fspath(experiment)
        label = path
    else:
        raise TypeError(
            "experiment: expected a path, TOML text or a dict, "
            f"not {type(experiment).__name__}"
        )
    if threads is not None:
        threads = _whole(threads, "threads", upper=2**16)
    if out is not None:
        out = os.fspath(out)
        failures = _silos.sweep(path, text, label, os.getcwd(), out, threads)
        return Sweep(Tables(SWEEP_TABLES, None, out), read_manifest(out), failures, out)
    tmp = tempfile.mkdtemp(prefix="silos-sweep-")
    try:
        failures = _silos.sweep(path, text, label, os.getcwd(), tmp, threads)
        texts = read_dir(tmp, SWEEP_TABLES)
        manifest = read_manifest(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Sweep(Tables(SWEEP_TABLES, texts, None), manifest, failures, None)


def columns():
    """Every column of a run's CSV files, as a pandas DataFrame with ``file``, ``column``,
    ``unit`` and ``meaning`` (what ``silos columns`` prints)."""
    import pandas as pd

    return pd.DataFrame(_silos.columns(), columns=["file", "column", "unit", "meaning"])


def derive_seed(master_seed: int, point: int, replicate: int) -> int:
    """The seed of a sweep's run at (master seed, design point, replicate)
    (``docs/experiments.md``): every arm at one point and replicate shares it."""
    return _silos.derive_seed(master_seed, point, replicate)


def parameters():
    """Every scenario parameter and lever, as a pandas DataFrame with one row each:
    ``path`` (as ``set`` takes it; ``agencies[].income`` is set per agency as
    ``agencies.NAME.income``), ``table``, ``field``, ``kind``, ``unit``, ``default``,
    ``allowed``, ``meaning`` and ``source`` (lines of the source studies, or ``assumed``).
    Read from the field tables of ``docs/scenarios.md`` (what ``silos params`` prints)."""
    import pandas as pd

    cols = ["path", "table", "field", "kind", "unit", "default", "allowed", "meaning", "source"]
    return pd.DataFrame(json.loads(_silos.parameters()), columns=cols)
