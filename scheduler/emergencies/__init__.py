"""Emergencies: broadcasts that skip the planner and reach the targeted communes at once."""
