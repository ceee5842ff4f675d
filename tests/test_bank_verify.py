"""verify against hostile candidates: only W is read, strict JSON, layouts never guessed."""

import io
import json
import tracemalloc

import numpy as np
import pytest

import angd_np.bank as bank
from angd_np.cli import main


@pytest.fixture(scope="module")
def tiny():
    return bank.make("balanced", 3, 5, n_tx=4, methods="zf", iters=10)


@pytest.fixture(scope="module")
def square():
    """A bank whose N = M = K = 2: both 3-D layouts fit a candidate's shape."""
    return bank.make("balanced", 2, 5, n_tx=2, n_users=2, methods="zf", iters=10)


def _run(argv, capsys):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue(), capsys.readouterr().err


def _strict(text):
    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_only_w_is_read_from_an_npz_beside_large_and_pickled_arrays(tiny, tmp_path):
    path = tmp_path / "w.npz"
    padding = np.zeros(40_000_000 // 8)  # 40 MB once read, a few kB compressed
    np.savez_compressed(path, W=tiny.W_best, padding=padding,
                        notes=np.array([{"a": 1}], dtype=object))
    del padding
    score = None

    def run():
        nonlocal score
        score = bank.verify(tiny, path)

    assert _peak_bytes(run) < 5_000_000
    np.testing.assert_array_equal(score.gap, np.zeros(3))


def test_a_w_larger_than_the_bank_could_hold_is_refused_before_reading(tiny, tmp_path):
    path = tmp_path / "w.npz"
    np.savez_compressed(path, W=np.zeros(20_000_000 // 8))
    with pytest.raises(ValueError, match="takes 20000128 bytes, more than a W of this bank"):
        bank.verify(tiny, path)
    assert _peak_bytes(lambda: pytest.raises(ValueError, bank.verify, tiny, path)) < 2_000_000


def test_only_w_is_read_from_a_mat_file_and_a_sparse_w_is_named(tiny, tmp_path):
    import scipy.io
    import scipy.sparse

    path = tmp_path / "w.mat"
    scipy.io.savemat(path, {"W": np.moveaxis(tiny.W_best, 0, -1),
                            "junk": np.array([["a", "b"]], dtype=object)})
    assert bank.verify(tiny, path).layout == "(M, K, N)"
    scipy.io.savemat(path, {"W": scipy.sparse.csc_matrix(np.eye(4))})
    with pytest.raises(ValueError, match="sparse matrix; save it full"):
        bank.verify(tiny, path)
    with pytest.raises(ValueError, match="candidate: no such file '.*nowhere.mat'"):
        bank.verify(tiny, tmp_path / "nowhere.mat")


def test_a_ragged_or_sparse_w_is_refused_with_a_named_message(tiny):
    import scipy.sparse

    with pytest.raises(ValueError, match="W must be an array of one shape, got a ragged list"):
        bank.verify(tiny, [tiny.W_best[0], tiny.W_best[1, :2]])
    with pytest.raises(TypeError, match="pass W.toarray"):
        bank.verify(tiny, scipy.sparse.csr_matrix(np.eye(4)))


def test_n_equal_m_equal_k_needs_the_layout(square, tmp_path, capsys):
    W = square.W_best
    with pytest.raises(ValueError, match="fits both \\(N, M, K\\) and \\(M, K, N\\)"):
        bank.verify(square, W)
    np.testing.assert_array_equal(bank.verify(square, W, layout="NMK").gap, np.zeros(2))
    np.testing.assert_array_equal(
        bank.verify(square, np.moveaxis(W, 0, -1), layout="MKN").gap, np.zeros(2))
    square.save(tmp_path / "sq.npz")
    np.savez(tmp_path / "w.npz", W=np.moveaxis(W, 0, -1))
    code, _, err = _run(["verify", str(tmp_path / "sq.npz"), str(tmp_path / "w.npz")], capsys)
    assert code == 2 and "--layout" in err and len(err.splitlines()) == 1
    code, out, err = _run(["verify", str(tmp_path / "sq.npz"), str(tmp_path / "w.npz"),
                           "--layout", "MKN"], capsys)
    assert code == 0 and "layout (M, K, N)" in out and err == ""


def test_json_is_strict_when_no_instance_is_feasible(tiny, tmp_path, capsys):
    tiny.save(tmp_path / "bank.npz")
    np.savez(tmp_path / "w.npz", W=tiny.W_best * 2)
    code, out, err = _run(["verify", str(tmp_path / "bank.npz"), str(tmp_path / "w.npz"),
                           "--json"], capsys)
    assert code == 1 and len(err.splitlines()) == 1
    report = _strict(out)
    assert report["summary"]["feasible"] == 0 and report["summary"]["gap_mean"] is None


def test_an_overflowing_candidate_is_infeasible_in_one_line(tiny, tmp_path, capsys):
    tiny.save(tmp_path / "bank.npz")
    np.savez(tmp_path / "w.npz", W=tiny.W_best * 1e200)
    for extra in ([], ["--json"]):
        code, out, err = _run(["verify", str(tmp_path / "bank.npz"), str(tmp_path / "w.npz"),
                               *extra], capsys)
        assert code == 1 and len(err.splitlines()) == 1, err
        assert "Warning" not in err and "instances 0, 1, 2" in err
    assert _strict(out)["instances"][0]["power"] is None  # inf power: null, not Infinity
