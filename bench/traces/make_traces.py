"""Writes the usage traces that LabelControllerReplayTests replays (issue 12, hysteresis).

    python3 bench/traces/make_traces.py        # rewrites bench/traces/*.csv

Run once; the CSV files are committed, so the figures in BENCHMARKS.md come from
these exact samples. One row per sample at a 1 s interval: `second,percent`,
the percent with two decimals as the Echo Server's answers have them.

    noisy-threshold.csv  10 minutes at 75 % (the default MEMORY_PERCENT) with uniform
                         noise of +-0.5 points: the wobble of issue 12.
    drift.csv            10 minutes of a slow swing 65 % <-> 85 % (one cosine from the
                         low point: up through 75 % at 150 s, down through it at 450 s)
                         with the same noise: two real crossings, noise on each.
    step.csv             3 minutes without noise: 60 % for 60 s, 90 % for 60 s, 60 %.
"""
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 12  # the number; any fixed seed would do
SECONDS = 600


def write(name, percents):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("second,percent\n")
        for second, percent in enumerate(percents):
            f.write("%d,%.2f\n" % (second, percent))


def main():
    noise = random.Random(SEED)
    write("noisy-threshold.csv", [75 + noise.uniform(-0.5, 0.5) for _ in range(SECONDS)])
    noise = random.Random(SEED + 1)
    write("drift.csv", [75 - 10 * math.cos(2 * math.pi * second / SECONDS) + noise.uniform(-0.5, 0.5)
                        for second in range(SECONDS)])
    write("step.csv", [60.0] * 60 + [90.0] * 60 + [60.0] * 60)


if __name__ == "__main__":
    main()
