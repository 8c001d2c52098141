"""jaxsci.surrogates"""
