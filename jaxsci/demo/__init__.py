"""`python -m jaxsci.demo`: one headline experiment per capability (see `__main__.py`)."""
