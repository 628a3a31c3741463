"""Benchmark: offline speech speed (audio seconds per wall second) on a 2,000-word Vietnamese text,
through loa's path (normalise, split into sentences, eSpeak NG) against the bare engine in the same run.

Goals (issue 4, SPEC §14): at least 20× real time, and at least 80 % of the bare engine's rate.
Run:  .venv/bin/python bench/speech.py        (add --quick for a smoke run)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.render import speech
from content.render.normalize import normalize

PARAGRAPH = (
    "Thực hiện Quyết định số 1373/QĐ-TTg ngày 30/7/2021 của Thủ tướng Chính phủ phê duyệt Đề án xây dựng "
    "xã hội học tập giai đoạn 2021-2030, UBND xã tổ chức Tuần lễ học tập suốt đời từ ngày 1-7/10. "
    "Các TTHTCĐ, CLB đọc sách và trường THCS mở cửa từ 7h30 đến 11h mỗi ngày. "
    "Năm 2025, phấn đấu 80-90% hộ gia đình đạt danh hiệu gia đình học tập, 3.321 người tham gia. "
    "Mời bà con đến thư viện xã đọc sách, mượn sách về nhà cho con cháu cùng đọc. "
)


def text_of(words: int) -> str:
    paragraph_words = len(PARAGRAPH.split())
    return "\n\n".join([PARAGRAPH] * max(1, round(words / paragraph_words)))


def ours(text: str) -> float:
    engine = speech.EspeakEngine(rate_wpm=150, sentence_pause_ms=0)
    return engine.synthesize(normalize(text)).duration_s


def bare(text: str) -> float:
    """libespeak-ng through ctypes on the already-normalised text in one call: no splitting, no lock."""
    with speech._LOCK:
        espeak = speech._espeak_locked()
        espeak.configure("vi", 150, 50)
        pcm = espeak.speak(text)
        return len(pcm) / 2 / espeak.sample_rate


def timed(function, text: str, runs: int) -> tuple[float, float]:
    best = None
    for _ in range(runs):
        start = time.perf_counter()
        seconds = function(text)
        wall = time.perf_counter() - start
        best = (seconds, wall) if best is None or wall < best[1] else best
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 words, one run: a smoke test")
    args = parser.parse_args()
    words, runs = (200, 1) if args.quick else (2000, 3)
    text = text_of(words)
    bare(text_of(20))  # load the library before timing
    spoken = normalize(text)
    bare_audio, bare_wall = timed(bare, spoken, runs)
    our_audio, our_wall = timed(ours, text, runs)
    bare_rate, our_rate = bare_audio / bare_wall, our_audio / our_wall
    print(f"text            : {len(text.split())} words ({len(spoken.split())} spoken words)")
    print(f"bare eSpeak NG  : {bare_audio:7.1f} s of audio in {bare_wall:6.2f} s = {bare_rate:6.1f}× real time")
    print(f"loa offline     : {our_audio:7.1f} s of audio in {our_wall:6.2f} s = {our_rate:6.1f}× real time")
    print(f"ratio           : {our_rate / bare_rate:6.2f} of the bare engine's rate (goal ≥ 0.80)")
    met = our_rate >= 20 and our_rate >= 0.8 * bare_rate
    print(f"goal            : ≥ 20× real time and ≥ 80 % of bare → {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
