"""Sphinx configuration of the angd_np documentation.

Build (from the repository root; warnings are errors, references to the package's own
objects are checked)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages that depend on files elsewhere in the repository (the solvers' option tables, the
results of both presets, the benchmark tables, the studies, the changelog, the API pages) are
written into ``docs/_generated`` and ``docs/api/generated`` at the start of every build by
the local extension ``docs/_ext/angd_docs.py``, so a rerun that rewrites ``docs/figures`` or a
new study folder shows up without editing a page.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))

import angd_np  # noqa: E402

project = "angd_np"
author = "angd_np contributors"
copyright = "angd_np contributors"
version = release = angd_np.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",
    "angd_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "jupyter_execute",
    "tutorials/README.md",
    "tutorials/*.py",
    "figures/*.md",
    "**/*.inc.md",
    "_generated",
    "**.ipynb_checkpoints",
]
templates_path = ["_templates"]

# Every reference to an object of the package must resolve. Nothing is fetched from the
# network (no intersphinx), so the third-party types the signatures name are listed here.
nitpicky = True
nitpick_ignore_regex = [
    ("py:class", r"(numpy|np)\..*"),
    ("py:.*", r"(collections\.abc|typing|dataclasses|concurrent\.futures)\..*"),
    ("py:class", r"(int|float|str|bool|dict|list|tuple|object|callable|type|bytes|complex)"),
    ("py:class", r"(Callable|Mapping|Sequence|Iterable|Iterator|Any|ClassVar)"),
    ("py:class", r"(os\.PathLike|pathlib\.Path|Path|io\..*)"),
    ("py:class", r"(matplotlib|scipy|cvxpy|dask|distributed)\..*"),
    ("py:class", r"(NoneType|None)"),
    ("py:exc", r"(ValueError|TypeError|ImportError|KeyError|RuntimeError)"),
]

# Markdown (MyST) pages and notebooks: rendered from their stored outputs, never executed.
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

# Numpydoc-style docstrings through napoleon. The solvers document their keyword options
# in an "Options" section, rendered like parameters; so are "Attributes" (their types are
# prose such as "ndarray of shape (n, M, K)", not references).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_param = False
napoleon_use_rtype = False
napoleon_use_ivar = True
napoleon_preprocess_types = False
napoleon_custom_sections = [("Options", "params_style"), ("Attributes", "params_style")]

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"
add_module_names = False

html_theme = "pydata_sphinx_theme"
html_title = f"angd_np {release}"
html_static_path = ["_static"]
html_css_files = ["angd.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "changelog": []}
html_show_sourcelink = False
