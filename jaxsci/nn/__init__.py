"""jaxsci.nn"""
