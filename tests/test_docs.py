"""The documentation site builds with warnings as errors, and documents every public name.

One fresh build (the README's command, into a temporary folder) serves every test here; it
takes about 20 s on two cores. Skipped when Sphinx is not installed (``pip install
'angd_np[docs]'``).
"""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("pydata_sphinx_theme")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API_MODULES = ("angd_np", "angd_np.nn", "angd_np.bank", "angd_np.solvers",
               "angd_np.experiments")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the site from scratch (``-E``: no cached pages whose warnings would be lost)."""
    out = tmp_path_factory.mktemp("site")
    html = out / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(html)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail("the documentation build failed (warnings are errors):\n"
                    + proc.stderr[-20000:] + proc.stdout[-2000:], pytrace=False)
    return html


def test_site_builds_without_warnings_and_has_every_section(site):
    for page in ("index", "getting_started", "model", "fidelity", "guide/solvers",
                 "guide/angd", "guide/continuing", "guide/tracking", "guide/bank",
                 "guide/reproducing", "guide/dask", "guide/extending", "tutorials/index",
                 "api/index", "results/index", "benchmarks", "studies/index", "changelog"):
        assert (site / f"{page}.html").is_file(), page


def test_api_reference_documents_every_public_name(site):
    missing = []
    for modname in API_MODULES:
        module = importlib.import_module(modname)
        page = (site / "api" / f"{modname}.html").read_text(encoding="utf-8")
        for name in module.__all__:
            full = f"{modname}.{name}"
            own_page = site / "api" / "generated" / f"{full}.html"
            subpackage = site / "api" / f"{full}.html"
            alias = f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{full}"
            if not (own_page.is_file() or subpackage.is_file() or alias in page):
                missing.append(full)
    assert not missing, f"public names without an API entry: {missing}"


def test_every_registered_solver_has_an_options_section(site):
    from angd_np import solvers

    page = (site / "guide" / "solvers.html").read_text(encoding="utf-8")
    for name, spec in solvers.SPECS.items():
        assert f"<span class=\"pre\">{name}</span></code>: {spec.label}" in page, name
        if spec.options is not None:
            for option in spec.options.names():
                assert f"<span class=\"pre\">{option}</span>" in page, (name, option)


def test_notebooks_render_with_their_stored_figures(site):
    for nb in sorted((DOCS / "tutorials").glob("*.ipynb")):
        html = (site / "tutorials" / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert "<img" in html, f"{nb.name}: no figure rendered"


def test_results_pages_show_each_preset_report_and_figures(site):
    for report in sorted((DOCS / "figures").glob("*-REPORT.md")):
        preset = report.name.removesuffix("-REPORT.md")
        html = (site / "results" / "generated" / f"{preset}.html").read_text(encoding="utf-8")
        for png in (DOCS / "figures").glob(f"{preset}-*.png"):
            assert png.name in html, png.name


def test_generated_pages_tolerate_missing_studies_benchmarks_and_changelog(tmp_path,
                                                                          monkeypatch):
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import angd_docs
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    monkeypatch.setattr(angd_docs, "ROOT", tmp_path)
    studies = angd_docs.studies_pages()
    assert list(studies.values()) == [
        "No study folder (`studies/*/README.md`) is present in this source tree.\n"]
    fragments = angd_docs.fragment_pages()
    assert all("source tree" in text for text in fragments.values())

    # A study's README linking to its results and its script: the results become a
    # sub-page, the script its path.
    study = tmp_path / "studies" / "topic"
    study.mkdir(parents=True)
    (study / "README.md").write_text("# Topic\n\n### Chosen\n\nSee [the results](results.md) "
                                     "and [the script](study.py).\n", encoding="utf-8")
    (study / "results.md").write_text("# Results\n", encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix(): t for p, t in angd_docs.studies_pages().items()}
    readme = pages["studies/generated/topic.md"]
    assert "## Chosen" in readme          # heading levels made consecutive
    assert "[the results](topic/results.md)" in readme
    assert "the script (`studies/topic/study.py`)" in readme
    assert "studies/generated/topic/results.md" in pages
