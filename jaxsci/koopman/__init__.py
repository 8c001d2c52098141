"""jaxsci.koopman"""
