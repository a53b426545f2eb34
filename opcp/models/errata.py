"""Response forms a spec erratum leaves open: one table of the readings the spec supports
(docs/errata.md).

Where the spec's text and its schemas disagree, or it announces other names, a third-party
server may follow the other reading. Each row names the erratum, the current model, and how
the other form differs from it (properties renamed, or given another schema). Every operation
that answers that model inherits the alternative, so no operation or step lists errata of its
own. A body that fits an alternative passes in both profiles: the report notes the erratum
(rule API-ERRATUM); strict never means "our reading". A body that fits neither fails both.

Invariants: an alternative differs from its model by the row's change only; the alternatives
of a model are tried in the table's order, and the first that fits is the finding.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from opcp.models.cps import DN
from opcp.models.error import UUID_PATTERN
from v2g.namespaces import ACCEPTED_MSG_DEF_NAMESPACES

# The SHA-256 of the DER, as E-CPS-1's description says: hex, with or without colons.
SHA256_HEX = {"type": "string", "pattern": "^([0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$"}


@dataclass(frozen=True)
class Alternative:
    erratum: str
    model: str  # the current model this form stands in for
    rename: dict[str, str] = field(default_factory=dict)  # current name -> the other form's
    retype: dict[str, dict] = field(default_factory=dict)  # property -> the other form's schema

    @property
    def name(self) -> str:
        return f"{self.model}.{self.erratum}"


_FINGERPRINT = {"cpsV2GRootCertificateFingerprint": SHA256_HEX}

ALTERNATIVES: tuple[Alternative, ...] = (
    # E-WH-3: payload version 1.0.0 named the subscribed events `enabledEvents` in responses.
    *(Alternative("E-WH-3", model, rename={"events": "enabledEvents"})
      for model in ("WebhookEndpoint", "WebhookEndpointCreated", "WebhookEndpointList")),
    # E-CPS-1: the fingerprint as its description says (SHA-256), not as its pattern (UUID).
    *(Alternative("E-CPS-1", model, retype=_FINGERPRINT) for model in (
        "GetAllCpsSignerResponse", "SignedContractDataResponse",
        "CreateSignedContractDataResponse", "GetSignedContractDataResponse",
        "ProvideContractDataResponse", "LookupContractResponse")),
    # E-CCP-1: LookupContractResponse as ccp.v1.json's patterns have it (swapped: a UUID in
    # the DN, a DN in the fingerprint).
    Alternative("E-CCP-1", "LookupContractResponse", retype={
        "cpsRootCertificateDN": {"type": "string", "pattern": UUID_PATTERN},
        "cpsV2GRootCertificateFingerprint": {"type": "string", "pattern": DN}}),
    # E-PCP-2: the names pcp.v1.json announces for the provisioning certificate data.
    *(Alternative("E-PCP-2", model, rename={
        "subCA1Certificate": "subCa1Certificate", "subCA2Certificate": "subCa2Certificate",
        "vehicleCertificate": "provisioningCertificate"})
      for model in ("ProvisioningCertificateData", "GetProvisioningCertificateResponse")),
    # E-NS-1: pcp.v1.json enumerates only the -2 namespace, while the spec prepares -20
    # ("ISO15118-20 prepared") and spells its namespace three ways (2022, 2020, and the real
    # CommonMessages namespace): a pool answering any of them for a -20 provisioning
    # certificate follows one of the spec's readings (v2g/namespaces.py, docs/iso20.md).
    *(Alternative("E-NS-1", model, retype={
        "xsdMsgDefNamespace": {"enum": list(ACCEPTED_MSG_DEF_NAMESPACES)}})
      for model in ("ProvisioningCertificateData", "GetProvisioningCertificateResponse")),
    # E-RCP-5: a -20 root (secp521r1, Ed448) is longer than caCertificate's 800 characters;
    # -20's certificateType allows 1600 bytes DER (2136 base64 characters).
    *(Alternative("E-RCP-5", model, retype={"caCertificate": {
        "type": "string", "pattern": "^[-A-Za-z0-9+/]+={0,3}$", "maxLength": 2136}})
      for model in ("GetAllRootCertsResponse", "GetRootCertResponse")),
)


def _changed(node: object, alt: Alternative) -> object:
    """A deep copy of a schema with the row's properties renamed or retyped, at any depth."""
    if isinstance(node, list):
        return [_changed(item, alt) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {alt.rename.get(name, name): copy.deepcopy(alt.retype[name])
                        if name in alt.retype else _changed(schema, alt)
                        for name, schema in value.items()}
        elif key == "required" and isinstance(value, list):
            out[key] = [alt.rename.get(name, name) for name in value]
        else:
            out[key] = _changed(value, alt)
    return out


def _combined() -> tuple[Alternative, ...]:
    """Two rows of one model that change different properties are two readings a server may
    follow at once (E-PCP-2's names on a -20 certificate tagged as E-NS-1 allows): one more
    alternative per such pair, named after both errata. Rows that change the same property
    (E-CPS-1 and E-CCP-1 on the fingerprint) exclude each other and are not combined."""
    out = []
    for i, first in enumerate(ALTERNATIVES):
        for second in ALTERNATIVES[i + 1:]:
            touched = [set(a.rename) | set(a.retype) for a in (first, second)]
            if first.model == second.model and not touched[0] & touched[1]:
                out.append(Alternative(f"{first.erratum}+{second.erratum}", first.model,
                                       {**first.rename, **second.rename},
                                       {**first.retype, **second.retype}))
    return tuple(out)


COMBINED: tuple[Alternative, ...] = _combined()


def models(current: dict[str, dict]) -> dict[str, dict]:
    """The alternative models, by name, built from the current ones."""
    return {alt.name: _changed(current[alt.model], alt) for alt in (*ALTERNATIVES, *COMBINED)}


def alternatives_of(model: str) -> list[Alternative]:
    return [alt for alt in (*ALTERNATIVES, *COMBINED) if alt.model == model]


def errata_whose_readings_all_pass() -> set[str]:
    """The errata with a row in ALTERNATIVES: a response in either form passes, in both
    profiles (the report notes which form the target answered)."""
    return {alt.erratum for alt in ALTERNATIVES}


def read_field(model: str, data: dict, name: str, default: object = None) -> object:
    """`data[name]`, or the same property under a name an alternative of `model` gives it.

    For readers (steps, actors) that should go on with a body the response check already
    judged: the verdict on the form is that check's, not theirs."""
    if name in data:
        return data[name]
    for alt in alternatives_of(model):
        other = alt.rename.get(name)
        if other is not None and other in data:
            return data[other]
    return default
