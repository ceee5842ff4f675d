"""Progress with an ETA on stderr: a redrawn bar on a terminal, plain lines elsewhere.

On a terminal one line is redrawn in place. Off a terminal (a CI log, ``nohup``, a notebook
cell) a carriage-return bar would be invisible or garbage, so a plain line is printed each
time a finished chunk brings the run 10% further or 30 s after the last line, and one at the
end.

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
        None (default): the bar on a terminal, plain lines elsewhere; True: the bar; False:
        quiet.
    """

    #: Off a terminal, a plain line at least every this share of the work or this many s.
    LINE_STEP, LINE_SECONDS = 0.1, 30.0

    def __init__(self, total: float, n_chunks: int, label: str = "", stream=None,
                 enabled: bool | None = None, width: int = 24):
        self.stream = sys.stderr if stream is None else stream
        self.plain = enabled is None and not self.stream.isatty()
        self.enabled = True if enabled is None else bool(enabled)
        self._last_line_frac = 0.0
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

    def line(self, bar: bool = True) -> str:
        frac = min(self.done_weight / self.total, 1.0)
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        if self.done_weight > 0 and frac < 1:
            eta = f"ETA {_clock(elapsed * (self.total - self.done_weight) / self.done_weight)}"
        else:
            eta = "ETA --:--" if frac < 1 else "done"
        drawn = f"[{'#' * filled}{'-' * (self.width - filled)}] " if bar else ""
        return (f"{self.label} {drawn}{100 * frac:3.0f}% {self.done_chunks}/{self.n_chunks} "
                f"chunks, {_clock(elapsed)} elapsed, {eta}")

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.plain:
            frac = min(self.done_weight / self.total, 1.0)
            step = frac >= self._last_line_frac + self.LINE_STEP - 1e-9
            if self.done_chunks and (force or step or now - self._last_draw >= self.LINE_SECONDS):
                self._last_draw, self._last_line_frac = now, frac
                self.stream.write(self.line(bar=False) + "\n")
                self.stream.flush()
            elif not self.done_chunks:
                self._last_draw = now
            return
        if not force and now - self._last_draw < 0.2 and self.done_chunks < self.n_chunks:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line() + "\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.plain:
            if self._last_line_frac < min(self.done_weight / self.total, 1.0):
                self.draw(force=True)
        elif self.enabled:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
