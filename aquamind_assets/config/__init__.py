"""What every layer reads and nothing of the project's own is imported by: the stored years and the scenario."""
