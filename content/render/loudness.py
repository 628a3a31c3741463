"""Loudness to a target: BS.1770 integrated loudness (pyloudnorm), gain, and a true-peak limiter."""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyloudnorm
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d
from scipy.signal import sosfilt

from content.render.true_peak import BlockPeaks, fine_peaks, true_peak_db

_STEP_S = 0.1  # BS.1770 gating blocks of 400 ms start every 100 ms
_BLOCK_S = 0.002  # the limiter decides its gain every 2 ms
_SILENCE_LUFS = -70.0
_MARGIN_DB = 0.5  # limit under the ceiling: MP3 encoding moves peaks by a few tenths of a dB
_NEAR_BLOCKS = 8  # blocks either side of a limiter gain change checked for overshoot (16 ms)
_GUESS_DB = 6.0  # past the first guess of the gain: limiting takes back some of it, and the tries add it again
_CHECK_DB = 0.05  # how far past ceiling − margin the final measure may find a peak before every block is checked


@dataclass(frozen=True)
class Loudness:
    """What a signal measures: integrated loudness (LUFS) and true peak (dBTP)."""

    lufs: float
    true_peak_db: float


def _as_float(samples: np.ndarray) -> np.ndarray:
    """int16 (frames, channels) as float64 in −1…1."""
    signal = samples.astype(np.float64)
    signal *= 1 / 32768.0  # in place: a program is a few hundred MB of float64
    return signal


def _scale_blocks(signal: np.ndarray, factors: np.ndarray, block: int) -> None:
    """Multiply, in place, each ``block`` frames of ``signal`` by its factor (no per-frame copy of the factors)."""
    frames = signal.shape[0]
    whole = frames // block
    if whole:
        signal[: whole * block].reshape(whole, block, -1)[...] *= factors[:whole, None, None]
    if frames > whole * block:
        signal[whole * block :] *= factors[whole]


def measure(signal: np.ndarray, rate: int) -> Loudness:
    """Integrated loudness and true peak of a float signal (frames, channels)."""
    return Loudness(integrated_lufs(signal, rate), true_peak_db(signal))


@functools.cache
def _k_weighting(rate: int) -> tuple[tuple[np.ndarray, np.ndarray, float], ...]:
    """pyloudnorm's K-weighting stages (high shelf, high pass) for ``rate``, as (b, a, gain)."""
    meter = pyloudnorm.Meter(rate)
    return tuple((stage.b, stage.a, stage.passband_gain) for stage in meter._filters.values())


@functools.cache
def _k_sections(rate: int) -> np.ndarray:
    """The K-weighting stages as second-order sections (their gains in the numerators), for one ``sosfilt``."""
    return np.vstack([np.concatenate([np.asarray(b, float) * gain / a[0], np.asarray(a, float) / a[0]])
                      for b, a, gain in _k_weighting(rate)])


def _k_weighted(signal: np.ndarray, rate: int) -> list[np.ndarray]:
    """Each loudness-bearing channel (L, R, C: weight 1.0) through the K-weighting filters (both stages in
    one pass: the same numbers as one ``lfilter`` per stage to ~1e-13, several times faster)."""
    return [sosfilt(_k_sections(rate), signal[:, channel]) for channel in range(min(signal.shape[1], 3))]


def _block_energies(weighted: list[np.ndarray], rate: int, gain: np.ndarray | None = None) -> np.ndarray | None:
    """Mean square of each 400 ms gating block (100 ms apart), summed over channels; None when too short.

    ``gain`` (one factor per frame) scales the K-weighted channels first: a cheap estimate of what a
    slowly varying gain (the limiter's) does to loudness, without filtering the signal again.
    """
    step = round(rate * _STEP_S)
    frames = weighted[0].shape[0] if weighted else 0
    if frames < 4 * step:
        return None
    blocks = int(np.round((frames / rate - 0.4) / _STEP_S)) + 1
    energy = np.zeros(blocks)
    squares = np.zeros(-(-frames // step) * step + 3 * step)
    for channel in weighted:
        scaled = channel if gain is None else channel * gain
        np.multiply(scaled, scaled, out=squares[:frames])
        steps = squares.reshape(-1, step).sum(axis=1)
        energy += np.convolve(steps, np.ones(4), mode="valid")[:blocks] / (4 * step)
    return energy


def _step_squares(weighted: list[np.ndarray]) -> np.ndarray:
    """Each frame's squared K-weighted value, summed over the channels (what gating blocks add up). Squares the
    channels in place: they are not needed afterwards."""
    total = np.square(weighted[0], out=weighted[0])
    for channel in weighted[1:]:
        total += np.square(channel, out=channel)
    return total


def _energies_of(steps: np.ndarray, frames: int, rate: int) -> np.ndarray | None:
    """The gating blocks' mean squares from the per-step (100 ms) sums of squares; None when too short.
    The same blocks as :func:`_block_energies`."""
    step = round(rate * _STEP_S)
    if frames < 4 * step:
        return None
    blocks = int(np.round((frames / rate - 0.4) / _STEP_S)) + 1
    return np.convolve(steps, np.ones(4), mode="valid")[:blocks] / (4 * step)


def _step_sums(squares: np.ndarray, step: int) -> np.ndarray:
    """The sum of each ``step`` frames of ``squares`` (the last step partial), then three empty steps: the
    signal as if zero-padded, without copying it."""
    whole = squares.shape[0] // step
    sums = np.zeros(-(-squares.shape[0] // step) + 3)
    sums[:whole] = squares[: whole * step].reshape(whole, step).sum(axis=1)
    if squares.shape[0] > whole * step:
        sums[whole] = squares[whole * step :].sum()
    return sums


@dataclass(frozen=True)
class _BlockSquares:
    """Each limiter block's sum of squares, split where a 100 ms step begins inside it (a block spans at most
    two steps): ``before`` that start (all of it when none does), ``after`` it, and the steps they fall in."""

    before: np.ndarray
    after: np.ndarray
    first_step: np.ndarray
    second_step: np.ndarray


def _block_squares(squares: np.ndarray, block: int, step: int) -> _BlockSquares:
    frames = squares.shape[0]
    start = np.arange(-(-frames // block)) * block
    end = np.minimum(start + block, frames)
    split = np.maximum((end - 1) // step * step, start)
    cuts = np.union1d(start, split)  # increasing: every block start and every step start inside a block
    sums = np.add.reduceat(squares, cuts)  # from each cut to the next: one pass, nothing copied
    at_start, at_split = np.searchsorted(cuts, start), np.searchsorted(cuts, split)
    inside = split > start
    before = np.where(inside, sums[at_start], sums[at_split])
    return _BlockSquares(before, np.where(inside, sums[at_split], 0.0), start // step, split // step)


def _gained_steps(parts: _BlockSquares, steps: np.ndarray, gains: np.ndarray, scale: float) -> np.ndarray:
    """The per-step sums of squares with each block scaled by its gain and all by ``scale``: the plain sums
    times ``scale²``, less what the blocks the limiter turns down lose (a limiter touches few blocks: no pass
    over the whole signal)."""
    touched = np.flatnonzero(gains < 1.0)
    loss = 1.0 - gains[touched] ** 2
    lost = (np.bincount(parts.first_step[touched], weights=parts.before[touched] * loss, minlength=steps.shape[0])
            + np.bincount(parts.second_step[touched], weights=parts.after[touched] * loss,
                          minlength=steps.shape[0]))
    return (steps - lost[: steps.shape[0]]) * (scale * scale)


def _gated_lufs(energy: np.ndarray | None) -> float:
    """BS.1770-4 gating (absolute −70 LUFS, then relative −10 LU) of block energies."""
    if energy is None:
        return _SILENCE_LUFS
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(energy)
    gated = energy[loudness >= _SILENCE_LUFS]
    if gated.size == 0:
        return _SILENCE_LUFS
    relative = -0.691 + 10 * math.log10(gated.mean()) - 10
    kept = energy[(loudness > relative) & (loudness > _SILENCE_LUFS)]
    lufs = -0.691 + 10 * math.log10(kept.mean()) if kept.size and kept.mean() > 0 else _SILENCE_LUFS
    return max(lufs, _SILENCE_LUFS)


def integrated_lufs(signal: np.ndarray, rate: int) -> float:
    """BS.1770-4 integrated loudness of a float signal (frames, channels); −70 for silence or too short.

    The same filters and gating as pyloudnorm's ``Meter.integrated_loudness`` (which the tests use as
    the reference), with the block energies summed by numpy instead of a Python loop: ~10x faster.
    """
    if signal.shape[0] < 4 * round(rate * _STEP_S):
        return _SILENCE_LUFS
    return _gated_lufs(_block_energies(_k_weighted(signal, rate), rate))


def _block_gains(peaks: np.ndarray, ceiling_db: float) -> np.ndarray | None:
    """The gain of each block that turns a signal down smoothly wherever its oversampled peak would pass
    ``ceiling_db``, given the true peak of each block; None when none does."""
    ceiling = 10 ** (ceiling_db / 20)
    if peaks.max() <= ceiling:
        return None
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    # Hold the lowest gain over neighbouring blocks, then smooth within that hold: the gain never
    # rises above what a block needs, and it moves over ~10 ms instead of jumping (no clicks).
    held = minimum_filter1d(needed, size=9, mode="nearest")
    return np.minimum(uniform_filter1d(held, size=5, mode="nearest"), needed)


def _near_changes(gains: np.ndarray) -> np.ndarray:
    """One flag per block: whether the limiter's gain moves within a few blocks of it (where a gain change
    can overshoot between samples)."""
    moving = np.zeros(gains.shape[0], dtype=bool)
    moving[1:] = gains[1:] != gains[:-1]
    moving |= gains < 1.0
    return maximum_filter1d(moving, size=2 * _NEAR_BLOCKS + 1, mode="constant")


def _hold_overshoot(limited: np.ndarray, block: int, ceiling_db: float, only: np.ndarray | None) -> np.ndarray:
    """Turn down, in place, the blocks of ``limited`` whose true peak passes the ceiling less the margin (the
    blocks ``only`` flags, or all); returns the gain each block was given."""
    floor = 10 ** ((ceiling_db - _MARGIN_DB) / 20) / 2
    held = np.ones(-(-limited.shape[0] // block))
    for _ in range(3):  # a hold's own gain change can overshoot again: look there once more
        if only is not None and not only.any():
            break
        gains = _block_gains(fine_peaks(limited, block, floor, only), ceiling_db - _MARGIN_DB)
        if gains is None:
            break
        _scale_blocks(limited, gains, block)
        held *= gains
        only = _near_changes(gains)
    return held


def _floor(ceiling_db: float, gain_db: float) -> float:
    """The sample peak under which a block, turned up by ``gain_db``, cannot pass the ceiling less the margin
    (a true peak is at most 6 dB over the samples)."""
    return 10 ** ((ceiling_db - _MARGIN_DB - gain_db) / 20) / 2


def _limited_peak_db(limited: np.ndarray, peaks: np.ndarray, level: np.ndarray, block: int, floor: float) -> float:
    """The true peak (dBTP) of ``limited``, the signal times ``level`` (one factor per block), given ``peaks``,
    the signal's own true peak in each block whose sample peak passes ``floor`` (0 in the others).

    Where the level is steady the oversampling filter is linear, so a block's true peak is its level times
    its peak: only the blocks either side of a level change are oversampled again. When the quiet blocks
    could hold the largest peak, every block is measured instead.
    """
    changed = np.zeros(level.shape[0], dtype=bool)
    step = level[1:] != level[:-1]
    changed[1:] |= step
    changed[:-1] |= step
    peak = float(np.where(changed, 0.0, peaks[: level.shape[0]] * level).max(initial=0.0))
    if changed.any():
        peak = max(peak, float(fine_peaks(limited, block, 0.0, changed).max()))
    if peak <= 2 * floor * float(level.max()):  # a block under the floor may peak up to 6 dB over its samples
        return true_peak_db(limited)
    return 20 * math.log10(peak)


def normalize_loudness(samples: np.ndarray, rate: int, *, target_lufs: float, ceiling_db: float) -> tuple[
        np.ndarray, Loudness]:
    """int16 samples (frames, channels) brought to ``target_lufs`` with true peak under ``ceiling_db``.

    Returns the new int16 samples and what they measure. Silence stays silent.
    """
    return limit_to_target(samples, rate, target_lufs=target_lufs, ceiling_db=ceiling_db).finish()


@dataclass(frozen=True)
class _Overshoot:
    """What the final true-peak check needs: the limited float signal, the input's block peaks, and the level
    (gain) each block was given."""

    limited: np.ndarray
    peaks: BlockPeaks
    gains: np.ndarray
    scale: float
    ceiling_db: float


@dataclass(frozen=True)
class Limited:
    """Samples brought to a loudness target, as int16 ``samples`` a caller may start encoding at once;
    :meth:`finish` then checks their true peak and measures them. ``silent``: what the input measured when it
    was silence (then ``samples`` is the input, untouched)."""

    samples: np.ndarray
    rate: int
    check: _Overshoot | None = None
    silent: Loudness | None = None

    def finish(self) -> tuple[np.ndarray, Loudness]:
        """The final samples and what they measure: the true peak (before rounding to 16 bits) and the
        integrated loudness (filtered again: what is sent, measured).

        Deep gain changes between blocks can overshoot between samples: where the true peak passes the
        ceiling less the margin, what passes it is held, near the gain changes and then (rarely) anywhere,
        and the samples are made again; they are then not ``self.samples`` (encode them instead).
        """
        if self.check is None:
            assert self.silent is not None
            return self.samples, self.silent
        check, samples = self.check, self.samples
        limited, gains, block = check.limited, check.gains, check.peaks.block
        peak_db = _limited_peak_db(limited, check.peaks.true, gains * check.scale, block, check.peaks.floor)
        for only in (_near_changes(gains), None):
            if peak_db <= check.ceiling_db - _MARGIN_DB + _CHECK_DB:
                break
            gains = gains * _hold_overshoot(limited, block, check.ceiling_db, only)
            peak_db = _limited_peak_db(limited, check.peaks.true, gains * check.scale, block, check.peaks.floor)
            samples = _to_int16(limited)
        return samples, Loudness(integrated_lufs(_as_float(samples), self.rate), peak_db)


def _to_int16(signal: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """A float signal in −1…1 as int16 samples, rounded and clipped a chunk at a time (the signal is kept)."""
    out = np.empty(signal.shape, dtype=np.int16)
    for start in range(0, signal.shape[0], chunk):
        part = signal[start : start + chunk] * 32768.0
        np.rint(part, out=part)
        out[start : start + chunk] = np.clip(part, -32768, 32767, out=part)
    return out


def limit_to_target(samples: np.ndarray, rate: int, *, target_lufs: float, ceiling_db: float) -> Limited:
    """:func:`normalize_loudness` without the final check and measurement, so a caller can encode the samples
    while :meth:`Limited.finish` checks and measures them."""
    signal = _as_float(samples)
    frames = signal.shape[0]
    block = max(1, int(rate * _BLOCK_S))
    peaks = BlockPeaks(signal, block)
    # The blocks that may reach the ceiling are oversampled (scipy, without the GIL) while the signal is
    # K-weighted (with it), for a gain guessed from the plain mean square: gating and K-weighting usually
    # make speech louder than that says, so the guess rarely falls short; where it does, the tries below
    # oversample the blocks it left out.
    plain_lufs = -0.691 + 10 * math.log10(max(float(np.vdot(signal, signal)) / max(frames, 1), 1e-12))
    with ThreadPoolExecutor(max_workers=1) as other:
        first = other.submit(peaks.cover, _floor(ceiling_db, target_lufs - plain_lufs + _GUESS_DB))
        squares = _step_squares(_k_weighted(signal, rate))  # K-weighted once: every try reuses it
        first.result()
    steps = _step_sums(squares, round(rate * _STEP_S))
    lufs = _gated_lufs(_energies_of(steps, frames, rate))
    if lufs <= _SILENCE_LUFS:
        return Limited(samples, rate, silent=Loudness(lufs, true_peak_db(signal)))
    parts = _block_squares(squares, block, round(rate * _STEP_S))
    del squares
    # K-weighting is linear, so a plain gain moves loudness by exactly its dB: the signal is filtered
    # once, and each try scales the original, limits it afresh and estimates the result from the
    # filtered channels times the limiter's gain (limiting lowers loudness a little; make up for it).
    gain_db, previous = target_lufs - lufs, None
    most_db = gain_db + 12
    for _ in range(4):
        scale = 10 ** (gain_db / 20)
        peaks.cover(_floor(ceiling_db, gain_db))  # block peaks scale with the gain: those that may now reach it
        gains = _block_gains(peaks.true * scale, ceiling_db - _MARGIN_DB)
        if gains is None:
            break
        estimate = _gated_lufs(_energies_of(_gained_steps(parts, steps, gains, scale), frames, rate))
        if abs(estimate - target_lufs) <= 0.1:
            break
        # Limiting takes back part of each dB added: step along the measured slope (secant method).
        slope = 1.0
        if previous is not None and gain_db != previous[0]:
            slope = min(1.0, max(0.1, (estimate - previous[1]) / (gain_db - previous[0])))
        previous = (gain_db, estimate)
        gain_db = min(most_db, gain_db + (target_lufs - estimate) / slope)
    del parts
    if gains is None:
        gains = np.ones(-(-frames // block))
    _scale_blocks(signal, gains * scale, block)  # in place: the signal is not needed as it was
    return Limited(_to_int16(signal), rate, _Overshoot(signal, peaks, gains, scale, ceiling_db))
