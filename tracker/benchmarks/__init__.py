"""How a council compares with England, its region and its statistical neighbours: the
published Ofsted and DfE figures shipped with their provenance (`published`), the benchmarks
as ratios of them (`measures`), the council's own figures from the service (`council`) and the
comparison (`compare`)."""
