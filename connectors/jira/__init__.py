"""Jira Cloud and Data Center connector: search, changelogs, agile data, scorecards."""
