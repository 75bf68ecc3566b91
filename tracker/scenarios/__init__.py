"""Sufficiency scenarios: projected children in care, the places each setting needs, their
costs, saved per authority and compared."""
