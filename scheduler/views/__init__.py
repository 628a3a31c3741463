"""What editors read: the upcoming schedule, the week calendar, deliveries."""
