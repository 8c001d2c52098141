"""jaxsci.init"""
