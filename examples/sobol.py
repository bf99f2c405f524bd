"""Sobol indices of a lever's effect with SALib: what does the effect of reimbursing hosts
depend on?

The output is the paired effect of reimbursing hosts' coordination costs (a dose between 0
and 1) on the share of need met: need met with the dose minus need met without it, on the
same seeds (common random numbers), averaged over replicates. Its inputs are the dose and
three uncertain conditions (referral loss, complementarity of needs, budget shocks). First
order (S1) and total (ST) Sobol indices say how much of the effect's variance each input
explains alone and with its interactions.

Runs go in parallel in threads: silos releases the GIL while the model runs.

Run from the repository root, after `pip install ./python SALib`:

    python examples/sobol.py                 # N = 64: 384 points x 2 arms x 2 replicates
    SILOS_EXAMPLE_SMALL=1 python examples/sobol.py      # a few seconds (the tests run this)
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

import silos

SMALL = os.environ.get("SILOS_EXAMPLE_SMALL") == "1"
N, REPLICATES, TICKS = (8, 1, 24) if SMALL else (64, 2, 120)
SEEDS = [silos.derive_seed(2009, 0, r) for r in range(REPLICATES)]

PROBLEM = {
    "num_vars": 4,
    "names": [
        "levers.host_reimbursement",
        "model.referral_loss",
        "model.complementarity",
        "model.shock_rate",
    ],
    "bounds": [[0.0, 1.0], [0.0, 0.3], [0.4, 0.9], [0.0, 0.3]],
}


def need_met(settings, seed):
    run = silos.run(seed=seed, behaviour="mixed", ticks=TICKS, set=settings)
    return run.ticks["share_need_met"].mean()


def effect(x):
    """Need met with the dose minus need met without it, paired on each seed."""
    settings = dict(zip(PROBLEM["names"], x))
    baseline = dict(settings, **{"levers.host_reimbursement": 0.0})
    diffs = [need_met(settings, s) - need_met(baseline, s) for s in SEEDS]
    return float(np.mean(diffs))


def main():
    x = sobol_sample.sample(PROBLEM, N, calc_second_order=False, seed=2009)
    with ThreadPoolExecutor(max_workers=2) as pool:
        y = np.array(list(pool.map(effect, x)))
    print(f"{len(x)} points x 2 arms x {REPLICATES} replicate(s), {TICKS} months")
    print(f"effect of the dose on need met: mean {y.mean():+.4f}, "
          f"from {y.min():+.4f} to {y.max():+.4f}")
    si = sobol_analyze.analyze(PROBLEM, y, calc_second_order=False, seed=2009)
    print(f"\n{'input':<28} {'S1':>7} {'±95%':>7} {'ST':>7} {'±95%':>7}")
    for i, name in enumerate(PROBLEM["names"]):
        print(f"{name:<28} {si['S1'][i]:>7.3f} {si['S1_conf'][i]:>7.3f} "
              f"{si['ST'][i]:>7.3f} {si['ST_conf'][i]:>7.3f}")
    if SMALL:
        print("(a small run: the indices are for checking the plumbing, not for reading)")


if __name__ == "__main__":
    main()
