"""Loudness to a target: BS.1770 integrated loudness (pyloudnorm), gain, and a true-peak limiter."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

_OVERSAMPLE = 4  # BS.1770 true peak: 4x oversampling at 48 kHz and below
_BLOCK_S = 0.002  # the limiter decides its gain every 2 ms
_SILENCE_LUFS = -70.0


@dataclass(frozen=True)
class Loudness:
    """What a signal measures: integrated loudness (LUFS) and true peak (dBTP)."""

    lufs: float
    true_peak_db: float


def _as_float(samples: np.ndarray) -> np.ndarray:
    """int16 (frames, channels) as float64 in −1…1."""
    return samples.astype(np.float64) / 32768.0


def true_peak_db(signal: np.ndarray) -> float:
    """The true peak of a float signal (frames, channels) in dBTP, by 4x polyphase oversampling."""
    if signal.size == 0:
        return -math.inf
    peak = float(np.max(np.abs(resample_poly(signal, _OVERSAMPLE, 1, axis=0))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def measure(signal: np.ndarray, rate: int) -> Loudness:
    """Integrated loudness and true peak of a float signal (frames, channels)."""
    return Loudness(integrated_lufs(signal, rate), true_peak_db(signal))


def integrated_lufs(signal: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness of a float signal (frames, channels); −70 for silence or too short."""
    if signal.shape[0] < int(0.4 * rate):  # shorter than one gating block
        return _SILENCE_LUFS
    lufs = float(pyloudnorm.Meter(rate).integrated_loudness(signal))
    return lufs if math.isfinite(lufs) else _SILENCE_LUFS


def _limit(signal: np.ndarray, rate: int, ceiling_db: float) -> np.ndarray:
    """Turn the gain down smoothly wherever the oversampled peak would pass ``ceiling_db``."""
    ceiling = 10 ** (ceiling_db / 20)
    block = max(1, int(rate * _BLOCK_S))
    frames = signal.shape[0]
    blocks = -(-frames // block)
    padded = np.zeros((blocks * block, signal.shape[1]))
    padded[:frames] = signal
    over = np.abs(resample_poly(padded, _OVERSAMPLE, 1, axis=0)).max(axis=1)
    peaks = over.reshape(blocks, block * _OVERSAMPLE).max(axis=1)
    if peaks.max() <= ceiling:
        return signal
    needed = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    # Hold the lowest gain over neighbouring blocks, then smooth within that hold: the gain never
    # rises above what a block needs, and it moves over ~10 ms instead of jumping (no clicks).
    held = minimum_filter1d(needed, size=9, mode="nearest")
    smooth = np.minimum(uniform_filter1d(held, size=5, mode="nearest"), needed)
    gain = np.repeat(smooth, block)[:frames]
    return signal * gain[:, None]


def normalize_loudness(samples: np.ndarray, rate: int, *, target_lufs: float, ceiling_db: float) -> tuple[
        np.ndarray, Loudness]:
    """int16 samples (frames, channels) brought to ``target_lufs`` with true peak under ``ceiling_db``.

    Returns the new int16 samples and what they measure. Silence stays silent.
    """
    signal = _as_float(samples)
    lufs = integrated_lufs(signal, rate)
    if lufs <= _SILENCE_LUFS:
        return samples, Loudness(lufs, true_peak_db(signal))
    for _ in range(3):  # limiting lowers loudness a little; make up for it and limit again
        signal = _limit(signal * 10 ** ((target_lufs - lufs) / 20), rate, ceiling_db - 0.2)
        lufs = integrated_lufs(signal, rate)
        if abs(lufs - target_lufs) <= 0.3:
            break
    out = np.clip(np.round(signal * 32768.0), -32768, 32767).astype(np.int16)
    return out, measure(_as_float(out), rate)
