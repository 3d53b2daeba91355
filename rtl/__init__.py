"""Amaranth components of the edge device (systolic array, layer engine, codec, link, SoC).

Not written yet: the compute RTL is issue #3, the codec RTL issue #4, the SoC issue #5. Each block
will live in ``rtl/<stem>.py`` beside its bit-exact golden twin ``golden/<stem>.py``.
"""
