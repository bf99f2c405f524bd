"""silos as an EMA Workbench model: exploratory modelling of levers under uncertainty.

:func:`model` builds an :class:`ema_workbench.Model` from a scenario, the levers and
uncertainties to vary (any scenario path, with a range), and the outcomes to record. Each
evaluation runs silos once per replicate in-process and returns, for each outcome, the mean
over replicates of a run-level statistic (by default the mean of a ``ticks.csv`` column over
the run's ticks, skipping NA: the number a sweep's ``runs.csv`` holds).

Replicates use common random numbers: replicate ``r`` runs with the seed
``silos.derive_seed(seed, 0, r)`` whatever the lever and uncertainty values, so two policies
are compared on the same case arrivals and shocks. These are the seeds of design point 0 of a
sweep with ``master_seed = seed``.

>>> from ema_workbench import SequentialEvaluator
>>> m = silos.ema.model(
...     "silos",
...     levers={"levers.host_reimbursement": (0.0, 1.0), "model.hop_limit": (1, 8)},
...     uncertainties={"model.referral_loss": (0.0, 0.3)},
...     outcomes=["share_need_met", "dumped_share"],
...     replicates=3, behaviour="bp", ticks=60)
>>> with SequentialEvaluator(m) as ev:                          # doctest: +SKIP
...     experiments, outcomes = ev.perform_experiments(scenarios=4, policies=2)

Needs ``ema_workbench`` (``pip install ema_workbench``). The model pickles, so EMA's
``MultiprocessingEvaluator`` and ``MPIEvaluator`` run it (``docs/scaling.md``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

try:
    import ema_workbench as _ema
except ImportError as e:  # pragma: no cover - exercised only without ema_workbench
    raise ImportError(
        "silos.ema needs the EMA Workbench: pip install ema_workbench"
    ) from e

from . import _silos
from ._errors import ScenarioError
from .scenario import Scenario, _overrides, _source

__all__ = ["model", "replicate_seeds", "parameter", "SilosFunction"]

Spec = Union[Tuple[Any, Any], List[Any], "_ema.em_framework.parameters.Parameter"]


def replicate_seeds(seed: int, replicates: int) -> List[int]:
    """The seeds of replicates ``0..replicates-1``: ``derive_seed(seed, 0, r)``."""
    return [_silos.derive_seed(seed, 0, r) for r in range(replicates)]


def _name(path: str) -> str:
    """An EMA name (a Python identifier) for a scenario path: ``levers.host_reimbursement``
    becomes ``levers_host_reimbursement``."""
    n = re.sub(r"\W+", "_", path).strip("_")
    return n if n.isidentifier() else "p_" + n


def parameter(path: str, spec: Spec, name: Optional[str] = None):
    """An EMA parameter for the scenario field ``path``.

    ``spec`` is ``(low, high)`` (whole numbers: an ``IntegerParameter``; otherwise a
    ``RealParameter``), or a list of values (a ``CategoricalParameter``). The parameter's
    ``variable_name`` is the path, and its ``name`` (a Python identifier, as EMA requires)
    is ``name`` or the path with its dots as underscores.
    """
    name = name or _name(path)
    if isinstance(spec, tuple) and len(spec) == 2:
        lo, hi = spec
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi))
        cls = _ema.IntegerParameter if ints else _ema.RealParameter
        return cls(name, lo, hi, variable_name=path)
    if isinstance(spec, (list, set, frozenset)) and len(spec) > 0:
        return _ema.CategoricalParameter(name, list(spec), variable_name=path)
    raise ScenarioError(
        f"{path}: range {spec!r} is neither (low, high) nor a list of values",
        field=path,
        value=repr(spec),
        allowed="(low, high) for a number, or a list of values",
    )


def _parameters(specs: Union[None, Mapping[str, Spec], Iterable[Any]]) -> list:
    if specs is None:
        return []
    if isinstance(specs, Mapping):
        return [parameter(p, s) for p, s in specs.items()]
    return list(specs)


def _paths(p) -> List[str]:
    return list(p.variable_name)


def _bounds(p) -> List[Any]:
    """Values a parameter can take at its extremes, to validate before any run."""
    cats = getattr(p, "categories", None)
    if cats is not None:
        return [c.value for c in cats]
    return [p.lower_bound, p.upper_bound]


def _ticks_mean(column: str) -> Callable[[Any], float]:
    return _TicksMean(column)


class _TicksMean:
    """The run mean of a ``ticks.csv`` column over ticks, skipping NA."""

    def __init__(self, column: str) -> None:
        self.column = column

    def __call__(self, run) -> float:
        return float(run.ticks[self.column].mean())


class SilosFunction:
    """The callable an EMA model evaluates: runs silos once per replicate seed with the
    experiment's values as overrides, and returns each outcome's mean over replicates
    (replicates where the statistic is undefined, NaN, are left out; NaN if all are).

    It holds only the scenario text and plain settings, so it pickles to worker processes.
    """

    def __init__(
        self,
        text: str,
        label: str,
        sets: List[Tuple[str, Optional[str]]],
        behaviour: str,
        ticks: Optional[int],
        seeds: List[int],
        outcomes: Dict[str, Callable[[Any], float]],
    ) -> None:
        self.text = text
        self.label = label
        self.sets = sets
        self.behaviour = behaviour
        self.ticks = ticks
        self.seeds = seeds
        self.outcomes = outcomes

    def runs(self, **values: Any):
        """The runs of one experiment (``{scenario path: value}``), one per replicate."""
        from . import _run_source

        sets = self.sets + _overrides(dict(values))
        return [
            _run_source(self.text, self.label, sets, seed, self.behaviour, self.ticks, None)
            for seed in self.seeds
        ]

    def __call__(self, **values: Any) -> Dict[str, float]:
        runs = self.runs(**values)
        result = {}
        for name, stat in self.outcomes.items():
            xs = [stat(r) for r in runs]
            xs = [x for x in xs if not math.isnan(x)]
            result[name] = sum(xs) / len(xs) if xs else float("nan")
        return result


def model(
    name: str = "silos",
    scenario: Any = None,
    *,
    levers: Union[None, Mapping[str, Spec], Iterable[Any]] = None,
    uncertainties: Union[None, Mapping[str, Spec], Iterable[Any]] = None,
    outcomes: Union[Iterable[str], Mapping[str, Callable[[Any], float]]] = ("share_need_met",),
    replicates: int = 5,
    seed: Optional[int] = None,
    behaviour: str = "mixed",
    ticks: Optional[int] = None,
    set: Any = None,
):
    """An :class:`ema_workbench.Model` of a silos scenario.

    Parameters
    ----------
    name:
        The model's name (letters and digits, as EMA requires).
    scenario:
        Any scenario :func:`silos.run` takes (default: the embedded default).
    levers, uncertainties:
        ``{scenario path: range}``: ``(low, high)`` with whole numbers gives an
        ``IntegerParameter``, with other numbers a ``RealParameter``, and a list of values a
        ``CategoricalParameter``; the EMA name is the path with dots as underscores
        (``levers.host_reimbursement`` -> ``levers_host_reimbursement``). Or a list of EMA
        parameters whose ``variable_name`` is a scenario path (:func:`parameter` makes
        them, with names of your choice). Every path and both ends of every range are
        validated against the scenario here, before any run.
    outcomes:
        ``ticks.csv`` columns (each recorded as its run mean over ticks), or
        ``{name: function(run) -> float}`` taking a :class:`silos.Run` (use module-level
        functions so that the model pickles for parallel evaluators).
    replicates:
        Runs per experiment, on common random numbers (:func:`replicate_seeds`).
    seed:
        The master seed of the replicate seeds; default: the scenario's ``scenario.seed``.
    behaviour, ticks, set:
        As for :func:`silos.run`; ``set`` holds fixed overrides applied before the
        experiment's values.
    """
    text, label, carried = _source(scenario)
    base = carried + _overrides(set)
    checked = Scenario(text, label, base)
    params_l = _parameters(levers)
    params_u = _parameters(uncertainties)
    for p in params_l + params_u:
        for path in _paths(p):
            for v in _bounds(p):
                checked.with_set({path: v})
    if isinstance(outcomes, Mapping):
        stats = dict(outcomes)
    else:
        from . import columns

        ticks_columns = frozenset(columns().query("file == 'ticks.csv'")["column"])
        stats = {}
        for o in outcomes:
            if o not in ticks_columns or o == "tick":
                raise ScenarioError(
                    f"outcome {o!r} is not a ticks.csv observable",
                    field="outcomes",
                    value=repr(o),
                    allowed="a ticks.csv column (silos.columns()), or {name: function(run)}",
                )
            stats[o] = _ticks_mean(o)
    if not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(
            f"replicates {replicates!r}: expected a whole number >= 1",
            field="replicates",
            value=repr(replicates),
            allowed="a whole number >= 1",
        )
    from . import _whole

    master = checked.seed if seed is None else _whole(seed, "seed")
    if ticks is not None:
        ticks = _whole(ticks, "ticks", upper=2**32)
    fn = SilosFunction(
        text, label, base, behaviour, ticks, replicate_seeds(master, replicates), stats
    )
    m = _ema.Model(name, function=fn)
    m.levers = params_l
    m.uncertainties = params_u
    m.outcomes = [_ema.ScalarOutcome(o) for o in stats]
    return m

