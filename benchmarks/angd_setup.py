"""What an ANGD solve costs before its iterations: the network drawn into the lean layout
against built with ``nn`` and copied, alternated.

    python benchmarks/angd_setup.py [--solves 41] [--rounds 2]

A solve of tuned ANGD-FCN with ``pilot=1, iters=1`` (two iterations: what the paper
scenario's held-out instances need, since the start is at the target there) is mostly set-up:
the network draw, the channel metric, the buffers. "drawn" is the package's path
(``_angd_nets.init_from_stream`` draws each layer from its own child stream straight into the
lean layout, and with ``zero_last`` not the output layer at all); "copied" is the path it
replaced, restored here for the comparison: ``nn.fcn`` builds the network (its flat buffers,
gradients and views), ``load_nn`` copies it, ``zero_last`` zeroes the output layer. Both give
the same numbers bit for bit (``tests/solvers/test_angd_engine.py``). One instance at a time,
one core (``workers=1``, BLAS held to one thread), the paper preset, at (16, 2), (32, 4) and
(64, 8); each round times both paths alternately, median per solve, and their ratio.
"""

import argparse
import os
import statistics
import time

import numpy as np
from _swap import swapped

import angd_np as an
from angd_np import nn
from angd_np.solvers import _angd_nets

SIZES = ((16, 2), (32, 4), (64, 8))


def _copied(lean, network, M, K, opts, stream):
    """The earlier path: build the nn network, copy it into the lean layout."""
    if network == "fcn":
        net = nn.fcn(2 * M * K, opts.hidden, rng=stream, init=opts.net_init)
    else:
        net = nn.cnn(M * K, rng=stream, init=opts.net_init, channels=opts.channels,
                     kernel_size=opts.kernel_size)
    lean.load_nn(net)
    if opts.zero_last:
        lean.zero_last()


def _solves_ms(problems, solves):
    times = []
    for i in range(solves):
        problem = problems[i % len(problems)]
        t0 = time.perf_counter()
        an.solve(problem, "angd-fcn", variant="tuned", rng=i, pilot=1, iters=1, workers=1,
                 threads=1, return_state=False)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=41)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"# {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; numpy "
          f"{np.__version__}; tuned ANGD-FCN, pilot=1, iters=1, paper preset, one at a time")
    real = _angd_nets.init_from_stream
    for M, K in SIZES:
        scenario = an.Scenario.preset("paper", n_tx=M, n_users=K)
        problems = [scenario.draw(1, rng=np.random.default_rng(i)) for i in range(8)]
        for r in range(args.rounds):
            row = {}
            for mode in ("copied", "drawn"):
                with swapped(_angd_nets, "init_from_stream",
                             _copied if mode == "copied" else real):
                    _solves_ms(problems, 2)  # warm-up
                    row[mode] = _solves_ms(problems, args.solves)
            print(f"({M}, {K}) round {r + 1}: copied {row['copied']:.2f} ms, drawn "
                  f"{row['drawn']:.2f} ms ({row['drawn'] / row['copied']:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
