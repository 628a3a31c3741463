"""The devices behind the outlets: what they last said (heartbeats, probes) and what that makes them."""
