"""The ISO 15118 message-definition namespaces, as schemas declare them and as OPCP names them.

Guarantees: one spelling per namespace is defined here, and every layer above (models,
reference, actors, suite) reads these names instead of writing the strings again.

- ``ISO2_MSG_DEF`` is both the real ISO 15118-2 namespace and the value OPCP's
  ``xsdMsgDefNamespace`` fields carry for -2.
- ISO 15118-20 has one namespace per schema; a -20 certificate installation lives in
  CommonMessages (``ISO20_COMMON_MESSAGES``). OPCP 1.0.0 is "ISO 15118-20 prepared" and spells
  the -20 value of ``xsdMsgDefNamespace`` as ``urn:iso:15118:20:2022:MsgDef`` in most places
  and ``urn:iso:15118:20:2020:MsgDef`` in one; ``ISO20_SPELLINGS`` holds every spelling the
  spec uses, the real one included (see docs/errata.md).
"""

from __future__ import annotations

from v2g.exi.schemas.iso2 import MSG_DEF as ISO2_MSG_DEF
from v2g.exi.schemas.iso2 import XMLDSIG
from v2g.exi.schemas.iso20_types import COMMON_MESSAGES as ISO20_COMMON_MESSAGES

ISO20_SPEC_MSG_DEF = "urn:iso:15118:20:2022:MsgDef"
ISO20_SPEC_MSG_DEF_2020 = "urn:iso:15118:20:2020:MsgDef"
ISO20_SPELLINGS = (ISO20_SPEC_MSG_DEF, ISO20_SPEC_MSG_DEF_2020, ISO20_COMMON_MESSAGES)

# The values OPCP's schemas list for xsdMsgDefNamespace (RootCertV2, webhook payloads).
OPCP_MSG_DEF_NAMESPACES = (ISO2_MSG_DEF, ISO20_SPEC_MSG_DEF)

__all__ = ["ISO2_MSG_DEF", "XMLDSIG", "ISO20_COMMON_MESSAGES", "ISO20_SPEC_MSG_DEF",
           "ISO20_SPEC_MSG_DEF_2020", "ISO20_SPELLINGS", "OPCP_MSG_DEF_NAMESPACES"]
