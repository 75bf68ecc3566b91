"""Ofsted's annual fostering data collection: each year's fields as data (`collections`), the
figures built from the funnel and the register (`queries`, `figures`), the checks before
export (`validation`) and the return as the API and files give it (`service`)."""
