"""`loa edge`: the agent beside a commune amplifier (a client of loa: requests and ffmpeg, no web framework)."""
