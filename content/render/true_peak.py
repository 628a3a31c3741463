"""True peak (BS.1770-4 Annex 2): the waveform 4x oversampled by a polyphase filter, block by block, and only
where a block's samples come near enough to the level that matters."""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import firwin, upfirdn

_OVERSAMPLE = 4  # BS.1770 true peak: 4x oversampling at 48 kHz and below
_JOIN_FRAMES = 512  # flagged blocks this close are oversampled in one go
_PARALLEL_FRAMES = 1 << 20  # frames to oversample (~48 s at 22,050 Hz) from which two threads share the work


@functools.cache
def _taps() -> np.ndarray:
    """A 48-tap 4x interpolation filter (BS.1770-4 Annex 2), its cutoff just under the original Nyquist."""
    return firwin(48, 0.25 * 0.95) * _OVERSAMPLE


def _runs(flags: np.ndarray, longest: int = 1 << 12) -> list[tuple[int, int]]:
    """The [start, end) ranges where ``flags`` holds, none longer than ``longest``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flags.astype(np.int8), [0]))))
    return [(first, min(first + longest, end)) for start, end in zip(edges[::2].tolist(), edges[1::2].tolist(),
                                                                       strict=True)
            for first in range(start, end, longest)]


def fine_peaks(signal: np.ndarray, block: int, floor: float, only: np.ndarray | None = None,
               sample_peaks: np.ndarray | None = None) -> np.ndarray:
    """The true peak of each ``block`` frames, the waveform 4x oversampled all along (scipy's polyphase
    ``upfirdn``), not only near each block's largest sample; over the blocks ``only`` flags, or all, whose
    sample peak passes ``floor`` (the others are left at 0)."""
    frames, channels = signal.shape
    blocks = -(-frames // block)
    taps = _taps()
    lead, context = taps.size // 2, taps.size // _OVERSAMPLE  # output 4n + 24 is the waveform just after frame n
    if sample_peaks is None:
        sample_peaks = block_sample_peaks(signal, block)
    flags = sample_peaks > floor if only is None else (sample_peaks > floor) & only[:blocks]
    peaks = np.where(flags, sample_peaks, 0.0)

    def oversample(runs: list[tuple[int, int]]) -> None:
        for first, last in runs:
            start, end = first * block, min(last * block, frames)
            low, high = max(0, start - context), min(frames, end + context)
            whole = (end - start) // block  # the run's last block may be the signal's partial last one
            for channel in range(channels):
                waveform = upfirdn(taps, signal[low:high, channel], up=_OVERSAMPLE)
                offset = lead + _OVERSAMPLE * (start - low)
                near = waveform[offset : offset + _OVERSAMPLE * (end - start)]
                np.abs(near, out=near)
                run_peaks = peaks[first : first + whole]
                np.maximum(run_peaks, near[: whole * block * _OVERSAMPLE].reshape(whole, -1).max(axis=1),
                           out=run_peaks)
                if first + whole < last:
                    peaks[first + whole] = max(peaks[first + whole], near[whole * block * _OVERSAMPLE :].max())

    # Runs a few hundred frames apart are oversampled as one: fewer, longer calls (the frames between are
    # oversampled too, which only makes their peaks exact).
    runs = _runs(maximum_filter1d(flags, size=2 * -(-_JOIN_FRAMES // block) + 1, mode="constant"))
    # A long signal's runs are shared by two threads (scipy filters without the GIL); runs never overlap,
    # so each thread writes its own blocks of ``peaks``.
    split = _halfway(runs) if sum(last - first for first, last in runs) * block >= _PARALLEL_FRAMES else 0
    if split:
        with ThreadPoolExecutor(max_workers=1) as other:
            done = other.submit(oversample, runs[split:])
            oversample(runs[:split])
            done.result()
    else:
        oversample(runs)
    return peaks


def _halfway(runs: list[tuple[int, int]]) -> int:
    """The index that splits ``runs`` into two parts of about the same number of blocks."""
    sizes = np.cumsum([last - first for first, last in runs])
    return int(np.searchsorted(sizes, sizes[-1] / 2)) + 1 if len(runs) > 1 else 0


def block_sample_peaks(signal: np.ndarray, block: int) -> np.ndarray:
    """The largest absolute sample of each ``block`` frames (the last block partial), read in place: a program's
    signal is a few hundred MB, and a copy of it (its absolute values, padded) costs more than the reading."""
    frames, channels = signal.shape
    whole = frames // block
    peaks = np.zeros(-(-frames // block))
    if whole:
        view = signal[: whole * block].reshape(whole, block * channels)
        np.maximum(view.max(axis=1), -view.min(axis=1), out=peaks[:whole])
    if frames > whole * block:
        peaks[whole] = np.abs(signal[whole * block :]).max()
    return peaks


class BlockPeaks:
    """The true peak of each ``block`` frames of a signal, oversampled only in the blocks whose largest sample
    passes ``floor`` (``true`` holds 0 in the others: their true peak is under twice ``floor``); :meth:`cover`
    lowers the floor, oversampling just the blocks newly above it."""

    def __init__(self, signal: np.ndarray, block: int) -> None:
        self.signal, self.block = signal, block
        self.samples = block_sample_peaks(signal, block)
        self.true = np.zeros_like(self.samples)
        self.floor = math.inf

    def cover(self, floor: float) -> None:
        """Make ``true`` exact in every block whose sample peak passes ``floor``."""
        if floor >= self.floor:
            return
        only = None if math.isinf(self.floor) else self.samples <= self.floor
        np.maximum(self.true, fine_peaks(self.signal, self.block, floor, only, self.samples), out=self.true)
        self.floor = floor


def true_peak_db(signal: np.ndarray) -> float:
    """The true peak of a float signal (frames, channels) in dBTP, by 4x polyphase oversampling."""
    if signal.size == 0:
        return -math.inf
    sample_peak = float(np.abs(signal).max())
    if sample_peak == 0:
        return -math.inf
    peak = float(fine_peaks(signal, 64, sample_peak / 2).max())  # 6 dB under the largest sample cannot reach it
    return 20 * math.log10(max(peak, sample_peak))
