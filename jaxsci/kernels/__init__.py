"""jaxsci.kernels"""
