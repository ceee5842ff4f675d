"""The nn benchmark section produces well-formed rows and a table (no timing is asserted)."""

import numpy as np

from angd_np.bench import nn as bench_nn
from angd_np.nn import fcn


def test_time_step_returns_a_row_per_network_step_and_format_lists_it():
    net = fcn(4, 8, n_nets=2, rng=0)
    row = bench_nn.time_step(net, np.ones((2, 1, 4)), 3, name="fcn(4, 8)")
    assert row["n_nets"] == 2 and row["n_params"] == net.n_params and row["repeats"] == 3
    assert row["us_per_net_step"] > 0 and row["best_us_per_net_step"] <= row["us_per_net_step"]
    table = bench_nn.format_rows([row])
    assert "| fcn(4, 8) |" in table and "FCN best: B = 2" in table
