"""Electronic bulletin-board outlets: publish slide rotations for the board page."""
