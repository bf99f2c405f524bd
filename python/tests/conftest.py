"""Shared fixtures: the repository root and the silos command-line binary to compare with."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def _find_cli():
    env = os.environ.get("SILOS_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        for target in (os.environ.get("CARGO_TARGET_DIR"), REPO / "target"):
            if target and (Path(target) / profile / "silos").is_file():
                return str(Path(target) / profile / "silos")
    return shutil.which("silos")


@pytest.fixture(scope="session")
def cli():
    """Run the silos binary (SILOS_BIN, else target/release or target/debug, else PATH)."""
    exe = _find_cli()
    if exe is None:
        pytest.skip(
            "no silos binary to compare with: build it (cargo build --release) or set SILOS_BIN"
        )

    def call(*args, cwd=None, check=True):
        done = subprocess.run(
            [exe, *map(str, args)], capture_output=True, text=True, cwd=cwd
        )
        if check and done.returncode != 0:
            raise AssertionError(f"silos {' '.join(map(str, args))}: {done.stderr}")
        return done

    return call
