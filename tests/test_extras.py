"""Extras are read from the package metadata (setup.cfg is their one list)."""

import configparser
from pathlib import Path

import pytest

from angd_np._extras import extra_requirements, require_extra

SETUP_CFG = Path(__file__).resolve().parent.parent / "setup.cfg"


def _setup_cfg_extra(extra):
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    lines = cfg["options.extras_require"][extra].split()
    return [line.split("[")[0].split(">")[0].split("=")[0] for line in lines]


def test_an_extra_reads_as_the_distributions_setup_cfg_lists():
    requires = [f"{line}; extra == \"cvx\"" for line in ("cvxpy>=1.4", "scipy>=1.10")]
    requires.append('matplotlib>=3.6; extra == "plot"')
    assert extra_requirements("cvx", requires) == ("cvxpy", "scipy")
    assert extra_requirements("plot", requires) == ("matplotlib",)
    assert extra_requirements("dist", requires) == ()


@pytest.mark.parametrize("extra", ["cvx", "plot"])
def test_installed_metadata_matches_setup_cfg(extra):
    installed = extra_requirements(extra)
    if not installed:
        pytest.skip("angd_np is not installed: no metadata to read")
    assert list(installed) == _setup_cfg_extra(extra)


def test_a_requirement_with_extras_needs_what_its_extras_require():
    # dask[distributed] is what the ``dist`` extra installs: dask, and dask's own
    # ``distributed`` extra (the distributed package), read from dask's metadata
    names = extra_requirements("dist", ['dask[distributed]>=2023.1; extra == "dist"'])
    assert names[0] == "dask"
    assert "distributed" in names


def test_a_missing_distribution_raises_importerror_naming_the_extra():
    requires = ['angd-np-no-such-distribution>=1; extra == "cvx"']
    with pytest.raises(ImportError, match=r"ccpa needs angd-np-no-such-distribution: "
                                          r"pip install 'angd_np\[cvx\]'"):
        require_extra("cvx", "ccpa", requires)
    require_extra("cvx", "ccpa", ['numpy>=1; extra == "cvx"'])  # installed: no error
