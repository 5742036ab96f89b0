"""The seeded chaos benchmark (issue 21): cli.py runs it, driver.py is its loop."""
