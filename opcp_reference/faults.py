"""Fault switches: deliberate deviations from the spec that prove the suite can fail; and
conformant variants: answers the spec allows that the reference does not give by default,
which prove the suite does not fail a server for what the spec permits.

A conformance check that passes every server is worthless. Each switch below makes the
reference break one rule; `tests/test_faults.py` (and later `opcp selftest`) runs the
scenarios against the reference with a switch on and requires the named feature to fail.
Switches are only ever set explicitly (`opcp serve --fault NAME`); none is on by default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    breaks: str  # the rule it breaks, in words
    caught_by: str  # the feature file expected to catch it
    opens: str | None = None  # an operation this fault opens to every authenticated role
    unowned: tuple[str, ...] = ()  # operations whose ownership check this fault lifts


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("rcp-delete-any-role", "any authenticated party may delete root certificates",
          "rcp.feature", opens="deleteRootCa"),
    Fault("rcp-accept-non-root", "saveRootCa stores certificates that are not self-signed CAs",
          "rcp.feature"),
    Fault("rcp-filter-ignored", "getAllRootCerts ignores the rootType filter", "rcp.feature"),
    Fault("rcp-unknown-id-200", "getRootCert answers 200 with an empty body for unknown ids",
          "rcp.feature"),
    Fault("rcp-bad-date-format", "root certificates carry validFrom/validTo that are not "
          "RFC 3339 date-times (caught by the response model check)", "rcp.feature"),
    Fault("auth-ignore-audience", "protected routes accept tokens issued for another audience",
          "auth.feature"),
    Fault("auth-accept-expired", "protected routes accept expired tokens", "auth.feature"),
    Fault("auth-ignore-issuer", "protected routes accept tokens of another issuer", "auth.feature"),
    Fault("auth-accept-not-yet-valid", "protected routes accept tokens before their nbf",
          "auth.feature"),
    Fault("auth-accept-bad-secret", "the token endpoint ignores the client secret",
          "auth.feature"),
    Fault("error-without-trace-id", "error bodies lack the traceId", "auth.feature"),
    Fault("auth-refuse-api-key", "requests that carry an x-api-key beside the bearer token "
          "are refused (breaks MaEVe; a compatibility finding)", "auth.feature"),
    Fault("auth-no-throttle", "wrong secrets can be guessed without limit", "auth.feature"),
    Fault("auth-accept-hs256", "HS256 tokens keyed with the public key PEM are accepted",
          "auth.feature"),
    Fault("auth-accept-alg-none", "unsigned tokens (alg none) are accepted", "auth.feature"),
    Fault("auth-rotation-drops-old-key", "a key rotation invalidates every token issued before",
          "auth.feature"),
    Fault("webhook-foreign-endpoint-visible",
          "webhook endpoints are listed and served to parties that did not create them",
          "webhook.feature", unowned=("getWebhook", "updateWebhook", "deleteWebhook",
                                      "getWebhookDeliveries")),
    Fault("webhook-lax-validation", "endpoint requests are stored unchecked (any url, events, "
          "status, metadata, even no JSON)", "webhook.feature"),
    Fault("webhook-admin-allowed", "the pool operator (ADMIN) may list webhook endpoints",
          "webhook.feature", opens="getWebhooks"),
    Fault("webhook-unsigned", "deliveries carry no signature header", "webhook.feature"),
    Fault("webhook-duplicate-delivery", "every delivery is sent twice", "webhook.feature"),
    Fault("webhook-event-to-wrong-party",
          "events reach every enabled endpoint, subscribed and entitled or not", "webhook.feature"),
    Fault("webhook-disabled-delivered", "disabled endpoints receive events as well",
          "webhook.feature"),
    Fault("webhook-no-retry", "a delivery that failed with 5xx is given up at once",
          "webhook.feature"),
    Fault("webhook-sent-before-oem-answered", "mo.contract.*.sent.to.oem is raised with the "
          "oem.contract.* event, before (and whether or not) the OEM accepted it",
          "webhook.feature"),
    Fault("webhook-oem-refusal-retried", "an OEM's 400/409 about a contract is retried like a "
          "5xx instead of ending with mo.contract.rejected.by.oem", "webhook.feature"),
    Fault("pcp-skip-wmi-check", "an OEM may publish, read and delete PCIDs of foreign WMIs",
          "pcp.feature", unowned=("addOemProvCert", "getOEMProvCert", "lookupVehicle",
                                  "deleteOemProvCert")),
    Fault("pcp-accept-expired-chain", "publishing accepts chains with an expired certificate",
          "pcp.feature"),
    Fault("pcp-skip-ocsp", "the pool never asks OCSP: revoked certificates are published",
          "pcp.feature"),
    Fault("pcp-untrusted-root-accepted", "chains to roots outside the RCP are published",
          "pcp.feature"),
    Fault("est-skip-cn-check", "EST issues CNs outside the caller's EMAID prefixes or WMIs",
          "est.feature"),
    Fault("est-wrong-content-type", "EST answers without application/pkcs7-mime certs-only",
          "est.feature"),
    Fault("ocsp-revocations-ignored", "the OCSP responder answers good for revoked certificates",
          "pcp.feature"),
    Fault("cps-emaid-prefix-unchecked", "the CPS signs contracts for EMAIDs outside the MO's"
          " prefixes", "cps.feature", unowned=("signContractData", "createSignedContractData",
                                               "createAndForwardSignedContractData",
                                               "generateSignedContractData")),
    Fault("cps-untrusted-contract-root", "the CPS signs contract chains that lead to no root in"
          " the RCP", "cps.feature"),
    Fault("ccp-ignores-ev-roots", "the CCP answers contract data signed under a V2G root the"
          " vehicle does not trust", "ccp.feature"),
    Fault("ccp-wrong-default", "the CCP delivers the newest contract instead of the default",
          "ccp.feature"),
    Fault("ccp-accepts-bad-signature", "the CCP accepts requests and signed data whose signature"
          " does not verify", "ccp.feature"),
    Fault("ccp-foreign-delete", "an MO may delete contracts of EMAIDs outside its prefixes",
          "ccp.feature", unowned=("deleteSignedContractData",)),
    Fault("ccp-skip-emaid-check", "an MO may look up and pool contracts of EMAIDs outside its"
          " prefixes", "isolation.feature", unowned=("addSignedContractData", "lookupContract")),
    Fault("ccp-skip-wmi-check", "an OEM may list, pull and choose the default of contracts of"
          " PCIDs outside its WMIs", "isolation.feature",
          unowned=("getContracts", "provideSignedContractData", "setDefaultContract")),
    Fault("ccp-ignores-always-return-exi", "a vehicle the CCP has nothing for gets a plain Error,"
          " not the FAILED CertificateInstallationRes alwaysReturnEXI (default true) asks for",
          "ccp.feature"),
    # One per client habit of opcp_reference/compat.py: refuses that habit alone, as strict
    # mode refuses them all.
    Fault("compat-refuse-audience-base-url", "the token endpoint refuses the deployment's own"
          " base URL as audience (breaks CitrineOS)", "clients.feature"),
    Fault("compat-refuse-missing-audience", "the token endpoint refuses a request without"
          " audience (breaks MaEVe)", "clients.feature"),
    Fault("compat-refuse-form-token", "the token endpoint takes JSON only (breaks CitrineOS and"
          " every RFC 6749 client)", "clients.feature"),
    Fault("compat-refuse-est-well-known-short", "EST answers 404 at /.well-known/{ca}/cacerts"
          " and /.well-known/{ca}/simpleenroll (breaks CitrineOS)", "clients.feature"),
    Fault("compat-refuse-est-no-prefix", "EST answers 404 at /{ca}/simpleenroll/{iso} (breaks"
          " MaEVe)", "clients.feature"),
    Fault("compat-refuse-est-no-algorithm", "EST answers 404 at /{ca}/cacerts/{iso} without"
          " the algorithm (breaks MaEVe)", "clients.feature"),
    Fault("est-chain-root-first", "cacerts lists the root first (CitrineOS takes Sub-CA 2 for"
          " the V2G root)", "clients.feature"),
    Fault("cps-signs-with-foreign-key", "the CPS signs contract data with a key that is not its"
          " certificate's: no vehicle can verify what it is given", "story.feature"),
    Fault("pcp-delete-no-cascade", "deleting a provisioning certificate leaves its contracts in"
          " the CCP and tells no MO", "story.feature"),
    # Ecosystems (issue 22): the trust list, multi-root trust, pool collaboration.
    Fault("ctl-signature-over-other-content", "the CTL is changed after it was signed: its"
          " signature does not verify", "ctl.feature"),
    Fault("ctl-not-reissued", "the CTL is not re-issued when the RCP changes: it lists the"
          " roots of before", "ctl.feature"),
    Fault("rcp-cross-pair-withheld", "the RCP serves roots without their crossCertificatePair:"
          " a vehicle trusting only the vouching root cannot validate the CPS chain",
          "ecosystems.feature"),
    Fault("est-prefix-ignored", "a prefixed EST CA (v2g2-cpo) issues from the first V2G root's"
          " CA, not the one its prefix and its cacerts name", "ecosystems.feature"),
    Fault("ccp-no-forwarding", "the CCP answers from its own pool only: a vehicle whose contract"
          " is in a peer ecosystem's pool gets nothing", "ecosystems.feature"),
    Fault("ccp-forwards-despite-broadcast", "a getSignedContractData that says broadcast: true"
          " is forwarded to the peers anyway", "ecosystems.feature"),
    Fault("ccp-peer-outage-hidden", "a peer that is down or slow is answered as if it had"
          " nothing (404), not with 502/504 naming it", "ecosystems.feature"),
    Fault("ccp-forward-skips-ownership", "provideSignedContractData for a PCID outside the OEM's"
          " WMIs is forwarded to the peers instead of refused (the peer's OEM answers)",
          "ecosystems.feature"),
    Fault("rcp-expired-root-kept", "an expired root is announced (root.cert.expired) but stays"
          " in the RCP instead of leaving it", "ecosystems.feature"),
    Fault("cps-ignores-vehicle-roots", "generating without cpsV2GRootCertificateFingerprint, the"
          " CPS signs under its first V2G root, not one the vehicle's pool entry"
          " (v2gRootAuthorityKeyIdentifiers) names", "ecosystems.feature"),
    # Issue 17 point 2: rules the reference implements that a scenario now checks.
    Fault("cps-generate-keeps-old-contract", "generating again with the same PCID and EMAID"
          " keeps the old contract instead of replacing it", "cps.feature"),
    Fault("ccp-delete-never-revokes", "deleting a contract the operator's MO CA issued leaves"
          " its certificate unrevoked", "ccp.feature"),
    Fault("ccp-skip-revocation-ignored", "X-Skip-Revocation: true is ignored: the deleted"
          " contract's certificate is revoked anyway", "ccp.feature"),
    Fault("ccp-several-emaid-contents", "the ISO 15118-2 answer lists every contract of the"
          " PCID (default first), not just the default", "ccp.feature"),
    Fault("ccp-emaid-not-normalised", "lookupContract takes the EMAID as written: one with"
          " hyphens or in lower case finds nothing", "ccp.feature"),
    Fault("ccp-invalid-emaid-not-found", "lookupContract answers 404 for an EMAID that does not"
          " match the pattern, instead of 400", "ccp.feature"),
    Fault("pcp-chain-before-wmi", "publishing judges the chain (steps 2-4) before the WMI"
          " (step 1)", "pcp.feature"),
    Fault("pcp-ocsp-before-validity", "publishing asks OCSP (step 3) before judging validity"
          " (step 2)", "pcp.feature"),
    Fault("pcp-republish-always-rekeys", "republishing a PCID with its key pair unchanged is"
          " taken as a new key pair: its contracts are dropped and its MOs told",
          "webhook.feature"),
    Fault("webhook-contract-event-wrong-cert", "contract events carry the CPS signer's V2G root"
          " as contractCert, not the contract certificate", "webhook.feature"),
    Fault("auth-cps-signers-unguarded", "getAllCpsSigners answers without checking the token"
          " (none, or a forged one, is let in)", "auth.feature"),
    Fault("ccp-ignores-session-id", "the CCP answers with the SessionID of the pooled data"
          " (all zeros), not the vehicle's request's", "ccp.feature"),
    Fault("rcp-listing-stale-after-delete", "getAllRootCerts serves a listing cache that a"
          " delete does not refresh: a deleted root stays listed", "rcp.feature"),
    Fault("pcp-cascade-no-revocation", "deleting a provisioning certificate removes its"
          " contracts but revokes none of their certificates", "pcp.feature"),
    Fault("auth-token-omits-scope-claims", "access tokens (JWTs) name the role but neither the"
          " OEM's WMIs nor the MO's EMAID prefixes (the server looks them up on use)",
          "auth.feature"),
    Fault("cps-generate-first-root-only", "generateSignedContractData refuses a V2G root that"
          " getAllCpsSigners lists, unless it is the first listed", "cps.feature"),
    Fault("rcp-cross-paired-root-unreadable", "getAllRootCerts lists a root that carries a"
          " crossCertificatePair, but getRootCert answers 404 for its id", "rcp.feature"),
    Fault("webhook-listing-keeps-deleted", "getWebhooks serves a listing cache that deleteWebhook"
          " does not refresh: a deleted endpoint stays listed", "webhook.feature"),
    Fault("auth-token-cacheable", "token answers may be cached (Cache-Control: max-age, not"
          " no-store: RFC 6749 section 5.1)", "auth.feature"),
    Fault("ccp-listing-one-root-only", "getContracts lists a vehicle's contracts under the V2G"
          " root of its first contract only, though the pool holds and serves the others",
          "ccp.feature"),
    Fault("pcp-delete-no-factory-reset", "the OEM's deleteOemProvCert tells the MOs"
          " mo.prov.cert.deleted but never mo.prov.cert.factory.reset", "webhook.feature"),
    Fault("pcp-rekey-no-deprecated-event", "a new key pair raises mo.prov.cert.updated but never"
          " the deprecated mo.prov.cert.updated.factory.reset an MO is subscribed to",
          "webhook.feature"),
    # ISO 15118-20 (issue 19): docs/iso20.md.
    Fault("cps-20-names-wrong-curve", "the CPS writes the other ECDHCurve into -20"
          " SignedInstallationData than the one the key was encrypted on: the vehicle cannot"
          " decrypt it", "iso20.feature"),
    Fault("cps-20-wrong-aad", "the CPS encrypts a generated -20 contract key under an AAD with"
          " another PCID ([V2G20-2492]): the AES-GCM tag fails at the vehicle", "iso20.feature"),
    Fault("ccp-20-remaining-wrong", "the CCP's -20 answers count one more"
          " RemainingContractCertificateChains than follow", "iso20.feature"),
    Fault("ccp-20-answers-iso2", "the CCP answers a -20 CertificateInstallationReq with an"
          " ISO 15118-2 CertificateInstallationRes", "iso20.feature"),
    Fault("est-20-alt-key-replaced", "the EST writes an X448 key of its own, not the one the CSR"
          " requested, into an Ed448 provisioning certificate ([V2G20-2534]): the vehicle"
          " cannot take a contract", "iso20.feature"),
    Fault("est-20-alt-key-optional", "the EST issues an Ed448 provisioning certificate for a CSR"
          " without the vehicle's X448 key, making one up that nobody holds ([V2G20-2534])",
          "iso20.feature"),
)}


@dataclass(frozen=True)
class Variant:
    """A conformant variant: the reference answers another reading the spec supports. The
    suite must pass it, in both profiles (`opcp selftest`: passed M of M conformant variants)."""

    name: str
    reading: str  # what the reference then does
    allowed_by: str  # the part of the spec (or erratum) that allows it
    feature: str  # the feature whose scenarios meet it


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("webhook-events-named-enabled-events", "endpoint answers name the subscribed events"
            " `enabledEvents` (payload version 1.0.0)", "erratum E-WH-3: webhooks.v1.json's"
            " endpoint schema requires enabledEvents", "webhook.feature"),
    Variant("webhook-secret-readable", "the signing secret is in every answer about an endpoint,"
            " not only on create", "docs/components/06: the secret can be retrieved from the"
            " backend", "webhook.feature"),
    Variant("webhook-endpoint-status-omitted", "endpoint answers carry no `status`",
            "webhooks.v1.json: status is not a required member of an endpoint", "webhook.feature"),
    Variant("root-event-without-namespace", "root.cert.* events carry no xsdMsgDefNamespace",
            "webhook.payload.v1.json: xsdMsgDefNamespace is not required", "webhook.feature"),
    # Issue 17 point 3: each erratum's other reading of a response form (opcp_reference/http/
    # erratum_readings.py rewrites the answers as the row of opcp.models.errata says).
    Variant("cps-fingerprint-as-sha256", "every cpsV2GRootCertificateFingerprint answered is"
            " the V2G root's SHA-256 (hex pairs with colons), not its RCP id", "erratum E-CPS-1:"
            " the field's description names a SHA-256 fingerprint", "cps.feature"),
    Variant("lookup-contract-swapped-patterns", "LookupContractResponse carries the root's id in"
            " cpsRootCertificateDN and its DN in cpsV2GRootCertificateFingerprint",
            "erratum E-CCP-1: ccp.v1.json's patterns of the two fields", "ccp.feature"),
    Variant("pcp-announced-field-names", "provisioning certificate answers name the chain"
            " subCa1Certificate, subCa2Certificate, provisioningCertificate", "erratum E-PCP-2:"
            " the names pcp.v1.json announces", "pcp.feature"),
    Variant("webhook-foreign-endpoint-403", "another client's webhook endpoint is refused with"
            " 403, not 404", "erratum E-WH-4 (no rule says who may read an endpoint; 403 and 404"
            " both refuse); docs/04_authentication.md", "webhook.feature"),
    Variant("pcp-foreign-vehicle-404", "another OEM's vehicle is answered 404, not 403, on"
            " getOEMProvCert, lookupVehicle and deleteOEMProvCert", "pcp.v1.json: those"
            " operations declare 403 and 404; docs/04_authentication.md: access is denied"
            " (either status denies it)", "pcp.feature"),
    Variant("ccp-foreign-contract-404", "another MO's or OEM's contract is answered 404, not 403,"
            " on lookupContract, deleteSignedContractData and provideSignedContractData",
            "ccp.v1.json: those operations declare 403 and 404; docs/04_authentication.md",
            "ccp.feature"),
)}
SWITCHES = FAULTS.keys() | VARIANTS.keys()


class Faults:
    """The switches on in one reference: fault switches and conformant variants."""

    def __init__(self, names: list[str] | tuple[str, ...] | set[str] = ()):
        unknown = sorted(set(names) - SWITCHES)
        if unknown:
            raise ValueError(f"unknown fault switch(es): {', '.join(unknown)}; "
                             f"known faults: {', '.join(sorted(FAULTS))}; "
                             f"conformant variants: {', '.join(sorted(VARIANTS))}")
        self.names = frozenset(names)

    def opens(self, operation: str) -> bool:
        return any(FAULTS[n].opens == operation for n in self.names if n in FAULTS)

    def lifts_ownership(self, operation: str) -> bool:
        return any(operation in FAULTS[n].unowned for n in self.names if n in FAULTS)

    def on(self, name: str) -> bool:
        assert name in SWITCHES, name  # a typo here would silently disable a switch
        return name in self.names
