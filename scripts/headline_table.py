"""The README's headline table, read from the shipped reports (``docs/figures/*-REPORT.md``).

A rerun of ``angd-np reproduce --trials 1000 --figures-dir docs/figures`` rewrites the
reports; this script then rewrites the table (between the ``headline`` markers of README.md)
from them, so that no number is copied by hand::

    python scripts/headline_table.py            # print the block
    python scripts/headline_table.py --write    # and put it into README.md

The test suite checks that README.md holds exactly what this script makes of the reports.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- headline:start -->", "<!-- headline:end -->"
#: README row label -> the method's label in the report's tables.
ROWS = {
    "ANGD-FCN, tuned variant": "ANGD-FCN (tuned)",
    "ANGD-CNN, tuned variant": "ANGD-CNN (tuned)",
    "ANGD-FCN, paper's configuration": "ANGD-FCN",
    "ANGD-CNN, paper's configuration": "ANGD-CNN",
    "CCPA (SDR + SCA)": "CCPA",
    "reference (multi-start L-BFGS)": "reference (best found)",
    "ZF (= MMSE)": "ZF",
}
#: (heading of the report's table, README column) in column order.
POINTS = (("M = 10 (Fig. 3, p_max = 30 dBm)", "30 dBm"),
          ("p_max = 32 dBm (Fig. 4, M = 10)", "32 dBm"))


def operating_points(report: str) -> dict:
    """{heading: {method label: (mean sum rate, mean gap text)}} of the report's section
    "Results at the paper's operating points"."""
    out = {}
    for heading, _ in POINTS:
        start = report.find(f"**{heading}**")
        if start < 0:
            raise ValueError(f"the report has no table for {heading!r}")
        lines = report[start:].splitlines()[1:]
        first = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
        table = []
        for line in lines[first:]:  # the table right under the heading, to its end
            if not line.startswith("|"):
                break
            table.append(line)
        head = [c.strip() for c in table[0].strip("|").split("|")]
        rate_col = head.index("sum rate (bit/s/Hz)")
        gap_col = next(i for i, c in enumerate(head) if c.startswith("gap to best known"))
        rows = {}
        for line in table[2:]:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) != len(head):
                break
            rows[cells[0]] = (cells[rate_col].split(" ± ")[0], cells[gap_col].split(" ± ")[0])
        out[heading] = rows
    return out


def header_facts(report: str) -> tuple[str, str]:
    """(angd_np version, trials of fig3) from the report's first paragraph."""
    version = re.search(r"angd_np ([0-9][\w.+-]*)", report)
    trials = re.search(r"fig3: (\d+) trials", report)
    if not version or not trials:
        raise ValueError("the report's header names no angd_np version or fig3 trials")
    return version.group(1), trials.group(1)


def paper_gains(report: str) -> list[float]:
    """ANGD's sum-rate gains over CCPA (%) in the paper's configuration (the rows of the
    report's first table whose method is not the tuned variant)."""
    gains = []
    for line in report.splitlines():
        m = re.match(r"\| ANGD-(?:FCN|CNN) vs CCPA.*?\| [+-][\d.]+% \| ([+-][\d.]+)% \[", line)
        if m:
            gains.append(float(m.group(1)))
    return gains


def block(figures: Path) -> str:
    reports = {p: (figures / f"{p}-REPORT.md").read_text() for p in ("paper", "balanced")}
    points = {p: operating_points(r) for p, r in reports.items()}
    facts = {header_facts(r) for r in reports.values()}
    if len(facts) != 1:
        raise ValueError(f"the two reports come from different runs: {sorted(facts)}")
    ((version, trials),) = facts
    cols = [(p, heading, col) for p in ("paper", "balanced") for heading, col in POINTS]
    lines = [
        f"Mean sum rate (bit/s/Hz) / mean gap of the CSBF to the best-known optimum of each "
        f"trial (a fraction: 1e-3 is 0.1%), at the paper's operating points (M = 10, K = 2, "
        f"N = 4; Fig. 3 at 30 dBm, Fig. 4 at 32 dBm), {trials} trials each, from "
        f"[paper-REPORT.md](docs/figures/paper-REPORT.md) and "
        f"[balanced-REPORT.md](docs/figures/balanced-REPORT.md) (`angd-np reproduce --trials "
        f"{trials}`, angd_np {version}; this table is written from them by "
        f"`python scripts/headline_table.py --write`).", "",
        "| method | " + " | ".join(f"`{p}`, {col}" for p, _, col in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for row, name in ROWS.items():
        cells = []
        for p, heading, _ in cols:
            rate, gap = points[p][heading].get(name, ("—", "—"))
            cells.append(f"{rate} / {gap}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    gains = paper_gains(reports["paper"])
    if gains:
        lines += ["", f"The paper reports ANGD 4–8% above CCPA in sum rate; with its "
                      f"configuration we measure {-max(gains):.0f}–{-min(gains):.0f}% below "
                      f"(95% intervals in the reports)."]
    return "\n".join([START, *lines, END])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", default=str(ROOT / "docs" / "figures"))
    ap.add_argument("--readme", default=str(ROOT / "README.md"))
    ap.add_argument("--write", action="store_true", help="replace the block in the README")
    args = ap.parse_args(argv)
    text = block(Path(args.figures))
    print(text)
    if args.write:
        readme = Path(args.readme)
        old = readme.read_text()
        i, j = old.find(START), old.find(END)
        if i < 0 or j < 0:
            print(f"{readme} has no {START} ... {END} block", file=sys.stderr)
            return 1
        readme.write_text(old[:i] + text + old[j + len(END):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
