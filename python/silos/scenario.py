"""Scenarios: load one from a path, TOML text or a dict, validate it, and look inside.

A scenario is given to :func:`silos.run` (and :func:`load`) as any of:

- ``None`` or ``"default"``: the default scenario embedded in silos
  (``scenarios/homelessness.toml``);
- a path (a :class:`pathlib.Path`, or a string without a line break);
- TOML text (a string with a line break in it);
- a dict with the structure of the TOML file (as :func:`to_dict` returns it);
- a :class:`Scenario` from :func:`load` or :func:`default` (its overrides come with it).

Overrides (``set``) are either a dict ``{path: value}`` with Python values
(``{"levers.host_reimbursement": 0.5, "levers.forum_rule": "equal_votes"}``) or a list of
``"path=value"`` strings read exactly as ``silos run --set`` reads them. Paths are those of
``docs/scenarios.md``: ``model.hop_limit``, ``agencies.housing_authority.income``,
``agencies[4].behaviour``, ``mechanisms.homelessness_forum.agenda_rule`` and so on.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union

from . import _silos
from ._errors import ScenarioError

__all__ = ["Scenario", "load", "default", "to_dict"]

Overrides = Union[None, Mapping[str, Any], str, Iterable[Union[str, Tuple[str, Any]]]]


def _json_default(x: Any) -> Any:
    """numpy scalars (as EMA Workbench and SALib hand them over) as plain Python values."""
    item = getattr(x, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{x!r} ({type(x).__name__}) has no TOML form")


def _value_json(path: str, value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ScenarioError(
            f"set[{path!r}] = {value!r}: {e}", field=path, value=repr(value)
        ) from None


def _overrides(set: Overrides) -> List[Tuple[str, Optional[str]]]:
    """Overrides in the form the native layer takes: ``(path, json)`` for a typed value,
    ``(text, None)`` for a ``path=value`` string."""
    if set is None:
        return []
    if isinstance(set, str):
        return [(set, None)]
    if isinstance(set, Mapping):
        return [(str(k), _value_json(str(k), v)) for k, v in set.items()]
    out: List[Tuple[str, Optional[str]]] = []
    for item in set:
        if isinstance(item, str):
            out.append((item, None))
        elif isinstance(item, tuple) and len(item) == 2 and item[1] is None:
            out.append((str(item[0]), None))
        elif isinstance(item, tuple) and len(item) == 2:
            out.append((str(item[0]), _value_json(str(item[0]), item[1])))
        else:
            raise ScenarioError(
                f"set: {item!r} is neither a 'path=value' string nor a (path, value) pair",
                field="set",
                value=repr(item),
                allowed="a dict {path: value}, or a list of 'path=value' strings",
            )
    return out


def _read(path: Union[str, "os.PathLike[str]"]) -> Tuple[str, str]:
    """A scenario file's text and label, read as the CLI reads it (bytes kept exact)."""
    label = os.fspath(path)
    try:
        with open(label, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ScenarioError(
            f"{label}: cannot read the scenario file: {e.strerror} (os error {e.errno})",
            file=label,
        ) from None
    try:
        return data.decode("utf-8"), label
    except UnicodeDecodeError:
        raise ScenarioError(f"{label}: not UTF-8 text", file=label) from None


def _dict_text(d: Mapping[str, Any], label: str, error: str) -> str:
    try:
        js = json.dumps(d, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ScenarioError(f"{label}: {e}", file=label) from None
    return _silos.toml_from_json(js, label, error)


def _source(source: Any) -> Tuple[str, str, List[Tuple[str, Optional[str]]]]:
    """(text, label, overrides carried by a Scenario) of any accepted scenario source."""
    if isinstance(source, Scenario):
        return source.text, source.label, list(source._set)
    if source is None or (isinstance(source, str) and source == "default"):
        label, text = _silos.default_scenario()
        return text, label, []
    if isinstance(source, Mapping):
        return _dict_text(source, "<dict>", "ScenarioError"), "<dict>", []
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        return source, "<text>", []
    if isinstance(source, (str, os.PathLike)):
        text, label = _read(source)
        return text, label, []
    raise TypeError(
        "scenario: expected None, 'default', a path, TOML text, a dict or a silos.Scenario, "
        f"not {type(source).__name__}"
    )


class Scenario:
    """A validated scenario: its TOML text, where it came from, and the overrides applied.

    Made by :func:`load` or :func:`default`; pass it to :func:`silos.run` as the scenario.
    Attributes: ``text`` (the TOML as read), ``label`` (its name in messages and in the
    manifest: the path as given, ``<embedded>/scenarios/homelessness.toml``, ``<text>`` or
    ``<dict>``), ``overrides`` (the ``path=value`` texts applied), and from the validated
    scenario ``name``, ``description``, ``ticks``, ``seed``, ``dimensions``, ``groups``,
    ``agencies``, ``mechanisms`` (names) and ``localities`` (the number of localities of a
    national template, else ``None``).
    """

    def __init__(self, text: str, label: str, sets: List[Tuple[str, Optional[str]]]) -> None:
        # `sets` are overrides as `_overrides` returns them; use load() to make a Scenario.
        self.text = text
        self.label = label
        self._set = list(sets)
        info = json.loads(_silos.check(text, label, self._set))
        self.name: str = info["name"]
        self.description: str = info["description"]
        self.ticks: int = info["ticks"]
        self.seed: int = info["seed"]
        self.dimensions: List[str] = info["dimensions"]
        self.groups: List[str] = info["groups"]
        self.agencies: List[str] = info["agencies"]
        self.mechanisms: List[str] = info["mechanisms"]
        self.localities: Optional[int] = info["localities"]
        #: The overrides applied, as ``path=value`` texts (as the manifest records them).
        self.overrides: List[str] = info["overrides"]

    def with_set(self, set: Overrides) -> "Scenario":
        """This scenario with more overrides applied after its own."""
        return Scenario(self.text, self.label, self._set + _overrides(set))

    def to_dict(self) -> dict:
        """The scenario file, overrides applied, as nested dicts and lists."""
        return json.loads(_silos.to_json(self.text, self.label, self._set))

    def __repr__(self) -> str:
        sets = f", set={self.overrides!r}" if self._set else ""
        return (
            f"<silos.Scenario {self.name!r} from {self.label}{sets}: {len(self.agencies)} "
            f"agencies, {len(self.groups)} groups, {self.ticks} ticks, seed {self.seed}>"
        )


def load(source: Any = None, *, set: Overrides = None) -> Scenario:
    """Read and validate a scenario (path, TOML text, dict, ``None`` for the default), with
    overrides. Raises :class:`silos.ScenarioError` naming the file, field, value and what is
    allowed, as ``silos check`` does."""
    text, label, carried = _source(source)
    return Scenario(text, label, carried + _overrides(set))


def default() -> Scenario:
    """The default scenario embedded in silos (``scenarios/homelessness.toml``)."""
    return load(None)


def to_dict(source: Any = None, *, set: Overrides = None) -> dict:
    """A scenario as nested dicts and lists (overrides applied), ready to edit and pass back
    to :func:`silos.run` or :func:`load`. ``to_dict()`` is the default scenario."""
    return load(source, set=set).to_dict()
