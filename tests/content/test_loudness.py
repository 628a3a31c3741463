"""Loudness: loa's fast BS.1770 meter agrees with pyloudnorm; normalising hits the target under the ceiling."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
import pytest
from scipy.signal import resample_poly

from content.render.loudness import integrated_lufs, normalize_loudness, true_peak_db

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
