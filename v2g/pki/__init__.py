"""ISO 15118-2 PKI: certificate profiles, issuing, chain validation and OCSP (sans-I/O)."""
