"""The examples in examples/ run, at a small size (SILOS_EXAMPLE_SMALL=1)."""

import os
import subprocess
import sys

import pytest


def run_script(repo, name):
    env = dict(os.environ, SILOS_EXAMPLE_SMALL="1")
    done = subprocess.run(
        [sys.executable, str(repo / "examples" / name)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_explore_with_ema_ends_in_a_prim_box(repo):
    pytest.importorskip("ema_workbench")
    out = run_script(repo, "explore.py")
    assert "24 experiments, 1 replicate(s) each, 24 months" in out
    assert "PRIM box for the worst quarter of need met" in out
    assert "coverage" in out and "density" in out


def test_sobol_of_a_levers_effect(repo):
    pytest.importorskip("SALib")
    out = run_script(repo, "sobol.py")
    assert "48 points x 2 arms x 1 replicate(s), 24 months" in out
    for name in ["levers.host_reimbursement", "model.referral_loss"]:
        assert name in out


def test_the_levers_notebook_runs_from_import_to_chart(repo, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SILOS_EXAMPLE_SMALL", "1")
    nb = nbformat.read(str(repo / "examples" / "levers.ipynb"), as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(repo)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    charts = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert len(charts) == 2
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "mean effect on need met" in text
