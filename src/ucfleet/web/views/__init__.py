"""Portal views, one module per area; each serves its page and its htmx fragment."""
