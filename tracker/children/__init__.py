"""SSDA903, the children-looked-after return: codes, the placement mapping, importing and
keeping each year's return whole, and the figures DfE publishes from it.

Children are stored only under a keyed pseudonym (HMAC of CHILD with a per-installation
secret); UPN and postcodes are never stored, dates of birth only as month and year. Other
packages read the figures through `tracker.children.figures`.
"""
