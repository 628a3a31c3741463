"""The demo stations with a social outlet each (Facebook, Zalo, Viber) and a print outlet on 99001 making posters of
the slogan campaign: what the piece page previews. Nothing is dispatched to them in the tests that use it."""

from __future__ import annotations

from pathlib import Path

SLOGAN_CAMPAIGN = "Ngày Sách và Văn hóa đọc Việt Nam (21/4)"
HEADER = "TRUNG TÂM VĂN HÓA - THÔNG TIN HUYỆN MINH HỌA"


def add_social_and_print(config_dir: Path) -> None:
    """Give each demo station of ``config_dir`` its social outlet, and 99001 a print outlet writing under var/."""
    out = config_dir.parent / "var" / "print"
    outlets = {
        "Xã Tân Lập": (
            'social = { type = "facebook", page_id = "tanlap", token_env = "LOA_TEST_FB_TOKEN", '
            'link_template = "https://tanlap.gov.vn/tin/{ref}", hashtags = ["TânLập"] }\n'
            f'print = {{ type = "pdf", dir = "{out}", header = "{HEADER}", '
            f'slogan_campaigns = ["{SLOGAN_CAMPAIGN}"] }}\n'),
        "Xã Hòa Bình": (
            'social = { type = "zalo", app_id = "1", secret_env = "LOA_TEST_ZALO_SECRET", '
            f'refresh_token_env = "LOA_TEST_ZALO_REFRESH", token_file = "{out}/zalo.json", author = "Xã Hòa Bình", '
            'cover_url = "https://hoabinh.gov.vn/bia.jpg", media_url = "https://hoabinh.gov.vn/media" }\n'),
        "Xã Phú Xuân": (
            'social = { type = "viber", token_env = "LOA_TEST_VIBER_TOKEN", admin_id = "admin", '
            'sender_name = "Xã Phú Xuân", link_template = "https://phuxuan.gov.vn/tin/{ref}" }\n'),
    }
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8")
    for name, lines in outlets.items():
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\n{lines}', 1)
    stations.write_text(text, "utf-8")
