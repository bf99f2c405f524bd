"""silos.sweep against `silos sweep`, across input forms and thread counts."""

import json

import pandas as pd
import pytest

import silos

FILES = ["points", "runs", "summary", "paired", "effects", "agencies_summary",
         "dumping_summary", "agenda_summary", "failures", "localities_summary", "series"]

SMALL = {
    "experiment": {"name": "small", "scenario": "small.toml", "replicates": 4,
                   "master_seed": 11, "ticks": 12, "reference_arm": "ra"},
    "arms": [{"name": "ra", "behaviour": "ra"},
             {"name": "bp", "behaviour": "bp", "set": {"model.hop_limit": 2}}],
    "factors": [{"path": "levers.host_reimbursement", "name": "reimbursement",
                 "values": [0.0, 0.5, 1.0]}],
}


@pytest.fixture(scope="module")
def cli_sweep(cli, repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli-sweep")
    cli("sweep", repo / "tests/fixtures/experiment-small.toml", "--no-plots", "--quiet",
        "--threads", "2", "--out", out)
    return out


def test_a_sweep_gives_the_clis_tables(cli_sweep, repo):
    s = silos.sweep(repo / "tests/fixtures/experiment-small.toml", threads=2)
    for f in FILES:
        assert s.csv(f) == (cli_sweep / f"{f}.csv").read_text(), f
    assert len(s.runs) == 3 * 2 * 4
    assert set(s.runs.arm) == {"ra", "bp"}
    assert s.failures == 0
    assert list(s.points.columns) == ["point", "reimbursement"]
    assert {"mean_diff", "diff_ci_low", "diff_ci_high"} <= set(s.effects.columns)
    assert {"tick", "observable", "mean_diff"} <= set(s.paired.columns)
    assert {"tick", "observable", "mean"} <= set(s.summary.columns)
    m = json.loads((cli_sweep / "manifest.json").read_text())
    for k in ["experiment", "arms", "points", "runs", "master_seed", "files"]:
        assert s.manifest[k] == m[k], k
    # A run of the sweep is a plain run with the sweep's seed and settings.
    row = s.runs[(s.runs.arm == "bp") & (s.runs.point == 1)].iloc[2]
    one = silos.run(repo / "tests/fixtures/small.toml", seed=int(row.seed), behaviour="bp",
                    ticks=12, set={"levers.host_reimbursement": 0.5, "model.hop_limit": 2})
    assert one.means()["share_need_met"] == row.share_need_met


def test_text_dict_threads_and_out(repo, monkeypatch, tmp_path):
    path = repo / "tests/fixtures/experiment-small.toml"
    one_thread = silos.sweep(path, threads=1)
    monkeypatch.chdir(repo / "tests/fixtures")  # `scenario` is relative to here
    as_text = silos.sweep(path.read_text(), threads=2)
    as_dict = silos.sweep(SMALL, threads=2)
    for f in FILES:
        assert as_text.csv(f) == one_thread.csv(f), f
        assert as_dict.csv(f) == one_thread.csv(f), f
    kept = silos.sweep(path, threads=2, out=tmp_path / "sweep")
    assert (tmp_path / "sweep" / "runs.csv").read_text() == one_thread.csv("runs")
    assert kept.out == str(tmp_path / "sweep")
    pd.testing.assert_frame_equal(kept.effects, one_thread.effects)
    # Run again into the same directory: everything is kept, nothing is redone.
    again = silos.sweep(path, threads=2, out=tmp_path / "sweep")
    assert again.manifest["runs_done_by_this_invocation"] == 0
    assert again.csv("runs") == one_thread.csv("runs")
    # Another experiment into that directory is refused.
    other = dict(SMALL, experiment=dict(SMALL["experiment"], master_seed=12))
    with pytest.raises(silos.SweepError) as e:
        silos.sweep(other, out=tmp_path / "sweep")
    assert e.value.file is not None


def test_experiment_errors(cli, repo, tmp_path):
    bad = dict(SMALL, experiment=dict(SMALL["experiment"], replicates=0,
                                      scenario=str(repo / "tests/fixtures/small.toml")))
    with pytest.raises(silos.ExperimentError) as e:
        silos.sweep(bad)
    err = e.value
    assert (err.file, err.field, err.value) == ("<dict>", "experiment.replicates", "0")
    assert err.allowed == "a whole number >= 1"
    # An arm whose overrides break the scenario: which point and arm, and the field.
    text_file = tmp_path / "exp.toml"
    text_file.write_text(
        (repo / "tests/fixtures/experiment-small.toml").read_text()
        .replace('scenario = "small.toml"', f'scenario = "{repo}/tests/fixtures/small.toml"')
        .replace('set = { "model.hop_limit" = 2 }', 'set = { "model.referral_loss" = 2.0 }')
    )
    done = cli("sweep", text_file, "--no-plots", "--quiet", "--out", tmp_path / "o", check=False)
    assert done.returncode == 2
    with pytest.raises(silos.ExperimentError) as e:
        silos.sweep(text_file)
    err = e.value
    assert "error: " + str(err) + "\n" == done.stderr
    assert err.arm == "bp" and err.field == "model.referral_loss" and err.value == "2"
    assert err.point == 0 and err.settings == "reimbursement=0.0"


def test_a_sweep_refuses_a_run_folder(repo, tmp_path):
    silos.run(ticks=2, out=tmp_path / "run")
    with pytest.raises(silos.SweepError) as e:
        silos.sweep(repo / "tests/fixtures/experiment-small.toml", out=tmp_path / "run")
    assert "a run's output" in str(e.value) and e.value.file == str(tmp_path / "run")
