"""Pure functions over a DataFrame of calls (DESIGN.md "Metrics")."""
