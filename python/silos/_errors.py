"""The exceptions silos raises.

Each carries the message the command line prints (without its ``error:`` prefix) as
``str(e)``, and, where the Rust error has them, the file, the field, the value found and what
is allowed there as attributes (``None`` where the error has no such part).
"""

from __future__ import annotations

from typing import Optional


class SilosError(Exception):
    """Base class of every error silos raises.

    Attributes: ``message`` (the CLI's message), ``file``, ``field``, ``value``, ``allowed``
    (strings, or ``None`` where the error does not name one).
    """

    def __init__(
        self,
        message: str,
        *,
        file: Optional[str] = None,
        field: Optional[str] = None,
        value: Optional[str] = None,
        allowed: Optional[str] = None,
        **extra: Optional[str],
    ) -> None:
        message = message.rstrip("\n")  # a TOML parse error ends with a line break
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field
        self.value = value
        self.allowed = allowed
        for k, v in extra.items():
            setattr(self, k, v)

    def __str__(self) -> str:
        return self.message


class ScenarioError(SilosError, ValueError):
    """A scenario that cannot be read, parsed or validated, or a bad ``set`` override.

    ``file`` names the scenario (its path, ``<embedded>/scenarios/homelessness.toml``,
    ``<text>`` or ``<dict>``, followed by ``(with --set ...)`` when overrides were applied);
    for a value out of range, ``field`` is its path, ``value`` the value found and
    ``allowed`` what the field accepts, exactly as ``silos run`` reports them.
    """


class ExperimentError(SilosError, ValueError):
    """An experiment that cannot be read, parsed or validated.

    ``file`` names the experiment. When the scenario of a design point and arm is invalid,
    ``point``, ``settings`` and ``arm`` say which, ``scenario_file`` names the scenario (with
    its overrides), and ``field``, ``value`` and ``allowed`` are the scenario's error.
    """

    def __init__(self, message: str, **attrs: Optional[str]) -> None:
        point = attrs.pop("point", None)
        super().__init__(message, **attrs)
        self.point = None if point is None else int(point)


class SweepError(SilosError, OSError):
    """A sweep that could not write its output directory, or a directory that holds another
    experiment's sweep (``file`` names it)."""


class ModelError(SilosError, RuntimeError):
    """A broken model invariant (case, money or staff-time conservation): a bug in silos.
    Please report it with the scenario, seed and behaviour."""


for _cls in (SilosError, ScenarioError, ExperimentError, SweepError, ModelError):
    _cls.__module__ = "silos"
del _cls
