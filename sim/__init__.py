"""cocotb testbenches, runners and the simulated device (not written yet; issues #3 to #5)."""
