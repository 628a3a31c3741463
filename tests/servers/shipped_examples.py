"""The shipped config's commented social and print examples, uncommented: the stations and slots a test of those
outlets starts from (the same lines a centre would uncomment)."""

from __future__ import annotations

from pathlib import Path


def commented(path: Path, prefix: str) -> list[str]:
    """The commented lines of ``path`` that start with ``# <prefix>``, uncommented."""
    return [line[2:] for line in path.read_text("utf-8").splitlines() if line.startswith(f"# {prefix}")]


def uncomment_examples(config_dir: Path) -> None:
    """Give 99001 the Facebook example and the print example, 99002 the Zalo one, 99003 the Viber one, and add
    the commented slots of schedule.toml."""
    stations = config_dir / "stations.toml"
    facebook, zalo, viber = commented(stations, "social = ")
    [printed] = commented(stations, "print = ")
    text = stations.read_text("utf-8")
    for name, lines in (("Xã Tân Lập", [facebook, printed]), ("Xã Hòa Bình", [zalo]), ("Xã Phú Xuân", [viber])):
        text = text.replace(f'name = "{name}"\n', f'name = "{name}"\n' + "".join(f"{line}\n" for line in lines), 1)
    stations.write_text(text, "utf-8")
    uncomment_slots(config_dir)


def uncomment_slots(config_dir: Path) -> None:
    """Add the commented slots of schedule.toml: a social slot on weekdays at 09:00, a print slot on Fridays."""
    schedule = config_dir / "schedule.toml"
    lines = schedule.read_text("utf-8").splitlines()
    start = lines.index("# [[slot]]")
    slots = [line[2:] if line.startswith("# ") else "" for line in lines[start:]]
    schedule.write_text("\n".join([*lines, *slots]) + "\n", "utf-8")
