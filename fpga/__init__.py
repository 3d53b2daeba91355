"""Boards, bitstream builds, programming and the host link driver (not written yet; issue #5)."""
