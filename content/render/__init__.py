"""Turning approved text into speech and MP3 files for the loudspeakers."""
