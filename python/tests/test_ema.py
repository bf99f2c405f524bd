"""silos.ema: an EMA Workbench model evaluated on a tiny design."""

import math
import pickle

import pytest

ema = pytest.importorskip("ema_workbench")

import silos  # noqa: E402
import silos.ema  # noqa: E402


def small_model(**kw):
    args = dict(
        levers={"levers.host_reimbursement": (0.0, 1.0), "model.hop_limit": (1, 4)},
        uncertainties={"model.referral_loss": (0.0, 0.3)},
        outcomes=["share_need_met", "dumped_share"],
        replicates=2,
        seed=99,
        behaviour="bp",
        ticks=12,
    )
    args.update(kw)
    return silos.ema.model("silos", **args)


def test_the_model_has_the_parameters_and_outcomes_asked_for():
    m = small_model()
    assert [p.name for p in m.levers] == ["levers_host_reimbursement", "model_hop_limit"]
    assert isinstance(m.levers["model_hop_limit"], ema.IntegerParameter)
    assert isinstance(m.levers["levers_host_reimbursement"], ema.RealParameter)
    assert list(m.uncertainties["model_referral_loss"].variable_name) == ["model.referral_loss"]
    assert [o.name for o in m.outcomes] == ["share_need_met", "dumped_share"]
    pickle.loads(pickle.dumps(m))  # parallel evaluators ship it to workers


def test_an_evaluation_is_the_mean_over_replicates_on_common_random_numbers():
    m = small_model()
    with ema.SequentialEvaluator(m) as ev:
        experiments, outcomes = ev.perform_experiments(scenarios=2, policies=2)
    assert len(experiments) == 4
    seeds = silos.ema.replicate_seeds(99, 2)
    assert seeds == [silos.derive_seed(99, 0, r) for r in range(2)]
    for i, row in experiments.iterrows():
        s = {
            "levers.host_reimbursement": row["levers_host_reimbursement"],
            "model.hop_limit": int(row["model_hop_limit"]),
            "model.referral_loss": row["model_referral_loss"],
        }
        runs = [silos.run(seed=seed, behaviour="bp", ticks=12, set=s) for seed in seeds]
        for o in ["share_need_met", "dumped_share"]:
            want = sum(r.ticks[o].mean() for r in runs) / 2
            assert outcomes[o][i] == pytest.approx(want, rel=1e-12), (i, o)
    # Common random numbers: whatever the lever values, replicate r sees the same arrivals.
    fn = m.function
    a = fn.runs(**{"levers.host_reimbursement": 0.0, "model.hop_limit": 1})
    b = fn.runs(**{"levers.host_reimbursement": 1.0, "model.hop_limit": 4})
    for ra, rb in zip(a, b):
        assert ra.ticks["arrivals"].tolist() == rb.ticks["arrivals"].tolist()
    assert a[0].ticks["arrivals"].tolist() != a[1].ticks["arrivals"].tolist()


def top_year_need_met(run):
    return float(run.ticks["share_need_met"].tail(6).mean())


def test_categorical_levers_custom_outcomes_and_fixed_overrides():
    m = silos.ema.model(
        "silos",
        levers={"levers.forum_rule": ["power_weighted", "equal_votes"]},
        outcomes={"late_need_met": top_year_need_met},
        replicates=1,
        seed=3,
        ticks=12,
        set={"levers.host_reimbursement": 0.5},
    )
    assert isinstance(m.levers["levers_forum_rule"], ema.CategoricalParameter)
    out = m.function(**{"levers.forum_rule": "equal_votes"})
    run = silos.run(seed=silos.derive_seed(3, 0, 0), ticks=12,
                    set={"levers.host_reimbursement": 0.5, "levers.forum_rule": "equal_votes"})
    assert out["late_need_met"] == top_year_need_met(run)
    assert not math.isnan(out["late_need_met"])


def test_bad_paths_ranges_and_outcomes_fail_before_any_run():
    with pytest.raises(silos.ScenarioError) as e:
        small_model(levers={"levers.host_reimbursement": (0.0, 1.5)})
    assert e.value.field == "levers.host_reimbursement" and e.value.value == "1.5"
    with pytest.raises(silos.ScenarioError) as e:
        small_model(uncertainties={"model.no_such_field": (0.0, 1.0)})
    # An unknown field is a parse error: the message names it and lists the known ones.
    assert "unknown field `no_such_field`" in str(e.value) and "hop_limit" in str(e.value)
    with pytest.raises(silos.ScenarioError):
        small_model(outcomes=["no_such_column"])
    with pytest.raises(silos.ScenarioError):
        small_model(replicates=0)
