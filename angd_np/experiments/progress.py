"""Progress with an ETA on stderr: a redrawn bar on a terminal, plain lines elsewhere.

On a terminal one line is redrawn in place. Off a terminal (a CI log, ``nohup``, a notebook
cell) a carriage-return bar would be invisible or garbage, so a plain line is printed each
time a finished chunk brings the run 10% further or 30 s after the last line, and one at the
end.

Chunks cost very different amounts (a CCPA chunk takes seconds, a ZF chunk microseconds), so
progress is counted in *time*, not in chunks. Each chunk carries a predicted weight (its
solver spec's ``cost`` times the spec's ``work`` for the options: :func:`.runner.plan_tasks`)
and, once finished, its measured seconds. The weights only rank chunks; each solver's seconds
are fitted in the run as ``a + b * weight`` (b: seconds per unit of weight; a: a chunk's fixed
cost, which many cheap chunks at the end of a run add up) over its finished chunks, and a
solver not seen yet uses the fit of all chunks so far. So a spec ``cost`` that is off by a
factor misleads the ETA only until that solver's first chunk ends (the runner starts one chunk
of each solver first). Chunks in flight count with the time they have been running (each
worker's time since its last chunk ended), and the time left is spread over the workers:

- done = measured seconds of the finished chunks + running time of those in flight;
- left = sum over solvers of (a x chunks left + b x weight left), minus the running time
  (at most 90% of the running chunks' share of it);
- percentage = done / (done + left); ETA = left / min(workers, chunks left, done / elapsed).
"""

from __future__ import annotations

import sys
import time

import numpy as np

__all__ = ["Progress"]


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _affine(samples) -> tuple[float, float]:
    """(a, b) >= 0 with seconds ~ a + b weight over the (weight, seconds) ``samples``, by least
    squares: a is a chunk's fixed cost (drawing, curves, process round trip), which a cheap
    chunk pays as much as a costly one; proportional (a = 0) until the weights differ."""
    w = np.array([x for x, _ in samples], dtype=np.float64)
    sec = np.array([y for _, y in samples], dtype=np.float64)
    if w.size >= 2 and np.ptp(w) > 1e-12 * np.max(np.abs(w)):
        b, a = np.polyfit(w, sec, 1)
        if a >= 0 and b >= 0:
            return float(a), float(b)
        if b < 0:
            return float(sec.mean()), 0.0
    return 0.0, float(sec.sum() / max(w.sum(), 1e-300))


class Progress:
    """Progress of ``n_chunks`` chunks of total predicted weight ``total``.

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
    kinds : dict, optional
        Per kind of chunk (the solver): (weight, chunks) to run, weights summing to
        ``total``; each kind's seconds are fitted separately. Default: one kind.
    workers : int
        Chunks run at once (processes).
    """

    #: Off a terminal, a plain line at least every this share of the work or this many s.
    LINE_STEP, LINE_SECONDS = 0.1, 30.0

    def __init__(self, total: float, n_chunks: int, label: str = "", stream=None,
                 enabled: bool | None = None, width: int = 24, kinds: dict | None = None,
                 workers: int = 1):
        self.stream = sys.stderr if stream is None else stream
        self.plain = enabled is None and not self.stream.isatty()
        self.enabled = True if enabled is None else bool(enabled)
        self._last_line_frac = 0.0
        self.total = max(float(total), 1e-12)
        self.n_chunks = n_chunks
        self.label = label
        self.width = width
        self.workers = max(1, int(workers))
        kinds = kinds or {None: (self.total, n_chunks)}
        self.left = {k: list(v) if isinstance(v, (tuple, list)) else [v, None]
                     for k, v in kinds.items()}
        self.samples = {k: [] for k in self.left}  # (weight, seconds) of finished chunks
        self.done_weight = 0.0
        self.done_chunks = 0
        self.start = time.monotonic()
        self._timed = False  # chunks report measured seconds (else weights stand in)
        self._finished = {}  # worker -> when its last chunk ended
        self._last_draw = -1.0
        self.draw(force=True)

    def update(self, weight: float, seconds: float | None = None, kind=None,
               worker=None) -> None:
        """Record one finished chunk: its predicted weight, measured seconds, kind (solver)
        and the worker that ran it."""
        kind = kind if kind in self.left else next(iter(self.left))
        self.left[kind][0] -= weight
        if self.left[kind][1] is not None:
            self.left[kind][1] -= 1
        self._timed |= seconds is not None
        self.samples[kind].append((weight, weight if seconds is None else float(seconds)))
        self.done_weight += weight
        self.done_chunks += 1
        self._finished[worker] = time.monotonic()
        self.draw()

    def estimate(self) -> tuple[float, float | None]:
        """(fraction of the time done, seconds left or None before any chunk ended)."""
        if self.done_chunks >= self.n_chunks:
            return 1.0, 0.0
        if not self.done_chunks:
            return 0.0, None
        now = time.monotonic()
        elapsed = max(now - self.start, 1e-9)
        if not self._timed:  # weights, not seconds: the time left in proportion to them
            frac = self.done_weight / self.total
            return frac, elapsed * max(self.total - self.done_weight, 0.0) / max(
                self.done_weight, 1e-300)
        overall = _affine([x for v in self.samples.values() for x in v])
        left = 0.0
        for k, (w, count) in self.left.items():
            a, b = _affine(self.samples[k]) if self.samples[k] else overall
            left += b * max(w, 0.0) + (a * max(count, 0) if count is not None else 0.0)
        spent = sum(sec for v in self.samples.values() for _, sec in v)
        running = min(self.workers, self.n_chunks - self.done_chunks)
        in_flight = 0.0
        if self._timed:  # each busy worker's time since its last chunk ended (or the start)
            since = sorted((now - t for t in self._finished.values()), reverse=True)
            since += [elapsed] * max(0, self.workers - len(since))
            in_flight = sum(since[:running])
        done = spent + in_flight
        # The chunks in flight are a share of what is left: credit them at most 90% of it, so
        # that a chunk running longer than predicted never makes the run look finished.
        chunks_left = self.n_chunks - self.done_chunks
        left = left - min(in_flight, 0.9 * left * running / chunks_left)
        parallel = max(min(running, done / elapsed), 1e-9)
        return done / max(done + left, 1e-300), left / parallel

    def line(self, bar: bool = True) -> str:
        frac, left = self.estimate()
        finished = self.done_chunks >= self.n_chunks
        frac = frac if finished else min(frac, 0.99)  # "100%" and "done" only at the end
        filled = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        if finished:
            eta = "done"
        else:
            eta = "ETA --:--" if left is None else f"ETA {_clock(left)}"
        drawn = f"[{'#' * filled}{'-' * (self.width - filled)}] " if bar else ""
        return (f"{self.label} {drawn}{100 * frac:3.0f}% {self.done_chunks}/{self.n_chunks} "
                f"chunks, {_clock(elapsed)} elapsed, {eta}")

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.plain:
            frac = self.estimate()[0]
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
            if self._last_line_frac < self.estimate()[0]:
                self.draw(force=True)
        elif self.enabled:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
