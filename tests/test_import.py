"""`import angd_np` needs NumPy only."""

import subprocess
import sys


def test_import_loads_numpy_and_nothing_heavier():
    code = (
        "import sys, angd_np\n"
        "heavy = [m for m in ('scipy', 'cvxpy', 'matplotlib', 'dask', 'distributed', 'torch')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import angd_np pulled in: {out.stdout.strip()}"


def test_public_api_is_complete():
    import angd_np

    for name in angd_np.__all__:
        assert hasattr(angd_np, name), name
    assert set(angd_np.SOLVERS) == {
        "zf", "mmse", "ccpa", "pgd", "adam", "angd-fcn", "angd-cnn", "reference", "lbfgs"}
