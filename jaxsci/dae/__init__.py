"""jaxsci.dae"""
