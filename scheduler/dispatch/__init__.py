"""Dispatch: the outbox, claiming and pushing due deliveries, recording what became of each."""
