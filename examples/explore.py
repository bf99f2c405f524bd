"""Open exploration of levers under uncertainty with the EMA Workbench, ending in a PRIM box.

Which combinations of uncertain conditions leave the most need unmet, whatever the levers?
This script samples four levers (host reimbursement, a pooled budget, shared targets, the
forum's voting rule) and three uncertainties (referral loss, how much needs complement each
other, the rate of budget shocks), evaluates every (scenario, policy) pair on common random
numbers with EMA's MultiprocessingEvaluator, and asks PRIM for the box of conditions in
which need met falls into its worst quarter.

Run from the repository root, after `pip install ./python ema_workbench`:

    python examples/explore.py            # 100 scenarios x 8 policies x 3 replicates, 120 months
    SILOS_EXAMPLE_SMALL=1 python examples/explore.py     # a few seconds (the tests run this)

With `--mpi`, the same exploration runs on EMA's MPIEvaluator (mpi4py), for a cluster:
`mpiexec -n 1 python examples/explore.py --mpi` inside an allocation of N tasks spawns up to
N - 1 workers (docs/scaling.md).
"""

import os
import sys

import numpy as np
import pandas as pd
from ema_workbench import MPIEvaluator, MultiprocessingEvaluator
from ema_workbench.analysis import prim

import silos.ema

SMALL = os.environ.get("SILOS_EXAMPLE_SMALL") == "1"
SCENARIOS, POLICIES = (12, 2) if SMALL else (100, 8)
REPLICATES, TICKS = (1, 24) if SMALL else (3, 120)

LEVERS = {
    "levers.host_reimbursement": (0.0, 1.0),
    "levers.pooled_budget_share": (0.0, 0.1),
    "levers.shared_target_weight": (0.0, 1.0),
    "levers.forum_rule": ["power_weighted", "equal_votes", "need_weighted"],
}
UNCERTAINTIES = {
    "model.referral_loss": (0.0, 0.3),
    "model.complementarity": (0.4, 0.9),
    "model.shock_rate": (0.0, 0.3),
}


def main():
    model = silos.ema.model(
        "silos",
        levers=LEVERS,
        uncertainties=UNCERTAINTIES,
        outcomes=["share_need_met", "dumped_share", "coordination_index"],
        replicates=REPLICATES,
        seed=2009,
        behaviour="mixed",
        ticks=TICKS,
    )
    if "--mpi" in sys.argv[1:]:
        evaluator = MPIEvaluator(model)  # as many workers as the MPI universe allows
    else:
        evaluator = MultiprocessingEvaluator(model, n_processes=2)
    with evaluator:
        experiments, outcomes = evaluator.perform_experiments(
            scenarios=SCENARIOS, policies=POLICIES
        )
    names = [p.name for p in list(model.uncertainties) + list(model.levers)]
    results = experiments[names].assign(**outcomes)
    pd.set_option("display.width", 160, "display.max_columns", 12)
    print(f"{len(results)} experiments, {REPLICATES} replicate(s) each, {TICKS} months")
    print(results.describe().T[["mean", "min", "max"]].round(3))

    # Scenario discovery: the worst quarter of need met.
    need_met = outcomes["share_need_met"]
    worst = need_met <= np.quantile(need_met, 0.25)
    x = experiments[names].copy()
    x["levers_forum_rule"] = x["levers_forum_rule"].astype("category")
    finder = prim.Prim(x, worst, threshold=0.5, peel_alpha=0.1)
    box = finder.find_box()
    print(f"\nPRIM box for the worst quarter of need met ({int(worst.sum())} cases):")
    box.inspect()  # coverage, density, and the limits of each restricted dimension

if __name__ == "__main__":
    main()
