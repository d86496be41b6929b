"""Contract products: one module per family (``binary``, ``multiplier``, ``accumulator``,
``turbos``, ``vanilla``) on the shared :mod:`~derivkit.sim.products.base`; ``registry`` maps each
contract type to its product. Nothing is imported here, so the pricing modules can use ``base``
without a cycle."""
