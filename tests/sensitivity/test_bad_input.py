"""Bad input to jaxsci.sensitivity: each export refuses it with a message naming the argument."""
