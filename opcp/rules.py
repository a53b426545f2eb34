"""The rules the suite checks, each with where it comes from.

Every Then-step names the rule it checks (`features.support.rules.checks`); a failure
shows the rule's id, axis, kind and source, and `docs/coverage.md` lists them. The axis
says whether breaking the rule breaks the spec (*conformance*) or breaks deployed clients
(*compatibility*: see INTEROP.md); the kind sorts failures into Allure categories.
"""

from __future__ import annotations

from dataclasses import dataclass

CONFORMANCE = "conformance"
COMPATIBILITY = "compatibility"
KINDS = ("auth", "schema", "crypto", "business")


@dataclass(frozen=True)
class Rule:
    id: str
    source: str  # spec file and section, RFC / ISO clause, or erratum id
    text: str
    kind: str = "business"
    axis: str = CONFORMANCE

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        assert self.axis in (CONFORMANCE, COMPATIBILITY), self.axis

    def label(self) -> str:
        return f"[{self.axis}/{self.kind}] {self.id} ({self.source})"


_RULES = [
    # The API frame
    Rule("API-STATUS", "the operation's responses in reference/*.json",
         "an operation answers with the status the spec gives for the situation", "schema"),
    Rule("API-MODEL", "the operation's response schema in reference/*.json",
         "a response body has the fields, types and patterns of its model", "schema"),
    Rule("API-ERROR", "reference/*.json components.schemas.Error; E-STATUS-1",
         "every error is {errorMessages, traceId} with a UUID traceId", "schema"),
    Rule("API-ERRATUM", "docs/errata.md (another reading the spec supports: noted, never failed)",
         "a response follows the spec's current form, not an erratum's older or other form",
         "schema", COMPATIBILITY),
    Rule("API-ERROR-NAMES-FIELD", "DESIGN.md conventions",
         "a 400 names the field and the rule it broke", "business"),
    # Authentication
    Rule("AUTH-TOKEN", "reference/accessToken.v1.json POST /oauth/token",
         "client credentials buy a bearer token", "auth"),
    Rule("AUTH-TOKEN-24H", "reference/accessToken.v1.json (a token is valid for 24h)",
         "expires_in is positive and at most 86400 s", "auth"),
    Rule("AUTH-TOKEN-NO-STORE", "RFC 6749 section 5.1 (docs/04_authentication.md: OAuth2)",
         "an answer holding a token says Cache-Control: no-store", "auth"),
    Rule("AUTH-JWT", "docs/04_authentication.md OAuth2 (RFC 7519)",
         "the token is a signed JWT", "auth"),
    Rule("AUTH-CLAIMS", "docs/04_authentication.md OAuth2 (the token contains the role and"
         " which EMAIDs or PCIDs the client may use); Roles&Rights (OEM by WMI, MO by EMAID"
         " prefix)", "a JWT access token names the client's role, an OEM's WMIs and an MO's"
         " EMAID prefixes", "auth"),
    Rule("AUTH-REFUSE", "docs/04_authentication.md (all endpoints shall be secured)",
         "wrong credentials or a bad token buy nothing", "auth"),
    Rule("AUTH-ALG", "RFC 8725 section 3.1 (JWT best current practice)",
         "the verifier accepts only the algorithms it issues with", "auth"),
    Rule("AUTH-FORM", "RFC 6749 section 4.4.2", "the token endpoint takes a form-encoded grant",
         "auth", COMPATIBILITY),
    Rule("AUTH-API-KEY-AND-BEARER", "INTEROP.md (MaEVe sends x-api-key and a bearer token)",
         "an extra x-api-key header beside a valid bearer token is ignored", "auth",
         COMPATIBILITY),
    Rule("AUTH-AUDIENCE-BASE-URL", "INTEROP.md (CitrineOS: audience = the base URL it calls);"
         " reference/accessToken.v1.json audience (the ecosystem's audience)",
         "a token request naming the deployment's own base URL as audience buys a token",
         "auth", COMPATIBILITY),
    Rule("AUTH-AUDIENCE-DEFAULT", "INTEROP.md (MaEVe sends no audience);"
         " reference/accessToken.v1.json (audience required)",
         "a token request without audience buys a token for the deployment's audience",
         "auth", COMPATIBILITY),
    Rule("SEC-THROTTLE", "OWASP API Security 2023 API2/API4",
         "repeated wrong secrets are answered 429 with Retry-After", "auth"),
    Rule("SEC-KEY-ROTATION", "RFC 7517 section 4.5 (kid); docs/reference.md",
         "tokens outlive a rotation of the signing key until they expire", "auth"),
    Rule("OWNER-ISOLATION", "docs/04_authentication.md (OEM by WMI, MO by EMAID); OWASP API1",
         "another party of the same role gets 403/404 for an owned object, never it, never a change",
         "auth"),
    Rule("ROLE-TABLE", "docs/04_authentication.md Roles&Rights",
         "each role reaches exactly the operations the table grants it", "auth"),
    # EST paths and containers as deployed clients use them (features/clients.feature)
    Rule("EST-WELL-KNOWN-SHORT", "INTEROP.md (CitrineOS since early 2026); reference/est.v1.json"
         " paths", "/.well-known/{ca}/cacerts and /.well-known/{ca}/simpleenroll (no est/, no"
         " iso-version) answer as the ISO 15118-2 operations", "business", COMPATIBILITY),
    Rule("EST-NO-PREFIX", "INTEROP.md (MaEVe); reference/est.v1.json simpleEnroll path",
         "/{ca}/simpleenroll/{iso-version} (no /.well-known/est) answers as simpleenroll",
         "business", COMPATIBILITY),
    Rule("EST-NO-ALGORITHM", "INTEROP.md (MaEVe and its scripts against the operator's QA);"
         " reference/est.v1.json cacerts path", "/{ca}/cacerts/{iso-version} without {algorithm}"
         " answers the CA certificates of the CA's curve", "business", COMPATIBILITY),
    Rule("EST-CHAIN-ORDER", "INTEROP.md (CitrineOS reads cacerts by position); RFC 5652"
         " section 5.1 (certificates are a SET OF)", "the cacerts container lists Sub-CA 2,"
         " Sub-CA 1, root in that order", "crypto", COMPATIBILITY),
    # Root Certificate Pool
    Rule("RCP-FILTER", "reference/rcp.v1.json getAllRootCerts rootType",
         "the rootType filter lists only roots of that type"),
    Rule("RCP-ROOT-FIELDS", "reference/rcp.v1.json RootCertV2",
         "a root's informative fields reflect its certificate", "crypto"),
    Rule("RCP-ROOT-ONLY", "reference/rcp.v1.json saveRootCa; docs/components/01",
         "only valid self-signed CA certificates enter the pool", "crypto"),
    Rule("RCP-OPERATOR-ONLY", "docs/components/01 (PUT and DELETE for administrative use only)",
         "only the pool operator adds and deletes roots", "auth"),
    Rule("RCP-LIFECYCLE", "reference/rcp.v1.json getRootCert / deleteRootCa",
         "an added root is readable by id until deleted, then 404"),
    Rule("RCP-LISTED-READABLE", "reference/rcp.v1.json getAllRootCerts / getRootCert",
         "every root the pool lists is served by its id, with the same certificate and type"),
    Rule("NO-PARTIAL-WRITE", "DESIGN.md conventions (bad input loses nothing)",
         "a refused request changes nothing"),
    # Certificate Provisioning Service
    Rule("CPS-SIGNED-DATA", "reference/cps.v1.json signContractData / generateSignedContractData;"
         " ISO 15118-2 V2G2-771, DESIGN.md section 3",
         "signed contract data is a CertificateInstallationRes whose signature verifies with a"
         " CPS leaf chaining to the V2G root the response names", "crypto"),
    Rule("CPS-SIGNERS", "reference/cps.v1.json getAllCpsSigners",
         "every listed CPS signer chains to the V2G root it names, which is in the RCP", "crypto"),
    Rule("CPS-EMAID-OWNER", "docs/04_authentication.md (EMAID prefix of the MO); cps.v1.json",
         "an MO gets contracts signed only for EMAIDs of its prefixes", "auth"),
    Rule("CPS-CONTRACT-TRUST", "docs/components/03 (contract chain to an MO or V2G root)",
         "the CPS signs no contract chain that leads to no root of the RCP", "crypto"),
    Rule("CPS-DEPRECATED", "reference/cps.v1.json createSignedContractData,"
         " createAndForwardSignedContractData (deprecated); RFC 9745 Deprecation header",
         "a deprecated operation still works and says it is deprecated", "business",
         COMPATIBILITY),
    Rule("CPS-GENERATE-VALIDITY", "reference/cps.v1.json generateSignedContractData",
         "a generated contract certificate is valid from contractBegins to contractEnds",
         "crypto"),
    # Contract Certificate Pool
    Rule("CCP-VEHICLE-INSTALLS", "ISO 15118-2 V2G2-818/V2G2-824; reference/ccp.v1.json"
         " getSignedContractData", "the vehicle decrypts the contract key with its provisioning"
         " key and it belongs to the contract certificate", "crypto"),
    Rule("CCP-EV-ROOTS", "reference/ccp.v1.json getSignedContractData (CPS Signer)",
         "the CCP answers contract data signed under a V2G root the vehicle lists", "crypto"),
    Rule("CCP-DEFAULT", "reference/ccp.v1.json setDefaultContract (the first created is the"
         " default)", "the CPO gets the PCID's default contract"),
    Rule("CCP-REQUEST-SIGNATURE", "ISO 15118-2 V2G2-800 (CertificateInstallationReq signed by"
         " the OEM provisioning key); reference/ccp.v1.json",
         "a request whose signature does not verify gets no contract", "crypto"),
    Rule("CCP-EMAID-OWNER", "reference/ccp.v1.json deleteSignedContractData (sender must be"
         " allowed for the EMAID)", "an MO reads and deletes only contracts of its EMAIDs",
         "auth"),
    Rule("CCP-LIFECYCLE", "reference/ccp.v1.json; docs/components/04 (data cleansing,"
         " PCP delete)", "deleted contracts, or contracts of a deleted vehicle, are no longer"
         " served"),
    Rule("CCP-FIRST-EMAIDCONTENT", "INTEROP.md (MaEVe reads only the first emaidContent)",
         "a CPO that reads only the first emaidContent installs the default contract",
         "business", COMPATIBILITY),
    # Rules of issue 17 point 2 (scenarios a server breaking them fails)
    Rule("CPS-GENERATE-REPLACES", "reference/cps.v1.json generateSignedContractData (called again"
         " with the same PCID and EMAID, the old contractData is replaced)",
         "after generating again, the pool lists and serves only the new contract"),
    Rule("CCP-AUTO-REVOCATION", "reference/ccp.v1.json deleteSignedContractData (Automatic"
         " revocation)", "deleting a contract whose certificate the operator's MO CA issued"
         " revokes that certificate, unless X-Skip-Revocation is true", "crypto"),
    Rule("CCP-ONE-EMAIDCONTENT", "reference/ccp.v1.json getSignedContractData (Default"
         " Contract: for ISO 15118-2 just one item, the default contract)",
         "an ISO 15118-2 answer holds exactly one emaidContent"),
    Rule("CCP-EMAID-NORMAL", "docs/05_handling-of-ids.md (EMAID: separators and case are"
         " allowed, the ecosystem normalises)", "an EMAID with hyphens or in lower case names"
         " the same contract, listed in the normal form"),
    Rule("CCP-EMAID-PATTERN", "reference/ccp.v1.json emaid pattern; deleteSignedContractData"
         " 400 example", "an EMAID that does not match the spec's pattern is answered 400",
         "schema"),
    Rule("PCP-STEP-ORDER", "docs/components/02 (Publish: control steps 1-4, the first"
         " occurring error answers)", "publishing answers the error of the first control step"
         " that fails"),
    Rule("PCP-REPUBLISH-SAME-KEY", "docs/components/02 (Update: MOs are notified if the key"
         " pair has changed)", "republishing a PCID with its key pair unchanged raises no event"
         " and keeps its contracts"),
    Rule("WH-LISTING-CURRENT", "reference/webhooks.v1.json getWebhooks / deleteWebhook",
         "a deleted webhook endpoint is gone from the listing as from every read"),
    Rule("WH-CONTRACT-PAYLOAD", "reference/webhook.payload.v1.json (PCID EMAID payload:"
         " contractCert, cpsSignerRootFingerprint, cpsSignerRootCommonName)", "a contract"
         " event's optional members, where present, describe the contract it is about"),
    Rule("WH-FACTORY-RESET", "docs/components/06 (mo.prov.cert.factory.reset; the deprecated"
         " mo.prov.cert.updated.factory.reset, still in webhooks.v1.json's Event enum); erratum"
         " E-WH-6", "the MO of each contract hears mo.prov.cert.factory.reset when the OEM"
         " deletes the vehicle, and mo.prov.cert.updated.factory.reset (if subscribed) when a new"
         " key pair deleted the contract"),
    Rule("CPS-LISTED-SIGNER-USABLE", "reference/cps.v1.json getAllCpsSigners;"
         " generateSignedContractData cpsV2GRootCertificateFingerprint (the desired V2G root"
         " which shall be used to sign)", "the V2G root of every CPS signer the CPS lists can be"
         " named for generating, and the contract is then signed under it", "crypto"),
    Rule("CCP-LISTING-CONSISTENT", "reference/ccp.v1.json getContracts /"
         " provideSignedContractData", "the OEM's listing of a vehicle's contracts holds every"
         " contract the pool holds for it, and each listed one can be pulled"),
    Rule("CCP-OWN-SESSION", "reference/ccp.v1.json getSignedContractData (the answer is"
         " forwarded to the vehicle); ISO 15118-2 MessageHeader SessionID", "the CCP answers a vehicle's request"
         " with that request's SessionID and that vehicle's own contract"),
    Rule("PCP-CASCADE-REVOCATION", "reference/pcp.v1.json deleteOEMProvCert (the CCP's DELETE"
         " for every EMAID of the PCID, with revocation)", "deleting a provisioning"
         " certificate revokes the contract certificates the operator's MO CA issued for it",
         "crypto"),
    # The Plug&Charge story, end to end (features/story.feature)
    Rule("STORY-PROVISIONING-CHAIN", "docs/02_PnC_business-processes.md (Contract Conclusion"
         " and Vehicle Assignment); reference/pcp.v1.json getProvisioningCertificate",
         "the MO gets the published provisioning certificate with the Sub-CAs it needs to"
         " validate it to an OEM or V2G root of the RCP", "crypto"),
    Rule("STORY-EST-PROVISIONING", "docs/components/05_v2g-pki-services.md; reference/est.v1.json"
         " simpleEnroll (ca oem); RFC 7030 section 4.2.3",
         "an OEM without a PKI of its own enrolls provisioning certificates over EST that the"
         " PCP takes and a vehicle can use", "crypto"),
    Rule("STORY-MO-NOTIFIED", "docs/components/06_webhook-service.md (mo.prov.cert.deleted,"
         " mo.prov.cert.factory.reset); reference/pcp.v1.json deleteProvisioningCertificate",
         "when the OEM withdraws a vehicle's provisioning certificate, the MO of each of its"
         " contracts gets a signed mo.prov.cert.deleted or mo.prov.cert.factory.reset naming the"
         " EMAID and the PCID"),
    Rule("STORY-OEM-NOTIFIED", "docs/components/04_contract-certificate-pool.md (Publish a Contract"
         " Certificate); docs/components/06_webhook-service.md (oem.contract.created)",
         "the OEM of the PCID's WMI gets a signed oem.contract.created for a new contract and can"
         " pull the signed data its vehicle installs"),
    # Interoperability between ecosystems (features/ctl.feature, features/ecosystems.feature)
    Rule("CTL-VALID", "reference/rcp.v1.json getCertificateTrustList; docs/ctl.md (erratum"
         " E-RCP-4)", "the published CTL is an opcp-ctl/1 document whose signature verifies with a"
         " signer chaining to a V2G root", "crypto"),
    Rule("CTL-MATCHES-RCP", "docs/ctl.md; docs/components/01_root-certificate-pool.md",
         "the CTL lists exactly the roots the RCP serves, with their types, and is re-issued"
         " with a higher sequence number when the pool changes"),
    Rule("MULTIROOT-CROSS", "docs/ecosystems.md; reference/rcp.v1.json RootCertV2"
         " crossCertificatePair; ISO 15118-2 [V2G2-818] (the EV validates the CPS chain)",
         "contract data is verifiable by a vehicle that trusts only one V2G root: signed under"
         " it, or through a cross-certificate the RCP publishes", "crypto"),
    Rule("EST-PREFIXED-CA", "reference/est.v1.json `ca` pattern ^(\\w+-)?(cpo|mo|oem|cps|veh)$",
         "a prefixed EST CA issues under the V2G root its prefix names", "crypto"),
    Rule("POOL-FORWARD", "reference/pcp.v1.json and ccp.v1.json `broadcast` header (pool"
         " collaboration)", "a pool without the data asks its peers unless broadcast is true,"
         " and answers what a peer has under the same role and ownership rules"),
    Rule("POOL-PEER-DOWN", "docs/ecosystems.md (pool collaboration)", "a peer that is down or"
         " slow is answered within a bounded time with 502/504 naming the peer, never a hang"),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}
assert len(RULES) == len(_RULES), "rule ids must be unique"
