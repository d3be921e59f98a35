"""A faithful local emulator of the Jira Cloud and Data Center REST APIs."""
