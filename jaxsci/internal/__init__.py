"""jaxsci.internal"""
