"""Loudspeaker outlets: hand rendered MP3 programs to a playout engine."""
