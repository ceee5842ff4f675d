"""The certified instance bank: round trips, the certificate, verify, the CLI, shipped files."""

import io
import json
import shlex
import subprocess
import sys

import numpy as np
import pytest

import angd_np.bank as bank
from angd_np import Scenario, csbf, power, sensing_gain, solve, sum_rate, trial_generator
from angd_np.bank.format import SCHEMA, bank_sha256, instance_sha256
from angd_np.cli import build_parser, main
from angd_np.solvers import SOLVERS, method_call


@pytest.fixture(scope="module")
def tiny():
    """Every registered solver on 3 small instances (few iterations: fast, still real)."""
    return bank.make("balanced", 3, 5, n_tx=4, iters=30)


def _same(a, b):
    """Field-by-field equality: type, dtype, shape and every value."""
    for name in SCHEMA:
        x, y = getattr(a, name), getattr(b, name)
        assert type(x) is type(y), name
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, name
            assert np.array_equal(x, y), name
        else:
            assert x == y, name


def _run(argv, capsys):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue(), capsys.readouterr().err


# -- the file --------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".npz", ".mat"])
def test_bank_round_trips_exactly_through_npz_and_mat(tiny, tmp_path, suffix):
    path = tiny.save(tmp_path / f"b{suffix}")
    back = bank.load(path)
    _same(tiny, back)
    assert back.H.dtype == np.complex128 and back.H.shape == (3, 4, 2)
    assert back.A.shape == (3, 4, 4) and back.methods.tolist() == tiny.methods.tolist()


def test_npz_needs_no_pickle_and_mat_keeps_complex_arrays(tiny, tmp_path):
    import scipy.io

    tiny.save(tmp_path / "b.npz")
    tiny.save(tmp_path / "b.mat")
    with np.load(tmp_path / "b.npz", allow_pickle=False) as data:
        assert set(data.files) == set(SCHEMA)
        assert all(data[k].dtype != object for k in data.files)
    mat = scipy.io.loadmat(tmp_path / "b.mat")
    assert mat["H"].dtype == np.complex128 and mat["H"].shape == (3, 4, 2)
    assert np.array_equal(mat["W_best"], tiny.W_best)
    assert json.loads(str(mat["scenario"][0]))["n_tx"] == 4


def test_hashes_cover_what_they_say(tiny):
    import dataclasses

    moved_w = dataclasses.replace(tiny, W_best=tiny.W_best * 1j)
    moved_h = dataclasses.replace(tiny, H=tiny.H * (1 + 1e-15))
    assert instance_sha256(moved_w) == tiny.instance_sha256  # W is not an instance field
    assert bank_sha256(moved_w) != tiny.bank_sha256
    assert instance_sha256(moved_h) != tiny.instance_sha256
    assert bank_sha256(tiny) == tiny.bank_sha256 and instance_sha256(tiny) == tiny.instance_sha256


def test_an_edited_bank_file_is_refused(tiny, tmp_path):
    arrays = tiny.arrays()
    arrays["f_best"] = arrays["f_best"] * 1.001  # a "better" optimum, hash not updated
    np.savez(tmp_path / "edited.npz", **arrays)
    with pytest.raises(ValueError, match="bank_sha256 does not match"):
        bank.load(tmp_path / "edited.npz")


# -- the certificate -------------------------------------------------------------------------
def test_f_best_is_the_csbf_of_w_best_and_feasible(tiny):
    problem = tiny.problem()
    assert np.array_equal(tiny.f_best, csbf(tiny.W_best, problem))
    assert np.all(power(tiny.W_best) <= tiny.p_max * (1 + 1e-9))


def test_f_best_is_at_least_every_registered_solvers_value(tiny):
    assert set(SOLVERS) <= set(tiny.methods)
    options = json.loads(tiny.options)
    problem = tiny.problem()
    for name in SOLVERS:
        solver, _ = method_call(name)
        res = solve(problem, solver, rng=[trial_generator(tiny.seed, int(t), 1)
                                          for t in tiny.trials], **options[name])
        assert np.all(res.csbf <= tiny.f_best), name
    assert np.all(tiny.f_methods <= tiny.f_best[:, None])
    assert np.all(tiny.f_local <= tiny.f_best[:, None])


def test_w_best_is_stationary_below_the_certified_threshold(tiny):
    r = bank.stationarity_residual(tiny.W_best, tiny.problem())
    assert np.array_equal(r, tiny.stationarity)
    assert np.all(r < bank.STATIONARITY_THRESHOLD)
    assert tiny.stationarity_threshold == bank.STATIONARITY_THRESHOLD == 1e-6


def test_stationarity_residual_matches_a_naive_real_vector_projection(rng):
    problem = Scenario.preset("paper", n_tx=5).draw(3, rng)
    W = rng.standard_normal((3, 5, 2)) + 1j * rng.standard_normal((3, 5, 2))
    from angd_np import csbf_grad

    G = csbf_grad(W, problem)
    for n in range(3):
        w = np.concatenate([W[n].real.ravel(), W[n].imag.ravel()])  # R^{2MK}
        g = np.concatenate([G[n].real.ravel(), G[n].imag.ravel()])
        tangential = g - (g @ w) / (w @ w) * w
        expected = np.linalg.norm(tangential) / np.linalg.norm(g)
        assert bank.stationarity_residual(W[n], problem[n:n + 1])[0] == pytest.approx(
            expected, rel=1e-10)


def test_polish_never_lowers_f_and_reaches_a_stationary_point(rng):
    problem = Scenario.preset("balanced", n_tx=6).draw(3, rng)
    starts = {"zf": solve(problem, "zf").W,
              "random": rng.standard_normal((3, 6, 2)) + 1j * rng.standard_normal((3, 6, 2))}
    for W in starts.values():
        W = W * np.sqrt(problem.p_max / power(W))[:, None, None]
        out = bank.polish(W, problem)
        assert np.all(csbf(out, problem) >= csbf(W, problem))
        assert np.all(bank.stationarity_residual(out, problem) < bank.STATIONARITY_THRESHOLD)
        assert np.allclose(power(out), problem.p_max, rtol=1e-12)


def test_starts_that_disagree_about_the_best_are_flagged():
    problem = Scenario.preset("balanced", n_tx=4).draw_trials(3, [0, 1])
    best = solve(problem, "reference", rng=0).W
    one_user = best.copy()
    one_user[..., 1] = 0.0  # a user without power: a local optimum of its own
    one_user *= np.sqrt(problem.p_max / power(one_user))[:, None, None]
    same = best * np.exp(0.7j)  # the same optimum (f is invariant to a common phase)

    disagree = bank.certify(problem, {"reference": one_user, "other": best})
    agree = bank.certify(problem, {"reference": best, "other": same})

    assert np.all(disagree["flagged"]) and np.all(disagree["reference_gap"] > 1e-3)
    assert np.all(disagree["spread"] > bank.SPREAD_TOLERANCE)
    assert disagree["best_method"].tolist() == ["other", "other"]
    assert not np.any(agree["flagged"]) and np.all(agree["n_agree"] == 2)
    assert np.all(agree["spread"] <= bank.SPREAD_TOLERANCE)


# -- verify ----------------------------------------------------------------------------------
def test_verify_scores_equal_the_objective_functions(tiny, rng):
    W = rng.standard_normal((3, 4, 2)) + 1j * rng.standard_normal((3, 4, 2))
    W *= np.sqrt(0.5 * tiny.p_max / power(W))[:, None, None]
    score = bank.verify(tiny, W)
    problem = tiny.problem()
    assert np.array_equal(score.csbf, csbf(W, problem))
    assert np.array_equal(score.sum_rate, sum_rate(W, problem))
    assert np.array_equal(score.sensing, sensing_gain(W, problem))
    assert np.array_equal(score.gap, (tiny.f_best - score.csbf) / np.abs(tiny.f_best))
    assert np.all(score.feasible) and np.all(score.gap > 0)
    assert np.array_equal(bank.verify(tiny, tiny.W_best).gap, np.zeros(3))


def test_verify_reads_matlab_layout_and_files_alike(tiny, tmp_path):
    import scipy.io

    expected = bank.verify(tiny, tiny.W_best).csbf
    matlab = np.moveaxis(tiny.W_best, 0, -1)  # (M, K, N): W(:, :, n) in MATLAB
    scipy.io.savemat(tmp_path / "w.mat", {"W": matlab})
    np.save(tmp_path / "w.npy", tiny.W_best)
    np.savez(tmp_path / "w.npz", W=matlab)
    for source in (matlab, tmp_path / "w.mat", tmp_path / "w.npy", tmp_path / "w.npz"):
        score = bank.verify(tiny, source)
        assert np.array_equal(score.csbf, expected), source
    assert bank.verify(tiny, matlab).layout == "(M, K, N)"


def test_verify_rejects_a_shape_that_does_not_match_the_bank(tiny):
    with pytest.raises(ValueError, match=r"W must have shape \(3, 4, 2\) or \(4, 2, 3\).*"
                                         r"got shape \(3, 4, 3\)"):
        bank.verify(tiny, np.zeros((3, 4, 3), dtype=complex))


@pytest.fixture
def tiny_file(tiny, tmp_path):
    return str(tiny.save(tmp_path / "bank.npz"))


def test_verify_cli_exits_0_when_every_w_is_feasible(tiny, tiny_file, tmp_path, capsys):
    np.savez(tmp_path / "w.npz", W=tiny.W_best)
    code, out, err = _run(["verify", tiny_file, str(tmp_path / "w.npz")], capsys)
    assert code == 0 and err == ""
    assert "3 of 3 feasible" in out and "gap to f_best mean 0.0000%" in out


def test_verify_cli_exits_1_naming_the_infeasible_instances(tiny, tiny_file, tmp_path,
                                                            capsys):
    W = tiny.W_best.copy()
    W[0] *= 1.001
    W[2] *= 1 + 1e-6  # power 1 + 2e-6 times p_max: beyond the 1e-9 tolerance
    np.savez(tmp_path / "w.npz", W=W)
    code, out, err = _run(["verify", tiny_file, str(tmp_path / "w.npz")], capsys)
    assert code == 1
    assert "infeasible instances: 0, 2" in out
    assert len(err.strip().splitlines()) == 1 and "instances 0, 2" in err

    code, out, _ = _run(["verify", tiny_file, str(tmp_path / "w.npz"), "--json"], capsys)
    assert code == 1 and json.loads(out)["summary"]["infeasible"] == [0, 2]


def test_single_precision_candidates_are_told_to_rescale_in_double(tiny, tiny_file, tmp_path,
                                                                   capsys):
    W = tiny.W_best * (1 + 3e-8)  # what float32 rounding of a full-power W can do
    np.savez(tmp_path / "w32.npz", W=W.astype(np.complex64))
    code, out, err = _run(["verify", tiny_file, str(tmp_path / "w32.npz")], capsys)
    assert code == 1 and "W is complex64" in err and "cast it to complex128" in out
    W = np.load(tmp_path / "w32.npz")["W"].astype(np.complex128)
    W *= np.sqrt(tiny.p_max / power(W))[:, None, None]
    assert bank.verify(tiny, W).feasible.all() and bank.verify(tiny, W).dtype == "complex128"


def _malformed(tiny, tmp_path, case):
    """A candidate (or bank) file that verify must refuse; returns the verify arguments."""
    bank_path = str(tmp_path / "bank.npz")
    cand = tmp_path / "w.npz"
    W = tiny.W_best
    if case == "unreadable":
        cand.write_bytes(b"this is not a zip file")
    elif case == "missing key":
        np.savez(cand, precoders=W)
    elif case == "shape":
        np.savez(cand, W=W[:2])
    elif case == "non-finite":
        bad = W.copy()
        bad[1, 0, 0] = np.nan
        np.savez(cand, W=bad)
    elif case == "non-numeric":
        np.savez(cand, W=np.array(["a", "b"]))
    elif case == "missing file":
        cand = tmp_path / "nowhere.npz"
    elif case == "suffix":
        cand = tmp_path / "w.txt"
        cand.write_text("1 2 3")
    elif case == "matlab v7.3":
        cand = tmp_path / "w.mat"
        header = b"MATLAB 7.3 MAT-file".ljust(116) + b"\0" * 8 + b"\x00\x02IM"
        cand.write_bytes(header + b"\0" * 512)
    elif case == "mat without W":
        import scipy.io

        cand = tmp_path / "w.mat"
        scipy.io.savemat(cand, {"X": np.moveaxis(W, 0, -1)})
    elif case == "bad bank":
        np.savez(cand, W=W)
        bank_path = str(tmp_path / "notabank.npz")
        np.savez(bank_path, H=tiny.H)
    elif case == "unknown bank name":
        np.savez(cand, W=W)
        bank_path = "paper-m99"
    return [bank_path, str(cand)]


@pytest.mark.parametrize("case", ["unreadable", "missing key", "shape", "non-finite",
                                  "non-numeric", "missing file", "suffix", "matlab v7.3",
                                  "mat without W", "bad bank", "unknown bank name"])
def test_verify_cli_malformed_input_exits_2_with_one_line(tiny, tmp_path, capsys, case):
    tiny.save(tmp_path / "bank.npz")
    code, out, err = _run(["verify", *_malformed(tiny, tmp_path, case)], capsys)
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("angd-np verify: error: ") and "Traceback" not in err


def test_verify_in_a_real_process_prints_no_traceback(tiny, tmp_path):
    tiny.save(tmp_path / "bank.npz")
    np.savez(tmp_path / "w.npz", W=tiny.W_best[:, :, :1])
    proc = subprocess.run([sys.executable, "-m", "angd_np", "verify", str(tmp_path / "bank.npz"),
                           str(tmp_path / "w.npz")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and "got shape (3, 4, 1)" in proc.stderr


# -- making a bank from the command line -----------------------------------------------------
def test_bank_cli_writes_npz_and_mat_with_the_same_content(tmp_path, capsys):
    out, mat = tmp_path / "b.npz", tmp_path / "b.mat"
    code, text, err = _run(["bank", "--preset", "paper", "--instances", "2", "--seed", "4",
                            "--n-tx", "3", "--methods", "zf", "--out", str(out),
                            "--mat", str(mat)], capsys)
    assert code == 0, err
    a, b = bank.load(out), bank.load(mat)
    _same(a, b)
    assert a.methods.tolist() == ["reference", "zf"] and a.n_tx == 3
    assert a.command == "angd-np bank --preset paper --instances 2 --seed 4 --n-tx 3 " \
                       "--methods reference,zf"
    assert f"instance_sha256 {a.instance_sha256}" in text


@pytest.mark.parametrize("argv", [
    ["bank", "--out", "bank.txt"],
    ["bank", "--out", "b.npz", "--mat", "b.npz"],
    ["bank", "--out", "b.npz", "--methods", "zf,warp-drive"],
    ["bank", "--out", "b.npz", "--n-tx", "2", "--n-users", "3"],
    ["bank", "--out", "b.npz", "--instances", "0"],
    ["bank", "--out", "/proc/angd-np-cannot-write-here/b.npz"],
    ["bank"],
])
def test_bank_cli_bad_input_exits_2_with_one_line(argv, capsys):
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["bank", "verify"])
def test_bank_and_verify_have_help_with_examples(command, capsys):
    assert main([command, "--help"]) == 0
    assert "examples:" in capsys.readouterr().out


def test_make_rejects_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="instances must be an int >= 1, got 0"):
        bank.make("paper", 0)
    with pytest.raises(ValueError, match="preset must be one of"):
        bank.make("papr", 1)
    with pytest.raises(ValueError, match="method must be one of"):
        bank.make("paper", 1, methods="zf,nope")
    with pytest.raises(TypeError, match="progress must be callable"):
        bank.make("paper", 1, progress="yes")


# -- the shipped banks -----------------------------------------------------------------------
@pytest.mark.parametrize("name", bank.SHIPPED)
def test_shipped_bank_hash_matches_its_command(name):
    shipped = bank.load(name)  # checks both stored hashes against the content
    args = build_parser().parse_args(shlex.split(shipped.command)[1:] + ["--out", "x.npz"])
    overrides = {k: getattr(args, k) for k in ("n_tx", "n_users", "p_max_dbm", "noise_dbm",
                                               "omega") if getattr(args, k) is not None}
    fresh = bank.draw_instances(args.preset, args.instances, args.seed, **overrides)
    for key in ("H", "A"):  # a useful message if a platform's sin/exp differ in the last bit
        np.testing.assert_allclose(fresh[key], getattr(shipped, key), rtol=1e-13, atol=0)
    assert instance_sha256(fresh) == shipped.instance_sha256
    assert (shipped.preset, shipped.seed, shipped.n_instances) == (args.preset, args.seed, 100)


@pytest.mark.parametrize("name", bank.SHIPPED)
def test_shipped_bank_certificate_holds(name):
    shipped = bank.load(name)
    problem = shipped.problem()
    np.testing.assert_allclose(csbf(shipped.W_best, problem), shipped.f_best, rtol=1e-13)
    assert np.all(power(shipped.W_best) <= shipped.p_max * (1 + 1e-9))
    r = bank.stationarity_residual(shipped.W_best, problem)
    assert np.all(r < shipped.stationarity_threshold)
    assert np.all(shipped.f_methods <= shipped.f_best[:, None])
    assert set(SOLVERS) <= set(shipped.methods)
    assert np.array_equal(shipped.flagged, (shipped.reference_gap > shipped.spread_tolerance)
                          | (shipped.n_agree < 2))


@pytest.mark.parametrize("name", bank.SHIPPED)
def test_shipped_mat_file_equals_the_npz(name):
    _same(bank.load(name), bank.load(bank.shipped(name, ".mat")))


def test_reading_a_npz_bank_and_verifying_needs_numpy_only():
    code = (
        "import sys, numpy as np, angd_np.bank as b\n"
        "x = b.load('paper-m10')\n"
        "s = b.verify(x, x.W_best)\n"
        "assert s.feasible.all() and (abs(s.gap) < 1e-12).all()\n"
        "print(','.join(m for m in ('scipy', 'cvxpy', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", out.stdout
