"""Web-portal outlets: publish articles as JSON, RSS and Atom feeds."""
