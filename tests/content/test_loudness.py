"""Loudness: loa's fast BS.1770 meter agrees with pyloudnorm; normalising hits the target under the ceiling."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from content.render.loudness import (
    Limited,
    _Overshoot,
    _scale_blocks,
    _to_int16,
    integrated_lufs,
    normalize_loudness,
    true_peak_db,
)
from content.render.true_peak import BlockPeaks

RATE = 22050


def speechlike(seconds: float, seed: int, channels: int = 1) -> np.ndarray:
    """Noise bursts with pauses, so gating matters, as it does for speech."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((int(seconds * RATE), channels)) * 0.05
    envelope = (np.sin(np.arange(signal.shape[0]) / RATE * 2 * math.pi * 0.7) > -0.3).astype(float)
    return signal * envelope[:, None]


@pytest.mark.parametrize(("seconds", "channels", "seed"), [(3, 1, 1), (20, 1, 2), (7.3, 2, 3)])
def test_the_fast_meter_agrees_with_pyloudnorm(seconds: float, channels: int, seed: int) -> None:
    signal = speechlike(seconds, seed, channels)
    reference = pyloudnorm.Meter(RATE).integrated_loudness(signal)
    assert integrated_lufs(signal, RATE) == pytest.approx(reference, abs=0.05)


def test_silence_and_too_short_signals_read_as_the_floor() -> None:
    assert integrated_lufs(np.zeros((RATE * 2, 1)), RATE) == -70.0
    assert integrated_lufs(np.ones((100, 1)) * 0.1, RATE) == -70.0


def test_true_peak_sees_between_the_samples() -> None:
    t = np.arange(RATE) / RATE
    sine = (0.5 * np.sin(2 * math.pi * RATE / 4 * t + math.pi / 4))[:, None]  # samples miss the crests
    sample_peak = 20 * math.log10(np.abs(sine).max())
    reference = 20 * math.log10(np.abs(resample_poly(sine, 4, 1, axis=0)).max())
    assert true_peak_db(sine) > sample_peak + 2
    assert true_peak_db(sine) == pytest.approx(reference, abs=0.3)


@pytest.mark.parametrize("gain", [0.02, 1.0, 8.0])  # far too quiet, about right, clipping hot
def test_normalising_reaches_the_target_with_the_true_peak_under_the_ceiling(gain: float) -> None:
    signal = np.clip(speechlike(12, 4) * gain, -1, 1)
    samples = np.round(signal * 32767).astype(np.int16)
    out, measured = normalize_loudness(samples, RATE, target_lufs=-16, ceiling_db=-1.5)
    as_float = out.astype(np.float64) / 32768
    assert pyloudnorm.Meter(RATE).integrated_loudness(as_float) == pytest.approx(-16, abs=0.5)
    assert 20 * math.log10(np.abs(resample_poly(as_float, 4, 1, axis=0)).max()) <= -1.5
    assert measured.lufs == pytest.approx(-16, abs=0.5) and measured.true_peak_db <= -1.5
    assert out.shape == samples.shape and out.dtype == np.int16


def test_silence_stays_silent() -> None:
    silent = np.zeros((RATE * 3, 1), dtype=np.int16)
    out, measured = normalize_loudness(silent, RATE, target_lufs=-16, ceiling_db=-1.5)
    assert not out.any() and measured.lufs == -70.0


def test_an_overshoot_found_by_the_final_check_is_held_and_the_samples_made_again() -> None:
    """Gains that jump between blocks make a hot signal overshoot between samples; the final check, run while
    the first samples are being encoded, turns down what passes the ceiling and hands back new samples."""
    block, ceiling_db = 44, -6.0
    t = np.arange(RATE) / RATE
    signal = (0.7 * np.sin(2 * math.pi * RATE / 4 * t + math.pi / 4))[:, None]  # crests between the samples
    peaks = BlockPeaks(signal.copy(), block)
    peaks.cover(0.0)
    gains = np.ones(peaks.true.shape[0])
    gains[::3] = 0.1  # deep steps every third block
    limited = signal.copy()
    _scale_blocks(limited, gains, block)
    first = Limited(_to_int16(limited), RATE, _Overshoot(limited, peaks, gains, 1.0, ceiling_db))
    assert true_peak_db(first.samples / 32768) > ceiling_db + 2  # as the limiter left it: far too hot

    out, measured = first.finish()

    assert out is not first.samples and out.shape == first.samples.shape and out.dtype == np.int16
    assert true_peak_db(out / 32768) <= ceiling_db and measured.true_peak_db <= ceiling_db
    assert measured.lufs == pytest.approx(integrated_lufs(out / 32768, RATE), abs=0.01)
