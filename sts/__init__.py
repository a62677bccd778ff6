"""The STS (IEC 62055-41) token engine: pure Python, no web or database code.

Import from the module that owns a thing: :mod:`sts.keys` (DKGA02 decoder keys),
:mod:`sts.tokens` (make and read tokens), :mod:`sts.amount`, :mod:`sts.tid`, :mod:`sts.crc`,
:mod:`sts.ea07`, :mod:`sts.meter` (a meter simulator) and :mod:`sts.cli` (``token inspect``).
"""
