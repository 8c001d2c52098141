"""jaxsci.diagnostics"""
