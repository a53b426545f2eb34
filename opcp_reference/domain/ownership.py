"""Ownership: one check for every operation, driven by the role table's `owner` column.

Guarantees:
- the rule of an operation is the one its row in `opcp.access` names, never one written here:
  WMI (the PCID's first three characters are one of the caller's WMIs), EMAID (the EMAID's
  country code and provider ID are one of the caller's prefixes), CREATOR (the caller created
  the object);
- the rule binds only the roles `Owner.binds` names; other roles with access act for every
  owner (a CPS reads any vehicle's provisioning certificate);
- a bound caller who does not own the value gets `Owner.refusal`'s status (403 naming the
  field and the rule; 404 for CREATOR, so the ids of others' objects stay unknown);
- a fault switch lifts the check only for the operations its row in `faults.py` lists.
"""

from __future__ import annotations

from opcp.access import ACCESS, Owner
from opcp.errors import Forbidden, NotFound
from opcp_reference.domain.auth import Principal
from opcp_reference.faults import Faults
from v2g import ids


def owns(who: Principal, owner: Owner, value: str) -> bool:
    """Whether `who` owns `value` under `owner`'s rule (bound roles only)."""
    if who.role not in owner.binds:
        return True
    if owner is Owner.WMI:
        return ids.pcid_wmi(value) in {w.upper() for w in who.wmis}
    if owner is Owner.EMAID:
        return ids.emaid_prefix(value) in {p.replace("-", "").upper() for p in who.emaid_prefixes}
    if owner is Owner.CREATOR:
        return value == who.client_id
    return True


def check(who: Principal, operation: str, value: str, faults: Faults, *, subject: str = "") -> None:
    """Refuse `who` on `operation` unless it owns `value` (a PCID, an EMAID, or the creating
    client's id). `subject` names the object for CREATOR refusals (e.g. the endpoint id)."""
    owner = ACCESS[operation].owner
    assert owner is not Owner.NONE, f"{operation} has no ownership rule in the role table"
    if owns(who, owner, value) or faults.lifts_ownership(operation):
        return
    if owner is Owner.WMI:
        message = f"pcid: WMI {ids.pcid_wmi(value)} of PCID {value} is not one of this client's WMIs"
    elif owner is Owner.EMAID:
        message = (f"emaid: prefix {ids.emaid_prefix(value)} of {value} is not one of this"
                   " client's EMAID prefixes")
    else:
        message = subject or "not found"
    refusal = owner.refusal
    if owner is Owner.CREATOR and faults.on("webhook-foreign-endpoint-403"):  # E-WH-4's other
        refusal, message = 403, f"{message}: it is another client's"  # reading (a variant)
    if any(faults.on(v) and operation in ops for v, ops in FOREIGN_AS_NOT_FOUND.items()):
        raise RefusedAsNotFound(message)
    raise (NotFound if refusal == 404 else Forbidden)(message)


class RefusedAsNotFound(Forbidden):
    """A refusal answered 404: to the code it is a refusal (a pool does not forward it to its
    peers as if it held nothing), to the caller the object does not exist."""

    status = 404


# Conformant variants: another party's existing object answered 404 (as if it did not exist)
# on the operations whose spec responses declare both 403 and 404.
FOREIGN_AS_NOT_FOUND = {
    "pcp-foreign-vehicle-404": ("getOEMProvCert", "lookupVehicle", "deleteOemProvCert"),
    "ccp-foreign-contract-404": ("lookupContract", "deleteSignedContractData",
                                 "provideSignedContractData"),
}
