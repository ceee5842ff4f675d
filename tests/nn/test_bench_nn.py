"""The nn benchmark times the paper's networks, says what it timed and on which machine
(no timing is asserted)."""

import os

import numpy as np

from angd_np.bench import nn as bench_nn
from angd_np.nn import fcn


def test_a_row_describes_the_network_it_trained_and_the_table_names_the_machine():
    net = fcn(4, 8, rng=0)
    before = net.flat_params.copy()
    row = bench_nn.time_step(net, np.ones((1, 4)), 3, name="fcn(4, 8)")
    assert row["n_params"] == (4 * 8 + 8) + (8 * 8 + 8) + (8 * 4 + 4)
    assert not np.array_equal(net.flat_params, before)  # the timed steps are Adam steps
    table = bench_nn.format_rows([row])
    assert f"{os.cpu_count()} cores" in table and "| fcn(4, 8) | 148 |" in table


def test_the_benchmarked_networks_are_the_papers_at_m16_k2():
    sizes = {name: build(0).n_params for name, build, _ in bench_nn.NETWORKS}
    # FCN 64-128-128-64 (eq. 9); CNN: two 3-tap convolutions of 16 channels, then a dense
    # layer from 16 x 32 features to the 64 outputs.
    assert sizes["fcn(64, 128)"] == (64 * 128 + 128) + (128 * 128 + 128) + (128 * 64 + 64)
    assert sizes["cnn(32)"] == (16 * 2 * 3 + 16) + (16 * 16 * 3 + 16) + (16 * 32 * 64 + 64)
