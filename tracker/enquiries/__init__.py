"""enquiries."""
