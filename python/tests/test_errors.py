"""Errors are Python exceptions carrying the CLI's message, file, field, value and range."""

import pytest

import silos


def cli_error(cli, tmp_path, *args):
    done = cli("run", *args, "--quiet", "--no-plots", "--out", tmp_path / "out", check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    return done.stderr[len("error: "):].rstrip("\n")


def test_an_override_out_of_range(cli, tmp_path):
    want = cli_error(cli, tmp_path, "--set", "levers.host_reimbursement=1.5")
    for form in ({"levers.host_reimbursement": 1.5}, ["levers.host_reimbursement=1.5"]):
        with pytest.raises(silos.ScenarioError) as e:
            silos.run(set=form, ticks=3)
        err = e.value
        assert str(err) == want
        assert err.file == (
            "<embedded>/scenarios/homelessness.toml (with --set levers.host_reimbursement=1.5)"
        )
        assert err.field == "levers.host_reimbursement"
        assert err.value == "1.5"
        assert err.allowed == "a number from 0 to 1"
        # One hierarchy: a ScenarioError is a SilosError and a ValueError.
        assert isinstance(err, silos.SilosError) and isinstance(err, ValueError)


def test_a_file_with_a_bad_field(cli, tmp_path, repo):
    text = (repo / "scenarios" / "homelessness.toml").read_text()
    assert "\nticks = 120\n" in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("\nticks = 120\n", "\nticks = 0\n"))
    want = cli_error(cli, tmp_path, bad)
    with pytest.raises(silos.ScenarioError) as e:
        silos.run(bad)
    assert str(e.value) == want
    assert (e.value.file, e.value.field, e.value.value) == (str(bad), "scenario.ticks", "0")
    assert e.value.allowed == "a whole number of ticks >= 1"
    # silos.scenario.load checks the same way, before any run.
    with pytest.raises(silos.ScenarioError) as e2:
        silos.scenario.load(bad)
    assert str(e2.value) == want


def test_a_file_that_is_not_toml_and_a_missing_file(cli, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[scenario\nname = 1\n")
    want = cli_error(cli, tmp_path, broken)
    with pytest.raises(silos.ScenarioError) as e:
        silos.run(broken)
    assert str(e.value) == want
    assert e.value.file == str(broken) and e.value.field is None
    missing = tmp_path / "missing.toml"
    want = cli_error(cli, tmp_path, missing)
    with pytest.raises(silos.ScenarioError) as e:
        silos.run(missing)
    assert str(e.value) == want and e.value.file == str(missing)


def test_an_unknown_path_names_what_is_allowed(cli, tmp_path):
    want = cli_error(cli, tmp_path, "--set", "agencies.nobody.income=1")
    with pytest.raises(silos.ScenarioError) as e:
        silos.run(set={"agencies.nobody.income": 1}, ticks=3)
    assert str(e.value) == want
    assert e.value.field == "agencies.nobody.income"
    assert "housing_authority" in e.value.allowed


def test_bad_arguments():
    with pytest.raises(silos.SilosError) as e:
        silos.run(behaviour="ra-bounded")
    assert "allowed: ra, bp, mixed" in str(e.value) and e.value.field == "behaviour"
    for bad in (-1, 2**64, 1.5, True):
        with pytest.raises(silos.SilosError) as e:
            silos.run(seed=bad)
        assert e.value.field == "seed"
    with pytest.raises(silos.SilosError):
        silos.run(ticks=0)
    with pytest.raises(silos.ScenarioError):
        silos.run(set={"levers.host_reimbursement": None})
    with pytest.raises(silos.ScenarioError):
        silos.run(set={"levers.host_reimbursement": float("nan")})
    with pytest.raises(TypeError):
        silos.run(42)


def test_a_national_scenario_is_left_to_the_cli(repo):
    with pytest.raises(silos.SilosError) as e:
        silos.run(repo / "scenarios" / "national.toml", ticks=1)
    assert "national scenario" in str(e.value) and "silos run" in str(e.value)
    assert silos.scenario.load(repo / "scenarios" / "national.toml").localities > 1
