"""opcp_reference package."""
