"""Generated bad inputs against verify (files and arrays), state continuation and track.

Each call must either refuse the input with a ValueError or TypeError that names what is
wrong, or return a valid result: feasible precoders whose reported f is their f on this
problem, and a best that is at least every iterate of this call. Never another exception,
never a silently wrong best.
"""

import io
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
import angd_np.bank as bank
from angd_np.objective import csbf, power

SCENARIO = an.Scenario.preset("balanced", n_tx=3)


@pytest.fixture(scope="module")
def small_bank():
    return bank.make("balanced", 2, 5, n_tx=3, methods="zf", iters=5)


def _refused_or_valid(call):
    """The result of ``call()``, or None if it refused with a named ValueError/TypeError."""
    try:
        return call()
    except (ValueError, TypeError) as exc:
        assert str(exc).strip(), "an error must say what is wrong"
        return None


# -- verify: arrays ---------------------------------------------------------------------------
_DTYPES = st.sampled_from([np.complex128, np.complex64, np.float64, np.float32, np.int64,
                           np.bool_, object, "U3"])
_VALUES = st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e200, 1e308, np.nan, np.inf, -np.inf])


@st.composite
def candidates(draw):
    N, M, K = 2, 3, 2
    shape = draw(st.sampled_from([(N, M, K), (M, K, N), (M, K), (N, M), (N, M, K, 1), (),
                                  (0, M, K), (N, K, M), (4, 3, 2)]))
    dtype = draw(_DTYPES)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    base = rng.standard_normal(shape) * draw(st.sampled_from([0.01, 0.3, 1.0, 1e200]))
    if draw(st.booleans()) and base.size:
        base.flat[draw(st.integers(0, base.size - 1))] = draw(_VALUES)
    with np.errstate(all="ignore"):
        return base.astype(dtype)


def _check_score(score, b, W):
    assert score.csbf.shape == (b.n_instances,)
    ok = score.feasible
    assert np.all(score.power[ok] <= b.p_max * (1 + 1e-9))
    if ok.any():
        assert np.all(np.isfinite(score.csbf[ok]))


@given(candidates())
def test_verify_refuses_by_name_or_scores_any_generated_array(small_bank, W):
    score = _refused_or_valid(lambda: bank.verify(small_bank, W))
    if score is not None:
        _check_score(score, small_bank, W)


# -- verify: files ----------------------------------------------------------------------------
@st.composite
def candidate_files(draw):
    """(suffix, bytes) of a candidate file: valid, truncated, foreign or with extra members."""
    suffix = draw(st.sampled_from([".npz", ".npy", ".mat"]))
    W = draw(candidates())
    buf = io.BytesIO()
    kind = draw(st.sampled_from(["valid", "truncated", "garbage", "extra", "renamed"]))
    if suffix == ".npy":
        np.save(buf, W, allow_pickle=True)
    elif suffix == ".npz":
        members = {"W" if kind != "renamed" else "w": W}
        if kind == "extra":
            members["other"] = np.array([{"x": 1}], dtype=object)
        np.savez(buf, **members)
    else:
        import scipy.io

        try:
            scipy.io.savemat(buf, {"W" if kind != "renamed" else "V": W})
        except Exception:  # what savemat itself cannot write: use garbage instead
            kind = "garbage"
    data = buf.getvalue()
    if kind == "truncated":
        data = data[:draw(st.integers(0, max(len(data) - 1, 0)))]
    elif kind == "garbage":
        data = bytes(draw(st.binary(min_size=0, max_size=64)))
    return suffix, data


@given(candidate_files())
def test_verify_refuses_by_name_or_scores_any_generated_file(small_bank, tmp_path_factory,
                                                             case):
    suffix, data = case
    path = tmp_path_factory.mktemp("cand") / f"w{suffix}"
    path.write_bytes(data)
    score = _refused_or_valid(lambda: bank.verify(small_bank, path))
    if score is not None:
        _check_score(score, small_bank, None)


def test_a_zip_member_too_large_is_refused_unread(small_bank, tmp_path):
    path = tmp_path / "w.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("W.npy", b"\x93NUMPY" + b"\0" * 5_000_000)
    with pytest.raises(ValueError, match="more than a W of this bank could"):
        bank.verify(small_bank, path)


# -- state continuation -----------------------------------------------------------------------
_PROBLEM = SCENARIO.draw(2, rng=3)
_OTHER = SCENARIO.draw(2, rng=4)
_STATES = {m: an.solve(_PROBLEM, m, rng=1, iters=4).state for m in ("pgd", "adam")}


@st.composite
def edited_states(draw):
    method = draw(st.sampled_from(sorted(_STATES)))
    state = {k: np.array(v) for k, v in _STATES[method].items()}
    key = draw(st.sampled_from(sorted(state)))
    edit = draw(st.sampled_from(["nan", "inf", "scale", "dtype", "shape", "drop", "noise",
                                 "negate", "none"]))
    a = state[key]
    with np.errstate(all="ignore"):
        if edit == "drop":
            del state[key]
        elif edit == "shape":
            state[key] = a.reshape(-1)[:1] if a.size else a
        elif edit == "dtype":
            state[key] = a.astype(np.float32) if a.dtype.kind in "fc" else a.astype(np.int8)
        elif a.dtype.kind in "fc":
            i = draw(st.integers(0, max(a.size - 1, 0)))
            flat = a.reshape(-1).copy()
            if flat.size:
                flat[i] = {"nan": np.nan, "inf": np.inf, "scale": flat[i] * 1e3,
                           "noise": flat[i] + 0.5, "negate": -flat[i],
                           "none": flat[i]}[edit]
            state[key] = flat.reshape(a.shape)
        elif a.dtype.kind in "iub" and edit in ("negate", "noise"):
            state[key] = (a.astype(np.int64) - 3).astype(a.dtype) if a.dtype != bool else ~a
    problem = draw(st.sampled_from([_PROBLEM, _OTHER]))
    return method, state, problem


@given(edited_states())
def test_a_continued_state_is_refused_by_name_or_returns_the_best_on_this_problem(case):
    method, state, problem = case
    res = _refused_or_valid(lambda: an.solve(problem, method, iters=3, state=state))
    if res is None:
        return
    assert np.all(power(res.W) <= problem.p_max * (1 + 1e-9))
    np.testing.assert_allclose(res.csbf, csbf(res.W, problem), rtol=1e-12)
    seen = np.nanmax(np.where(np.isnan(res.history), -np.inf, res.history), axis=-1)
    assert np.all(res.csbf >= seen - 1e-12 * np.abs(seen))  # never below an iterate seen


# -- track --------------------------------------------------------------------------------------
_SEQUENCE = SCENARIO.sequence(2, 2, rho=0.5, rng=0)


@given(method=st.sampled_from(["pgd", "zf", "angd-fcn", "mmse", "nope", 3, None]),
       iters=st.sampled_from([None, 0, -1, 2, 2.5, "3", True]),
       carry=st.sampled_from(["all", "w", "none", "ALL", "", None]),
       extra=st.sampled_from([{}, {"state": None}, {"iters": 2}, {"eta_w": -1.0},
                              {"warp": 1}, {"init": "zf"}]))
def test_track_refuses_bad_arguments_by_name_or_tracks(method, iters, carry, extra):
    res = _refused_or_valid(lambda: an.track(_SEQUENCE, method, iters_per_frame=iters,
                                             carry=carry, rng=0, **extra))
    if res is None:
        return
    for t in range(_SEQUENCE.n_frames):
        np.testing.assert_allclose(res.csbf[:, t], csbf(res.W[:, t], _SEQUENCE.frame(t)),
                                   rtol=1e-12)
        assert np.all(power(res.W[:, t]) <= _SEQUENCE.p_max * (1 + 1e-9))
