"""Sources -> Call records -> store; the background service; the CLI."""
