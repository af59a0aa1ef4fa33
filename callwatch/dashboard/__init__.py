"""The Dash app: live, trends, training, staffing, follow-ups, calls."""
