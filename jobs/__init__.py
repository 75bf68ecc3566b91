"""Scheduled work: schedules jobs and records their runs, calling `tracker` and `forecast`."""
