"""Every text a model reads: Jinja2 templates, loaded with importlib.resources."""
