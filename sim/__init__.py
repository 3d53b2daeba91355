"""cocotb testbenches and runners (Verilator and Icarus), stream drivers, and the simulated device
that serves the SoC over a socket (``edgesplit serve-sim``). Imports rtl and golden, never fpga."""
