"""Dashboard pages (Dash `use_pages`); each defines `layout` and `register_callbacks(app)`."""
