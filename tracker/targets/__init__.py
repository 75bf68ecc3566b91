"""Strategy targets: the metrics they are set on, each kind's arithmetic, validation and storage,
the status rule, trajectories against actuals and forecasts, and the work-back to recruitment."""
