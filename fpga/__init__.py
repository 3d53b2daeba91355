"""Boards and bitstream builds (amaranth-boards, YoWASP Yosys and nextpnr), programming, the host link
driver (serial port or socket), hardware-in-the-loop checks. Imports rtl and golden, never sim."""
