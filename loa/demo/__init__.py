"""Demo data shipped with loa: Vietnamese pieces written for the demo."""
