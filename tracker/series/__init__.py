"""Monthly series: the one place where records become the series that forecasts and targets read.

`keys` names a series ("E06000021/households/care_type=in_house"); `funnel`, `register`,
`children` and `entered` each build the series of one kind of record and list them as
families; `registry` gathers every family and gives the series to a forecast run
(`series_for_authority`) and to a target's trajectory (`read`). A new series is a builder and
its family in one of those modules.
"""
