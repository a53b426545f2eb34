"""The suite's OEM PKI and OCSP responder live with the actors (`simulators.party_pki`)."""

from simulators.party_pki import OemPki, SuiteOcspResponder

__all__ = ["OemPki", "SuiteOcspResponder"]
