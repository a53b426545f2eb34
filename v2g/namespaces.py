"""The ISO 15118 message-definition namespaces, as schemas declare them and as OPCP names them.

Guarantees: one spelling per namespace is defined here, and every layer above (models,
reference, actors, suite) reads these names instead of writing the strings again.

- ``ISO2_MSG_DEF`` is both the real ISO 15118-2 namespace and the value OPCP's
  ``xsdMsgDefNamespace`` fields carry for -2.
- ISO 15118-20 has one namespace per schema; a -20 certificate installation lives in
  CommonMessages (``ISO20_COMMON_MESSAGES``). OPCP 1.0.0 is "ISO 15118-20 prepared" and spells
  the -20 value of ``xsdMsgDefNamespace`` as ``urn:iso:15118:20:2022:MsgDef`` in most places
  and ``urn:iso:15118:20:2020:MsgDef`` in one; ``ISO20_SPELLINGS`` holds every spelling the
  spec uses, the real one included (see docs/errata.md, E-ISO20-NS).
- ``iso_part(value)`` reads any of those values as the ISO part it names ("2" or "20"), and
  ``canonical(value)`` as the one spelling the reference stores and answers: the -2
  namespace, or ``urn:iso:15118:20:2022:MsgDef`` (the value rcp.v1.json and the webhook
  payloads enumerate) for every -20 spelling.
"""

from __future__ import annotations

from v2g.exi.schemas.iso2 import MSG_DEF as ISO2_MSG_DEF
from v2g.exi.schemas.iso2 import XMLDSIG
from v2g.exi.schemas.iso20_types import COMMON_MESSAGES as ISO20_COMMON_MESSAGES
from v2g.pki.algorithms import Algorithm, algorithm_of

ISO20_SPEC_MSG_DEF = "urn:iso:15118:20:2022:MsgDef"
ISO20_SPEC_MSG_DEF_2020 = "urn:iso:15118:20:2020:MsgDef"
ISO20_SPELLINGS = (ISO20_SPEC_MSG_DEF, ISO20_SPEC_MSG_DEF_2020, ISO20_COMMON_MESSAGES)

# The values OPCP's schemas list for xsdMsgDefNamespace (RootCertV2, webhook payloads).
OPCP_MSG_DEF_NAMESPACES = (ISO2_MSG_DEF, ISO20_SPEC_MSG_DEF)

ISO20_CANONICAL = ISO20_SPEC_MSG_DEF
# Every value an xsdMsgDefNamespace may carry, -2 first.
ACCEPTED_MSG_DEF_NAMESPACES = (ISO2_MSG_DEF, *ISO20_SPELLINGS)


def iso_part(value: object) -> str | None:
    """"2" or "20" for a namespace value OPCP uses; None for anything else."""
    if value == ISO2_MSG_DEF:
        return "2"
    if value in ISO20_SPELLINGS:
        return "20"
    return None


def iso_part_of_key(key: object) -> str | None:
    """The ISO part whose certificates carry `key` (a public or private key, or a
    certificate's): "2" for secp256r1, "20" for secp521r1 and Ed448 ([V2G20-2674],
    [V2G20-2319]); None for any other key."""
    if hasattr(key, "public_key") and hasattr(key, "subject"):
        key = key.public_key()
    alg = algorithm_of(key)
    if alg is None:
        return None
    return "2" if alg is Algorithm.SECP256R1 else "20"


def canonical(value: object) -> str | None:
    """The stored spelling of a namespace value (None when it names no ISO part)."""
    part = iso_part(value)
    if part is None:
        return None
    return ISO2_MSG_DEF if part == "2" else ISO20_CANONICAL


__all__ = ["ACCEPTED_MSG_DEF_NAMESPACES", "ISO20_CANONICAL", "canonical", "iso_part", "iso_part_of_key",
           "ISO2_MSG_DEF", "XMLDSIG", "ISO20_COMMON_MESSAGES", "ISO20_SPEC_MSG_DEF",
           "ISO20_SPEC_MSG_DEF_2020", "ISO20_SPELLINGS", "OPCP_MSG_DEF_NAMESPACES"]
