"""Stations, campaigns and slots; the planner; the outbox, the dispatcher and its runtime."""
