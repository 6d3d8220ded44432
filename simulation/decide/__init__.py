"""From "what happens if" to "what should we do": search over scenario variants.

``space``: what may vary (``--vary``), what must hold (``--target``), the cost of a staffing
(FTE); ``optimise``: the cheapest variant meeting every target, with a guarantee.
"""
