"""silos.run, silos.scenario and silos.columns against the command line and themselves."""

import csv
import json
import math
import threading
import time

import numpy as np
import pytest

import silos

TABLES = ["ticks", "agencies", "groups", "needs", "dumping"]


def cli_run(cli, out, *args):
    cli("run", *args, "--quiet", "--no-plots", "--out", out)
    return {t: (out / f"{t}.csv").read_text() for t in TABLES}, json.loads(
        (out / "manifest.json").read_text()
    )


def assert_exact(frame, path):
    """Every cell of the DataFrame is the file's text read by Python's own float(): the
    numbers are exact, not within an ulp."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert list(frame.columns) == rows[0]
    assert len(frame) == len(rows) - 1
    for j, col in enumerate(rows[0]):
        values = frame[col].tolist()
        for i, row in enumerate(rows[1:]):
            cell, got = row[j], values[i]
            if cell == "NA":
                assert isinstance(got, float) and math.isnan(got), (col, i)
            else:
                try:
                    want = float(cell)
                except ValueError:
                    assert got == cell, (col, i)
                    continue
                assert float(got) == want, (col, i, cell, got)


CASES = [
    # (CLI arguments, silos.run keyword arguments)
    (["--seed", "7", "--ticks", "24", "--behaviour", "bp"], dict(seed=7, ticks=24, behaviour="bp")),
    (
        ["--seed", "3", "--ticks", "36", "--behaviour", "mixed",
         "--set", "levers.host_reimbursement=0.5", "--set", "model.hop_limit=2",
         "--set", "levers.forum_rule=equal_votes"],
        dict(seed=3, ticks=36, set={"levers.host_reimbursement": 0.5, "model.hop_limit": 2,
                                    "levers.forum_rule": "equal_votes"}),
    ),
    (["--behaviour", "ra", "--set", "search.mode=bounded"],
     dict(behaviour="ra", set=["search.mode=bounded"])),
]


@pytest.mark.parametrize("args,kwargs", CASES)
def test_same_seed_same_numbers_as_the_cli(cli, tmp_path, args, kwargs):
    want, manifest = cli_run(cli, tmp_path, *args)
    r = silos.run(**kwargs)
    for t in TABLES:
        # The same bytes, so the same numbers...
        assert r.csv(t) == want[t], t
        # ...and the DataFrame holds exactly the numbers in the file.
        assert_exact(r.table(t), tmp_path / f"{t}.csv")
    for k in ["scenario", "seed", "ticks", "behaviour", "overrides", "agencies", "files"]:
        assert r.manifest[k] == manifest[k], k


def test_a_run_is_a_pure_function_of_its_arguments():
    a = silos.run(seed=11, behaviour="mixed", ticks=24)
    b = silos.run(seed=11, behaviour="mixed", ticks=24)
    c = silos.run(seed=12, behaviour="mixed", ticks=24)
    assert all(a.csv(t) == b.csv(t) for t in TABLES)
    assert a.csv("ticks") != c.csv("ticks")
    # Arrivals come from their own stream: a behaviour or lever changes nothing of them.
    d = silos.run(seed=11, behaviour="bp", ticks=24, set={"levers.host_reimbursement": 1})
    assert a.ticks["arrivals"].tolist() == d.ticks["arrivals"].tolist()
    assert not a.ticks["share_need_met"].equals(d.ticks["share_need_met"])


def test_bp_at_lambda_zero_is_ra():
    ra = silos.run(seed=5, behaviour="ra", ticks=24)
    bp0 = silos.run(seed=5, behaviour="bp", ticks=24, set={"behaviours.bp.lambda": 0})
    assert ra.csv("ticks") == bp0.csv("ticks")


def test_tables_and_manifest(tmp_path):
    r = silos.run(seed=1, ticks=12)
    assert r.ticks["tick"].tolist() == list(range(1, 13))
    assert len(r.agencies) == 12 * len(r.manifest["agencies"])
    assert list(r.groups.columns[:3]) == ["tick", "group", "arrivals"]
    assert list(r.needs.columns[:3]) == ["tick", "needs", "arrivals"]
    # Two breakdowns of the same cases: each sums to the arena's arrivals.
    arrivals = r.ticks.set_index("tick")["arrivals"]
    assert r.groups.groupby("tick")["arrivals"].sum().equals(arrivals)
    assert r.needs.groupby("tick")["arrivals"].sum().equals(arrivals)
    assert list(r.dumping.columns) == [
        "sender", "receiver", "referrals", "dumped_referrals", "dumped_cost"]
    assert r.manifest["seed"] == 1 and r.manifest["ticks"] == 12
    assert r.manifest["build"]["features"] == []
    assert r.out is None
    # NA is NaN, and only NA: no other text becomes missing.
    raw = r.csv("ticks").splitlines()
    nas = sum(line.split(",").count("NA") for line in raw[1:])
    assert int(r.ticks.isna().sum().sum()) == nas
    means = r.means()
    assert means["arrivals"] == pytest.approx(r.ticks["arrivals"].mean())
    # The same run written to a directory, as the CLI writes it.
    kept = silos.run(seed=1, ticks=12, out=tmp_path / "kept")
    assert kept.out == str(tmp_path / "kept")
    assert (tmp_path / "kept" / "ticks.csv").read_text() == r.csv("ticks")
    assert kept.ticks.equals(r.ticks)


def test_polars_frames_hold_the_same_numbers():
    pl = pytest.importorskip("polars")
    r = silos.run(seed=2, ticks=12)
    for t in TABLES:
        p = r.to_polars(t)
        assert isinstance(p, pl.DataFrame)
        assert p.columns == list(r.table(t).columns)
        for c in p.columns:
            if r.table(t)[c].dtype.kind == "f":
                np.testing.assert_array_equal(
                    p[c].cast(pl.Float64).to_numpy(), r.table(t)[c].to_numpy(), err_msg=c
                )


def test_scenario_from_path_text_dict_and_object_give_the_same_run(repo):
    path = repo / "scenarios" / "homelessness.toml"
    text = path.read_text()
    kw = dict(seed=4, ticks=12, behaviour="bp")
    base = silos.run(**kw).csv("ticks")
    assert silos.run(None, **kw).csv("ticks") == base
    assert silos.run("default", **kw).csv("ticks") == base
    by_path = silos.run(path, **kw)
    assert by_path.csv("ticks") == base
    assert by_path.manifest["scenario"]["path"] == str(path)
    assert silos.run(str(path), **kw).csv("ticks") == base
    by_text = silos.run(text, **kw)
    assert by_text.csv("ticks") == base
    assert by_text.manifest["scenario"]["path"] == "<text>"
    # Same bytes, same hash as the embedded copy.
    assert by_text.manifest["scenario"]["sha256"] == by_path.manifest["scenario"]["sha256"]
    d = silos.scenario.to_dict(path)
    assert silos.run(d, **kw).csv("ticks") == base
    assert silos.run(silos.scenario.load(path), **kw).csv("ticks") == base


def test_scenario_load_to_dict_and_overrides():
    s = silos.scenario.default()
    assert s.name == "homelessness" and len(s.agencies) == 23 and s.localities is None
    assert "housing_authority" in s.agencies
    d = s.to_dict()
    assert d["scenario"]["name"] == "homelessness"
    # Overrides travel with the scenario and show in its dict and in a run's manifest.
    s2 = silos.scenario.load(set={"levers.host_reimbursement": 0.25})
    assert s2.overrides == ["levers.host_reimbursement=0.25"]
    assert s2.to_dict()["levers"]["host_reimbursement"] == 0.25
    s3 = s2.with_set(["model.hop_limit=3"])
    assert s3.overrides == ["levers.host_reimbursement=0.25", "model.hop_limit=3"]
    r = silos.run(s3, seed=1, ticks=6)
    assert r.manifest["overrides"] == s3.overrides
    same = silos.run(seed=1, ticks=6, set=["levers.host_reimbursement=0.25", "model.hop_limit=3"])
    assert r.csv("ticks") == same.csv("ticks")
    # An edited dict is a scenario.
    d["agencies"][0]["income"] = d["agencies"][0]["income"] * 2
    assert silos.scenario.load(d).label == "<dict>"
    edited = silos.run(d, seed=1, ticks=6).csv("agencies")
    assert edited != silos.run(seed=1, ticks=6).csv("agencies")


def test_columns_describe_every_column():
    cols = silos.columns()
    assert list(cols.columns) == ["file", "column", "unit", "meaning"]
    r = silos.run(seed=1, ticks=3)
    for t in TABLES:
        assert cols[cols.file == f"{t}.csv"]["column"].tolist() == list(r.table(t).columns)
    assert (cols.meaning.str.len() > 0).all()


def test_the_gil_is_released_while_the_model_runs():
    # While a long run goes on in another thread, this thread keeps running Python: the
    # longest pause between its steps stays far below the run's duration.
    took = {}

    def work():
        t = time.perf_counter()
        silos.run(seed=1, ticks=600)
        took["run"] = time.perf_counter() - t

    th = threading.Thread(target=work)
    gaps, last = [], time.perf_counter()
    th.start()
    while th.is_alive():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    th.join()
    assert took["run"] > 0.15, "the run should take long enough to measure"
    assert max(gaps) < took["run"] / 2, (max(gaps), took["run"])


def test_parameters_list_every_field_with_its_default_and_range():
    p = silos.parameters()
    assert list(p.columns) == [
        "path", "table", "field", "kind", "unit", "default", "allowed", "meaning", "source"]
    assert p.path.is_unique
    row = p.set_index("path").loc["levers.host_reimbursement"]
    assert row.default == "0.0" and row.allowed == "0 to 1" and row.meaning
    assert {"model.hop_limit", "behaviours.bp.lambda", "agencies[].income"} <= set(p.path)
    # A documented default of a plain numeric field is accepted as an override.
    for path in ["model.hop_limit", "levers.host_reimbursement", "levers.control"]:
        default = p.set_index("path").loc[path, "default"]
        silos.scenario.load(set=[f"{path}={default}"])


def test_a_run_refuses_a_folder_holding_other_output(tmp_path):
    sweep_dir = tmp_path / "sweep"
    sweep_dir.mkdir()
    (sweep_dir / "runs.csv").write_text("run_id\n")
    with pytest.raises(silos.SilosError) as e:
        silos.run(ticks=2, out=sweep_dir)
    assert e.value.file == str(sweep_dir) and "a sweep's output" in str(e.value)
    assert not (sweep_dir / "ticks.csv").exists()
