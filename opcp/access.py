"""Who may call what: the role table of OPCP `docs/04_authentication.md` as data.

The reference server authorises every request with `ACCESS`, and the conformance
scenarios derive their expectations from the same rows, so the two cannot drift apart.

Invariants:
- every operation of every service appears exactly once, keyed by the spec's operation name;
- `roles` is the set that gets access; every other role gets 403 (never 404 or 200);
- `owner` names the ownership rule applied *after* the role check (WMI of a PCID, EMAID
  prefix, creator of an object); a role with access but the wrong ownership also gets 403;
- the rule binds the roles in `Owner.binds` (`Operation.isolated_roles`); the isolation
  scenarios are checked against that set, so an owned operation cannot go unexercised;
- `disputed` names the roles for which the spec contradicts itself (erratum E-ROLE-2: the role
  table of docs/04_authentication.md grants the call and the OpenAPI file's `security` block
  does not, or the reverse). The reference answers the table; a conformance check accepts
  either answer for those roles, and enforces every other role as the row says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles carried in tokens. MO is an MO with its own PKI; MO_V2G uses the V2G PKI."""

    ADMIN = "ADMIN"
    OEM = "OEM"
    CPO = "CPO"
    MO = "MO"
    MO_V2G = "MO_V2G"
    CPS = "CPS"


ALL_PARTIES = frozenset({Role.OEM, Role.CPO, Role.MO, Role.MO_V2G, Role.CPS})
MOS = frozenset({Role.MO, Role.MO_V2G})


class Owner(StrEnum):
    """What ties an object to a party."""

    NONE = "none"
    WMI = "wmi"  # the PCID's first three characters must be one of the token's WMIs
    EMAID = "emaid"  # the EMAID's country code + provider ID must be one of the token's prefixes
    CREATOR = "creator"  # the client that created the object

    @property
    def binds(self) -> frozenset[Role]:
        """The roles the rule applies to. Parties of other roles with access act for every
        owner: an MO or a CPS reads any vehicle's provisioning certificate, a CPS pools
        contract data for every MO (docs/04_authentication.md grants them without a scope)."""
        return _BINDS[self]

    @property
    def refusal(self) -> int:
        """The status a bound party gets for an object it does not own: 403, or 404 where the
        object is tied to its creator (the ids of other parties' objects stay unknown)."""
        return 404 if self is Owner.CREATOR else 403


_BINDS = {Owner.NONE: frozenset(), Owner.WMI: frozenset({Role.OEM}), Owner.EMAID: MOS,
          Owner.CREATOR: frozenset(Role)}


@dataclass(frozen=True)
class Operation:
    name: str  # the operation's name in the role table / the spec's summary
    service: str  # auth, rcp, pcp, cps, ccp, est, webhook
    method: str
    path: str  # aiohttp route template, relative to the service's base URL
    roles: frozenset[Role]
    owner: Owner = Owner.NONE
    deprecated: bool = False
    spec_ref: str = ""  # where the spec defines it
    disputed: frozenset[Role] = frozenset()  # E-ROLE-2: granted in one part of the spec, denied in another

    def __post_init__(self) -> None:
        assert self.disputed <= frozenset(Role), self.disputed

    def allows(self, role: Role | str) -> bool:
        return Role(role) in self.roles

    @property
    def isolated_roles(self) -> frozenset[Role]:
        """Roles whose second party must not reach the first party's object here."""
        return self.roles & self.owner.binds


def _op(name, service, method, path, roles, owner=Owner.NONE, deprecated=False, ref="", disputed=()):
    return Operation(name, service, method, path, frozenset(roles), owner, deprecated, ref,
                     frozenset(disputed))


_RCP = "reference/rcp.v1.json"
_PCP = "reference/pcp.v1.json"
_CPS = "reference/cps.v1.json"
_CCP = "reference/ccp.v1.json"
_EST = "reference/est.v1.json"
_WH = "reference/webhooks.v1.json"

OPERATIONS: tuple[Operation, ...] = (
    # RCP: every party reads; only the pool operator writes.
    _op("getAllRootCerts", "rcp", "GET", "/v1/root/rootCerts", ALL_PARTIES | {Role.ADMIN}, ref=_RCP),
    _op("getRootCert", "rcp", "GET", "/v1/root/rootCerts/{rootCertificateId}",
        ALL_PARTIES | {Role.ADMIN}, ref=_RCP),
    _op("saveRootCa", "rcp", "PUT", "/v1/root/rootCerts", {Role.ADMIN}, ref=_RCP),
    _op("deleteRootCa", "rcp", "DELETE", "/v1/root/rootCerts/{rootCertificateId}", {Role.ADMIN},
        ref=_RCP),
    _op("getCertificateTrustList", "rcp", "GET", "/v1/root/ctl", ALL_PARTIES | {Role.ADMIN},
        ref=_RCP),
    # PCP
    _op("addOemProvCert", "pcp", "PUT", "/v1/oem/provCerts", {Role.OEM}, Owner.WMI, ref=_PCP),
    _op("deleteOemProvCert", "pcp", "DELETE", "/v1/oem/provCerts/{pcid}", {Role.OEM}, Owner.WMI,
        ref=_PCP),
    # pcp.v1.json's security names MO and OEM only: CPS is disputed (E-ROLE-2).
    _op("getOEMProvCert", "pcp", "GET", "/v1/oem/provCerts/{pcid}",
        {Role.OEM, Role.MO, Role.MO_V2G, Role.CPS}, Owner.WMI, ref=_PCP, disputed={Role.CPS}),
    _op("lookupVehicle", "pcp", "GET", "/v1/oem/provCerts/lookupVehicle/{pcid}",
        {Role.OEM, Role.MO, Role.MO_V2G, Role.CPS}, Owner.WMI, ref=_PCP, disputed={Role.CPS}),
    # CPS
    # cps.v1.json's security names the two kinds of MO only (E-ROLE-2).
    _op("getAllCpsSigners", "cps", "GET", "/cps/signer", ALL_PARTIES, ref=_CPS,
        disputed={Role.OEM, Role.CPO, Role.CPS}),
    _op("signContractData", "cps", "PUT", "/v1/cps/contractData/signed", {Role.MO}, Owner.EMAID,
        ref=_CPS),
    _op("createSignedContractData", "cps", "PUT", "/v1/cps/signedContractData", {Role.MO},
        Owner.EMAID, deprecated=True, ref=_CPS),
    _op("createAndForwardSignedContractData", "cps", "PUT", "/v1/cps/forward/signedContractData",
        {Role.MO}, Owner.EMAID, deprecated=True, ref=_CPS),
    _op("generateSignedContractData", "cps", "PUT", "/v1/cps/generate/signedContractData",
        {Role.MO_V2G}, Owner.EMAID, ref=_CPS),
    # CCP. Erratum E-ROLE-1: the role table's "signedContractData: OEM POST, CPS PUT" row
    # contradicts ccp.v1.json, where POST is the CPO's getSignedContractData and PUT adds data.
    _op("getSignedContractData", "ccp", "POST", "/v1/ccp/signedContractData", {Role.CPO}, ref=_CCP),
    # ccp.v1.json's security names CPS only (E-ROLE-2).
    _op("addSignedContractData", "ccp", "PUT", "/v1/ccp/signedContractData",
        {Role.MO, Role.CPS}, Owner.EMAID, ref=_CCP, disputed={Role.MO}),
    _op("deleteSignedContractData", "ccp", "DELETE", "/v1/ccp/signedContractData/{emaid}", MOS,
        Owner.EMAID, ref=_CCP),
    # ccp.v1.json's security names OEM and CPO, the role table the MOs (E-ROLE-2).
    _op("lookupContract", "ccp", "GET", "/v1/ccp/lookupContract/{emaid}", MOS, Owner.EMAID,
        ref=_CCP, disputed={Role.MO, Role.MO_V2G, Role.OEM, Role.CPO}),
    _op("provideSignedContractData", "ccp", "GET", "/v1/ccp/provideSignedContractData/{emaid}/{pcid}",
        {Role.OEM}, Owner.WMI, ref=_CCP),
    _op("setDefaultContract", "ccp", "POST", "/v1/ccp/signedContractData/{pcid}/{emaid}/default",
        {Role.OEM}, Owner.WMI, ref=_CCP),
    _op("getContracts", "ccp", "GET", "/v1/ccp/signedContractData/{pcid}", {Role.OEM}, Owner.WMI,
        ref=_CCP),
    # EST: one CA per role; the role table gives MO_V2G access to the CPS CA as well.
    _op("simpleEnroll-OEM", "est", "POST", "/.well-known/est/oem/simpleenroll/{isoVersion}",
        {Role.OEM}, ref=_EST),
    _op("caCerts-OEM", "est", "GET", "/.well-known/est/oem/cacerts/{isoVersion}/{algorithm}",
        {Role.OEM}, ref=_EST),
    _op("simpleEnroll-CPO", "est", "POST", "/.well-known/est/cpo/simpleenroll/{isoVersion}",
        {Role.CPO}, ref=_EST),
    _op("caCerts-CPO", "est", "GET", "/.well-known/est/cpo/cacerts/{isoVersion}/{algorithm}",
        {Role.CPO}, ref=_EST),
    _op("simpleEnroll-MO", "est", "POST", "/.well-known/est/mo/simpleenroll/{isoVersion}",
        {Role.MO_V2G}, ref=_EST),
    _op("caCerts-MO", "est", "GET", "/.well-known/est/mo/cacerts/{isoVersion}/{algorithm}",
        {Role.MO_V2G}, ref=_EST),
    _op("simpleEnroll-CPS", "est", "POST", "/.well-known/est/cps/simpleenroll/{isoVersion}",
        {Role.MO_V2G, Role.CPS}, ref=_EST),
    # est.v1.json's cacerts security names CPO, MO with V2G PKI and OEM: not CPS (E-ROLE-2).
    _op("caCerts-CPS", "est", "GET", "/.well-known/est/cps/cacerts/{isoVersion}/{algorithm}",
        {Role.MO_V2G, Role.CPS}, ref=_EST, disputed={Role.CPS}),
    # est.v1.json's `ca` enum also has `veh` (OEM: vehicle certificate, ISO 15118-20), which
    # the role table does not list; by analogy with `oem`, only OEMs get access.
    _op("simpleEnroll-VEH", "est", "POST", "/.well-known/est/veh/simpleenroll/{isoVersion}",
        {Role.OEM}, ref=_EST),
    _op("caCerts-VEH", "est", "GET", "/.well-known/est/veh/cacerts/{isoVersion}/{algorithm}",
        {Role.OEM}, ref=_EST),
    # Project extension (not in OPCP): operator actions a conformance run needs to trigger.
    _op("rotateSigningKey", "admin", "POST", "/v1/admin/signingKeys/rotate", {Role.ADMIN},
        ref="project extension, docs/reference.md"),
    _op("revokeCertificate", "admin", "POST", "/v1/admin/revocations", {Role.ADMIN},
        ref="project extension, docs/pki.md"),
    # Webhooks: every party manages its own endpoints.
    _op("getWebhooks", "webhook", "GET", "/v1/webhook/endpoints", ALL_PARTIES, ref=_WH),
    _op("addWebhook", "webhook", "POST", "/v1/webhook/endpoints", ALL_PARTIES, ref=_WH),
    _op("getWebhook", "webhook", "GET", "/v1/webhook/endpoints/{id}", ALL_PARTIES, Owner.CREATOR,
        ref=_WH),
    _op("updateWebhook", "webhook", "PUT", "/v1/webhook/endpoints/{id}", ALL_PARTIES,
        Owner.CREATOR, ref=_WH),
    _op("deleteWebhook", "webhook", "DELETE", "/v1/webhook/endpoints/{id}", ALL_PARTIES,
        Owner.CREATOR, ref=_WH),
    # A project extension (docs/webhooks.md): the owner reads its endpoint's delivery log.
    # For webhook endpoints a non-creator gets 404, not 403: ids of others stay unknown.
    _op("getWebhookDeliveries", "webhook", "GET", "/v1/webhook/endpoints/{id}/deliveries",
        ALL_PARTIES, Owner.CREATOR, ref="docs/webhooks.md"),
)

ACCESS: dict[str, Operation] = {op.name: op for op in OPERATIONS}
assert len(ACCESS) == len(OPERATIONS), "operation names must be unique"


def operations_of(service: str) -> list[Operation]:
    return [op for op in OPERATIONS if op.service == service]
