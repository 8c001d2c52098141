"""jaxsci.gp"""
