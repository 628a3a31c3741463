"""The offline speech engine speaks Vietnamese audibly, at a plausible pace, safely from threads."""

from __future__ import annotations

import math
import unicodedata
from array import array
from concurrent.futures import ThreadPoolExecutor

import pytest

from content.render.speech import ENGINES, EspeakEngine, Speech, SpeechEngine, open_engine, split_sentences

SENTENCE = "Ngày Sách và Văn hóa đọc Việt Nam, mời bà con đến thư viện xã đọc sách."
TWO_SENTENCES = "Ngày mai xã tổ chức tiêm chủng. Mời bà con đưa trẻ đến trạm y tế."
# eSpeak NG carries waveform state (pitch flutter, phase) from one call to the next, so the same
# text comes out a few milliseconds longer or shorter each time; comparisons allow for that.
JITTER_S = 0.05


def rms(speech: Speech) -> float:
    """Root-mean-square level of 16-bit samples, 0 for silence and up to 32767."""
    samples = array("h", speech.pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def test_vietnamese_sentence_is_audible_at_a_plausible_pace() -> None:
    speech = EspeakEngine().synthesize(SENTENCE)

    words = len(SENTENCE.split())
    assert speech.sample_rate == 22050
    assert speech.sample_width == 2 and speech.channels == 1
    assert 0.15 * words <= speech.duration_s <= 0.8 * words
    assert rms(speech) > 500  # clearly not silence


def test_a_longer_text_takes_longer_to_say() -> None:
    engine = EspeakEngine()
    short = engine.synthesize("Mời bà con đến thư viện.")
    long = engine.synthesize("Mời bà con đến thư viện xã đọc sách và mượn sách về nhà cho con cháu cùng đọc.")
    assert long.duration_s > short.duration_s + 1.0


def test_a_faster_rate_gives_shorter_audio() -> None:
    slow = EspeakEngine(rate_wpm=120).synthesize(SENTENCE)
    fast = EspeakEngine(rate_wpm=240).synthesize(SENTENCE)
    assert fast.duration_s < 0.75 * slow.duration_s


def test_the_pause_between_sentences_is_inserted() -> None:
    without = EspeakEngine(sentence_pause_ms=0).synthesize(TWO_SENTENCES)
    with_pause = EspeakEngine(sentence_pause_ms=1000).synthesize(TWO_SENTENCES)
    assert with_pause.duration_s - without.duration_s == pytest.approx(1.0, abs=JITTER_S)


def test_a_single_sentence_gets_no_pause() -> None:
    without = EspeakEngine(sentence_pause_ms=0).synthesize(SENTENCE)
    with_pause = EspeakEngine(sentence_pause_ms=1000).synthesize(SENTENCE)
    assert with_pause.duration_s == pytest.approx(without.duration_s, abs=JITTER_S)


def test_decomposed_diacritics_are_read_like_composed_ones() -> None:
    # Unnormalised NFD text makes eSpeak stumble over the combining marks (~75 % longer audio).
    engine = EspeakEngine()
    decomposed = unicodedata.normalize("NFD", SENTENCE)
    assert decomposed != SENTENCE
    composed_s = engine.synthesize(SENTENCE).duration_s
    assert engine.synthesize(decomposed).duration_s == pytest.approx(composed_s, abs=JITTER_S)


def test_four_threads_at_once_get_the_same_audio_as_one_after_another() -> None:
    engines = [EspeakEngine(rate_wpm=120), EspeakEngine(rate_wpm=240), EspeakEngine(pitch=20), EspeakEngine()]
    sequential = [engine.synthesize(TWO_SENTENCES) for engine in engines]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            concurrent = list(pool.map(lambda engine: engine.synthesize(TWO_SENTENCES), engines))
            for alone, together in zip(sequential, concurrent, strict=True):
                assert together.duration_s == pytest.approx(alone.duration_s, abs=JITTER_S)
                assert rms(together) > 500


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="nothing to say"):
        EspeakEngine().synthesize(text)


def test_an_unknown_voice_is_reported_when_speaking() -> None:
    engine = EspeakEngine(voice="no-such-voice")  # cheap: nothing is loaded yet
    with pytest.raises(ValueError, match="no-such-voice"):
        engine.synthesize(SENTENCE)
    assert EspeakEngine().synthesize(SENTENCE).duration_s > 1  # the library is still usable


@pytest.mark.parametrize(
    "options",
    [{"rate_wpm": 20}, {"rate_wpm": 1000}, {"pitch": -1}, {"pitch": 101}, {"sentence_pause_ms": -5}],
)
def test_out_of_range_settings_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        EspeakEngine(**options)


@pytest.mark.parametrize("name", ["offline", "espeak", " Offline "])
def test_open_engine_gives_espeak_for_offline_names(name: str) -> None:
    engine = open_engine(name, rate_wpm=150)
    assert isinstance(engine, EspeakEngine)
    assert isinstance(engine, SpeechEngine)
    assert engine.name == "espeak" and engine.voice == "vi" and engine.rate_wpm == 150


def test_open_engine_lists_the_known_names_for_an_unknown_one() -> None:
    with pytest.raises(ValueError, match="unknown speech engine 'festival'") as caught:
        open_engine("festival")
    for known in ENGINES:
        assert known in str(caught.value)


def test_sentences_split_at_ends_and_blank_lines_not_inside_numbers_or_wrapped_lines() -> None:
    text = "THÔNG BÁO\n\nGiá 1.500 đồng một\ncân. Ai cần?  Liên hệ ngay!\nxin cảm ơn…"
    assert split_sentences(text) == [
        "THÔNG BÁO",
        "Giá 1.500 đồng một\ncân.",
        "Ai cần?",
        "Liên hệ ngay!",
        "xin cảm ơn…",
    ]


def test_duration_follows_the_sample_format() -> None:
    assert Speech(pcm=bytes(44100), sample_rate=22050).duration_s == 1.0
    assert Speech(pcm=bytes(44100 * 4), sample_rate=44100, channels=2).duration_s == 1.0


def test_a_real_plan_paragraph_is_read_at_a_plausible_pace_for_its_words() -> None:
    from content.render.normalize import normalize

    paragraph = ("Thực hiện Quyết định số 1373/QĐ-TTg ngày 30/7/2021 của Thủ tướng Chính phủ phê duyệt Đề án "
                 "“Xây dựng xã hội học tập giai đoạn 2021-2030”, UBND tỉnh Cao Bằng ban hành Kế hoạch truyền thông. "
                 "Tuyên truyền kịp thời các văn bản chỉ đạo của Trung ương về công tác khuyến học, khuyến tài.")
    spoken = normalize(paragraph)
    words = len(spoken.split())
    result = EspeakEngine(rate_wpm=150).synthesize(spoken)
    # 150 words a minute is 0.4 s a word; allow for pauses, tones and eSpeak's own pacing
    assert 0.25 * words <= result.duration_s <= 0.8 * words
    assert rms(result) > 500
