"""HTTP layer of the reference: one module per OPCP service, thin handlers over the domain."""
