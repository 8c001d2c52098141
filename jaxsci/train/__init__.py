"""jaxsci.train"""
