"""Domain and storage of the fostering recruitment and capacity tracker (no HTTP here)."""
