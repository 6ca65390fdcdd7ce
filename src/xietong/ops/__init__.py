"""Running the platform: backup, restore and their checks (issue 11)."""
