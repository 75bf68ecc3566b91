"""SSDA903, the children-looked-after return: codes, placement mapping, import and figures.

Children are stored only under a keyed pseudonym (HMAC of CHILD with a per-installation
secret); UPN and postcodes are never stored, dates of birth only as month and year.
"""
