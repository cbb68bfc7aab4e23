#!/usr/bin/env python3
"""NumPy reference for `sgnn bench simulate --vs-numpy`: the daily chain-binomial SIR,
vectorised over a batch of trajectories the way a careful Python user writes it (one
Generator.binomial call per compartment and day, over the whole batch).

    python3 scripts/numpy_sir.py --days 100 --population 1e5 --json

Prints simulations per second on one core (NumPy's binomial sampler is single-threaded).
"""
import argparse
import json
import time

import numpy as np


def simulate(rng, batch, days, population, r0, infectious_period, initial_infected):
    gamma = 1.0 / infectious_period
    beta = r0 * gamma
    s = np.full(batch, population - initial_infected, dtype=np.int64)
    i = np.full(batch, initial_infected, dtype=np.int64)
    p_recover = -np.expm1(-gamma)
    incidence = np.empty((batch, days), dtype=np.int64)
    for day in range(days):
        p_infect = -np.expm1(-beta * i / population)
        infected = rng.binomial(s, p_infect)
        recovered = rng.binomial(i, p_recover)
        s -= infected
        i += infected - recovered
        incidence[:, day] = infected
    return incidence


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--population", type=float, default=1e5)
    parser.add_argument("--r0", type=float, default=2.5)
    parser.add_argument("--infectious-period", type=float, default=5.0)
    parser.add_argument("--initial-infected", type=int, default=10)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=2.0, help="minimum time to measure")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    population = int(round(args.population))
    simulate(rng, args.batch, args.days, population, args.r0, args.infectious_period, args.initial_infected)  # warm-up
    runs, start = 0, time.perf_counter()
    total_cases = 0
    while True:
        out = simulate(rng, args.batch, args.days, population, args.r0, args.infectious_period, args.initial_infected)
        total_cases += int(out.sum())
        runs += args.batch
        elapsed = time.perf_counter() - start
        if elapsed >= args.seconds:
            break
    result = {"simulations_per_s": runs / elapsed, "batch": args.batch, "mean_cases": total_cases / runs,
              "numpy": np.__version__}
    print(json.dumps(result) if args.json else f"{result['simulations_per_s']:.0f} simulations/s (numpy {np.__version__})")


if __name__ == "__main__":
    main()
