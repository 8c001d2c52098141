"""jaxsci.pinn"""
