"""A one-line progress bar with an ETA, on stderr, only when stderr is a terminal.

Chunks cost very different amounts (a CCPA chunk takes seconds, a ZF chunk microseconds), so
progress is counted in *estimated work*, not in chunks: each chunk carries a weight and the
ETA is ``elapsed * remaining_weight / done_weight``.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Progress of ``n_chunks`` chunks of total weight ``total``.

    Parameters
    ----------
    total : float
        Sum of the weights of all chunks to run (> 0).
    n_chunks : int
    label : str
        Shown at the start of the line, e.g. the figure names.
    stream : file-like, optional
        Defaults to ``sys.stderr``.
    enabled : bool, optional
        Defaults to ``stream.isatty()``: quiet in logs, pipes and tests.
    """

    def __init__(self, total: float, n_chunks: int, label: str = "", stream=None,
                 enabled: bool | None = None, width: int = 24):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = bool(self.stream.isatty()) if enabled is None else enabled
        self.total = max(float(total), 1e-12)
        self.n_chunks = n_chunks
        self.label = label
        self.width = width
        self.done_weight = 0.0
        self.done_chunks = 0
        self.start = time.monotonic()
        self._last_draw = -1.0
        self.draw(force=True)

    def update(self, weight: float) -> None:
        """Record one finished chunk of the given weight."""
        self.done_weight += weight
        self.done_chunks += 1
        self.draw()

    def line(self) -> str:
        frac = min(self.done_weight / self.total, 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        if self.done_weight > 0 and frac < 1:
            eta = f"ETA {_clock(elapsed * (self.total - self.done_weight) / self.done_weight)}"
        else:
            eta = "ETA --:--" if frac < 1 else "done"
        return (f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {100 * frac:3.0f}% "
                f"{self.done_chunks}/{self.n_chunks} chunks, {_clock(elapsed)} elapsed, {eta}")

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.2 and self.done_chunks < self.n_chunks:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
