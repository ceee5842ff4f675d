"""The project speaks of itself only: no machine paths, no work sessions in its shipped texts.

A number in the docs says which version, command and machine made it; a path of the machine
it was measured on (``/work/...``, ``/tmp/...``) or a "session 4" means nothing to a reader.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What the shipped texts must not hold: a machine path, or "session" followed by a number.
FORBIDDEN = re.compile(r"/work/|/tmp/|\bsessions?[\s-]*\d", re.IGNORECASE)

#: The tracked texts that are checked (folders and files, relative to the repository root).
CHECKED = ("angd_np", "docs", "scripts", "benchmarks", "studies", "README.md")


def machine_talk(paths, root):
    """(path relative to root, line number, line) of every forbidden match in text files.

    Files that are not UTF-8 text (the shipped banks, PNGs) are skipped, as is anything
    under a ``_build`` folder (generated HTML).
    """
    hits = []
    for path in paths:
        path = Path(path)
        if "_build" in path.relative_to(root).parts:
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append((str(path.relative_to(root)), number, line.strip()[:120]))
    return hits


def tracked_texts(root):
    """The git-tracked files under CHECKED, as absolute paths."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", *CHECKED], cwd=root,
                            capture_output=True, check=True).stdout
    return [root / name for name in listed.decode().split("\0") if name and
            (root / name).is_file()]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs a git checkout")
def test_tracked_texts_hold_no_machine_path_and_no_session_number():
    files = tracked_texts(ROOT)
    assert any(f.name == "README.md" for f in files)  # the listing found the texts
    assert machine_talk(files, ROOT) == []


@pytest.mark.parametrize("planted", [
    "measured in session 4 on the idle machine",
    "Sessions 1-3 tuned preset",
    "the session-8 run",
    "written to /tmp/angd-run/results.csv",
    "`angd-np report --out /work/runs/r1000/paper`",
])
def test_the_checker_finds_a_planted_example(tmp_path, planted):
    (tmp_path / "docs").mkdir()
    dirty = tmp_path / "docs" / "page.md"
    dirty.write_text(f"# A page\n\nSome text.\n{planted}\n")
    clean = tmp_path / "docs" / "clean.py"
    clean.write_text('"""Measured with angd_np 0.1.0: `angd-np reproduce --trials 1000`."""\n')
    assert machine_talk([dirty, clean], tmp_path) == [("docs/page.md", 4, planted)]


def test_the_checker_skips_binary_files_and_generated_html(tmp_path):
    (tmp_path / "docs" / "_build").mkdir(parents=True)
    html = tmp_path / "docs" / "_build" / "index.html"
    html.write_text("built in /tmp/build")
    binary = tmp_path / "bank.npz"
    binary.write_bytes(b"PK\0\0/tmp/ session 4")
    assert machine_talk([html, binary], tmp_path) == []


def test_the_readme_headline_table_is_the_one_the_shipped_reports_give():
    """README.md's results table is written by scripts/headline_table.py from
    docs/figures/*-REPORT.md: a rerun that rewrites the reports and forgets the README fails
    here."""
    import runpy

    script = runpy.run_path(str(ROOT / "scripts" / "headline_table.py"))
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(script["START"]), readme.index(script["END"])
    assert readme[start:end + len(script["END"])] == script["block"](ROOT / "docs" / "figures")
