"""Amaranth components of the edge device, each in ``rtl/<stem>.py`` beside its bit-exact golden
twin ``golden/<stem>.py``.

- :mod:`rtl.systolic`, :mod:`rtl.addrgen`, :mod:`rtl.maxpool`, :mod:`rtl.requant`,
  :mod:`rtl.layer_engine` - the compute: weight-stationary array, im2col addresses, pool,
  requantizers and the engine that runs a layer program;
- :mod:`rtl.engine_memory`, :mod:`rtl.frame_loader`, :mod:`rtl.issue`, :mod:`rtl.weight_loader`,
  :mod:`rtl.accumulator`, :mod:`rtl.requant_stage`, :mod:`rtl.act_writer`, :mod:`rtl.act_memory`,
  :mod:`rtl.stream_out` - the layer engine's parts, joined by its sequencer;
- :mod:`rtl.quantizer`, :mod:`rtl.rle`, :mod:`rtl.huffman`, :mod:`rtl.bitpack`, :mod:`rtl.frame`,
  :mod:`rtl.codec` - the feature codec and framer;
- :mod:`rtl.uart`, :mod:`rtl.receiver`, :mod:`rtl.executor` (its checks: :mod:`rtl.program_check`,
  :mod:`rtl.table_check`), :mod:`rtl.sender`, :mod:`rtl.soc`,
  :mod:`rtl.edge_device` - the link and the SoC;
- :mod:`rtl.bram`, :mod:`rtl.skid`, ``rtl._dsp``, ``rtl._crc`` - memories, buffers, DSP and CRC helpers;
- :mod:`rtl.factory` - a configuration's engine, device and SoC, for sim/ and fpga/.

It imports :mod:`golden` for the configuration, the layouts and the tables only.
"""
