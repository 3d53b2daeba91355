"""edgesplit: an open accelerator generator for split DNN inference on small FPGAs.

The ``edgesplit`` command lives in :mod:`edgesplit.cli`; the work is done by the layers
``golden`` (specification), ``rtl`` (Amaranth), ``sim`` (cocotb) and ``fpga`` (boards).
"""

__version__ = "0.1.0"
