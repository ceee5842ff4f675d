"""Tracking: frame after frame, with the solver's state carried over."""

import dataclasses

import numpy as np
import pytest

import angd_np as an
from angd_np.tracking import track

SCENARIO = an.Scenario.preset("balanced", n_tx=6)


@pytest.mark.parametrize("method", ["angd-fcn", "angd-cnn", "pgd", "adam"])
def test_carry_all_on_a_constant_channel_is_one_longer_solve(method):
    seq = SCENARIO.sequence(2, 2, rho=1.0, rng=0)
    gens = [np.random.default_rng(i) for i in (3, 4)]
    # ANGD's carried frames also score the frame's ZF and sensing beam (check_starts); this
    # test is about the carried state alone.
    plain = {"check_starts": False} if method.startswith("angd") else {}
    tracked = track(seq, method, iters_per_frame=10, rng=gens, **plain)
    first = [np.random.default_rng(i).spawn(2)[0] for i in (3, 4)]
    options = an.solvers.solver_spec(method).track_options  # what track() uses by default
    whole = an.solve(seq.frame(0), method, rng=first, iters=20, **options)
    # Everything learned carries over; only the early-stopping counters (ref_f) restart on a
    # new frame, by design.
    for key in set(whole.state) - {"ref_f"}:
        np.testing.assert_array_equal(tracked.state[key], whole.state[key], err_msg=key)
    np.testing.assert_array_equal(tracked.csbf[:, 1], whole.csbf)
    np.testing.assert_array_equal(tracked.W[:, 1], whole.W)


@pytest.mark.parametrize("carry", ["all", "w", "none"])
def test_a_sequence_batch_equals_its_sequences_tracked_alone(carry):
    seq = SCENARIO.sequence(3, 3, rho=0.9, target_drift_deg=0.2, rng=1)
    gens = [np.random.default_rng(20 + i) for i in range(3)]
    batch = track(seq, "angd-fcn-tuned", iters_per_frame=6, carry=carry, rng=gens)
    alone = track(seq[1], "angd-fcn-tuned", iters_per_frame=6, carry=carry,
                  rng=[np.random.default_rng(21)])
    np.testing.assert_array_equal(batch.W[1], alone.W[0])
    np.testing.assert_array_equal(batch.csbf[1], alone.csbf[0])
    assert batch.csbf.shape == batch.time_s.shape == batch.nit.shape == (3, 3)
    assert batch.W.shape == (3, 3, 6, 2) and batch.success.all()


def test_tracking_is_deterministic_and_carry_changes_what_is_carried():
    seq = SCENARIO.sequence(2, 3, rho=0.95, rng=4)
    a = track(seq, "adam", iters_per_frame=8, rng=7)
    b = track(seq, "adam", iters_per_frame=8, rng=7)
    np.testing.assert_array_equal(a.W, b.W)
    none = track(seq, "adam", iters_per_frame=8, rng=7, carry="none")
    w = track(seq, "adam", iters_per_frame=8, rng=7, carry="w")
    np.testing.assert_array_equal(none.W[:, 0], a.W[:, 0])  # frame 0 is cold for all
    assert not np.array_equal(none.W[:, 1], w.W[:, 1])
    assert not np.array_equal(w.W[:, 1], a.W[:, 1])  # fresh moments vs carried ones


def test_warm_started_baselines_never_lose_the_previous_frame():
    seq = SCENARIO.sequence(2, 3, rho=1.0, rng=2)
    ccpa = track(seq, "ccpa", rng=0, iters=3, randomizations=2)
    # on an unchanged channel the previous W is a start, so the value cannot drop
    assert np.all(np.diff(ccpa.csbf, axis=1) >= -1e-9 * np.abs(ccpa.csbf[:, 1:]))
    zf = track(seq, "zf")
    np.testing.assert_allclose(zf.csbf[:, 0], an.solve(seq.frame(0), "zf").csbf)
    ref = track(seq, "reference", rng=0, starts=1)
    assert np.all(ref.gap(ref) == 0) and np.all(zf.gap(ref) > 0)


def test_explicit_options_override_the_tracking_defaults():
    seq = SCENARIO.sequence(1, 2, rho=0.9, rng=0)
    default = track(seq, "pgd", iters_per_frame=4, rng=1)
    assert default.options == {"step": "normalized", "eta_w": 0.03}
    raw = track(seq, "pgd", iters_per_frame=4, rng=1, step="raw", eta_w=1.0)
    assert raw.options == {"step": "raw", "eta_w": 1.0}
    assert not np.array_equal(raw.W, default.W)


def test_bad_arguments_are_refused():
    seq = SCENARIO.sequence(1, 2, rho=0.5, rng=0)
    with pytest.raises(ValueError, match="carry must be one of"):
        track(seq, "pgd", iters_per_frame=3, carry="some")
    with pytest.raises(TypeError, match="needs iters_per_frame"):
        track(seq, "pgd")
    with pytest.raises(ValueError, match="iters_per_frame"):
        track(seq, "pgd", iters_per_frame=0)
    with pytest.raises(TypeError, match="sets iters"):
        track(seq, "pgd", iters_per_frame=3, iters=5)
    with pytest.raises(TypeError, match="ProblemSequence"):
        track(SCENARIO.draw(1, rng=0), "zf")
    with pytest.raises(ValueError, match="method must be one of"):
        track(seq, "nope")


@pytest.mark.parametrize("build, match", [
    (lambda seq: dataclasses.replace(seq, H=seq.H[:, :0]), "F >= 1 frames"),
    (lambda seq: dataclasses.replace(seq, H=seq.H[:0]), "n >= 1 sequences"),
    (lambda seq: dataclasses.replace(seq, H=seq.H[0]), "at least 4 axes"),
    (lambda seq: dataclasses.replace(seq, A=seq.A[:3]), "A must have shape"),
    (lambda seq: dataclasses.replace(seq, rho=1.5), "rho must lie in"),
    (lambda seq: dataclasses.replace(seq, p_max=np.inf), "p_max must be finite"),
])
def test_a_hand_built_sequence_is_checked_by_name(build, match):
    seq = SCENARIO.sequence(2, 3, rho=0.5, rng=0)
    with pytest.raises(ValueError, match=match):
        build(seq)


def test_carrying_w_starts_tuned_angd_from_the_previous_frame_not_from_its_pilot():
    """The tuned preset's pilot (two fresh chains) would replace a carried start: with
    carry="w" every frame after the first starts from the previous frame's last W."""
    seq = SCENARIO.sequence(2, 2, rho=0.95, rng=3)
    gens = [np.random.default_rng(30 + i) for i in range(2)]
    tracked = track(seq, "angd-fcn-tuned", iters_per_frame=5, carry="w", rng=gens)
    frame_rngs = [np.random.default_rng(30 + i).spawn(2) for i in range(2)]
    first = an.solve(seq.frame(0), "angd-fcn", variant="tuned", iters=5,
                     rng=[r[0] for r in frame_rngs])
    second = an.solve(seq.frame(1), "angd-fcn", variant="tuned", iters=5, pilot=0,
                      check_starts=True, init=first.state["W"], rng=[r[1] for r in frame_rngs])
    np.testing.assert_array_equal(tracked.W[:, 1], second.W)


def test_gap_refuses_a_reference_that_would_broadcast():
    seq = SCENARIO.sequence(2, 3, rho=0.5, rng=0)
    tracked = track(seq, "zf")
    np.testing.assert_array_equal(tracked.gap(tracked), np.zeros((2, 3)))
    for shape in ((2, 1), (1, 3), (3,), (3, 2)):
        with pytest.raises(ValueError, match=r"reference must hold f of shape \(2, 3\)"):
            tracked.gap(np.ones(shape))


@pytest.mark.parametrize("method", ["pgd", "angd-fcn"])
def test_every_frame_returns_its_own_best_after_a_carried_state(method):
    seq = SCENARIO.sequence(2, 3, rho=0.0, rng=0)  # independent frames
    tracked = track(seq, method, iters_per_frame=4, rng=1)
    for t in range(3):
        np.testing.assert_allclose(tracked.csbf[:, t], an.csbf(tracked.W[:, t], seq.frame(t)))
    assert tracked.state["fingerprint"].shape == (2,)
    # Continuing the last frame's state on frame 0 again: its best is re-evaluated there.
    again = an.solve(seq.frame(0), method, iters=4, state=tracked.state)
    assert _at_least(again.csbf, np.nanmax(again.history, axis=-1))


def _at_least(f, g):
    """f >= g everywhere, up to the round-off of evaluating f in another batch."""
    return bool(np.all(f >= g - 1e-12 * np.abs(g)))


def test_check_starts_keeps_a_carried_angd_chain_on_each_frame_s_sensing_beam():
    """Paper scenario, targets drifting: with ``check_starts`` no frame's result is below the
    frame's ZF or sensing beam (the carried chain alone falls behind the beam as it turns),
    and a sequence tracked alone is as in the batch."""
    from angd_np.solvers.linear import sensing_beam, zf_precoder

    seq = an.Scenario.preset("paper", n_tx=8).sequence(3, 4, rho=0.99, target_drift_deg=1.0,
                                                        rng=2)
    plain = track(seq, "angd-fcn-tuned", iters_per_frame=5, rng=[30, 31, 32],
                  check_starts=False)  # an explicit option beats the spec's carry_options
    checked = track(seq, "angd-fcn-tuned", iters_per_frame=5, rng=[30, 31, 32],
                    check_starts=True)
    starts = np.stack([[an.csbf(start(seq.frame(t)), seq.frame(t)) for t in range(4)]
                       for start in (zf_precoder, sensing_beam)]).max(axis=0).T  # (3, 4)
    assert (checked.csbf >= starts).all()
    assert (plain.csbf < starts).any()  # without the check some frame is below the beam
    alone = track(seq[2], "angd-fcn-tuned", iters_per_frame=5, check_starts=True,
                  rng=[32])
    np.testing.assert_array_equal(alone.W[0], checked.W[2])
    assert checked.options["check_starts"] is True
