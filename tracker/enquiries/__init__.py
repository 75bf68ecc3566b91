"""The recruitment funnel: enquiries, their stages and rules, timeliness, funnel analytics,
and the team's spreadsheet."""
