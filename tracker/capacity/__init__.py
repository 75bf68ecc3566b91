"""Capacity: the register's places against children in care, as at a date and month by month,
for one authority and for a region (with other councils' returns)."""
