"""opcp package."""
