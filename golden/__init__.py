"""The golden model: the specification every other layer of edgesplit is measured against.

- :mod:`golden.config` - the one configuration object;
- :mod:`golden.netspec`, :mod:`golden.network` - the split network (shapes; float PyTorch model);
- :mod:`golden.datasets` - the embedded default data set and loaders for MNIST, CIFAR-10, folders;
- :mod:`golden.ptq`, :mod:`golden.edge`, :mod:`golden.requant`, :mod:`golden.maxpool` - the integer
  edge part the RTL computes bit for bit;
- :mod:`golden.layer_engine` - the engine's schedule and memory layout, and with :mod:`golden.systolic`,
  :mod:`golden.addrgen`, :mod:`golden.engine_memory`, :mod:`golden.frame_loader`, :mod:`golden.issue`,
  :mod:`golden.weight_loader`, :mod:`golden.accumulator`, :mod:`golden.requant_stage`,
  :mod:`golden.act_writer`, :mod:`golden.stream_out` the twins of its RTL parts;
- :mod:`golden.quantizer`, :mod:`golden.rle`, :mod:`golden.huffman`, :mod:`golden.bitpack`,
  :mod:`golden.frame`, :mod:`golden.tables`, :mod:`golden.codec` - the feature codec and frame format;
- :mod:`golden.uart`, :mod:`golden.link`, :mod:`golden.receiver`, :mod:`golden.executor` (its checks:
  :mod:`golden.program_check`, :mod:`golden.table_check`),
  :mod:`golden.sender` - the link protocol and the reference device;
- :mod:`golden.evaluate`, :mod:`golden.bench`, :mod:`golden.robustness` - measurements.

It imports nothing from ``rtl``, ``sim`` or ``fpga``.
"""
