"""Time-series forecasting of monthly series (no database or HTTP code here)."""
