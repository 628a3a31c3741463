"""loa: schedules approved public-information content and pushes it to commune outlets."""

__version__ = "0.1.0"
