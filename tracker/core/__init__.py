"""Shared plumbing of every subject: database and settings, the clock, errors, tokens and
roles, the audit log, authorities, migrations and backups, record loading and paging,
spreadsheet reading and writing, and small SQL and ratio helpers."""
