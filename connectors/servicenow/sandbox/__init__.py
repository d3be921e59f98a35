"""A faithful local emulator of the ServiceNow REST APIs."""
