"""Pieces, revisions, reviews, users and the audit log; ingest and rendering."""
