"""Bulletins sent down (gửi xuống) from a higher centre to the communes below it: inboxes, decisions, status."""
