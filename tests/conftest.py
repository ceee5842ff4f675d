"""Shared test settings.

Hypothesis profiles (chosen by the environment variable ``HYPOTHESIS_PROFILE``):

- ``ci`` (default): few examples, no example database, so the suite stays fast and leaves
  no ``.hypothesis`` folder in the tree.
- ``thorough``: many more examples for a long local run, e.g.
  ``HYPOTHESIS_PROFILE=thorough python -m pytest -q``.
"""

import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis writes failure patches under its home folder even without a database: keep
# that out of the working tree.
set_hypothesis_home_dir(os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
                        or os.path.join(tempfile.gettempdir(), "angd_np-hypothesis"))

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    """A seeded Generator: every test that draws randomness takes it from here."""
    return np.random.default_rng(20261128)
