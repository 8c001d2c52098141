"""jaxsci.mechanics"""
