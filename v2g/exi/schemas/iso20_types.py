"""ISO 15118-20 CommonTypes (namespace urn:iso:std:iso:15118:-20:CommonTypes) and what every
-20 schema set shares: the namespace constants, the message helper and the module list.

Like all -20 schemas, CommonTypes qualifies elements and attributes. It imports xmldsig-core
(``ds:Signature`` in the header, ``ds:X509IssuerSerialType`` in ListOfRootCertificateIDs),
so every -20 schema set holds the xmldsig module too. The described version is ISO 15118-20:2022
as published (the XSDs under ``iso15118/shared/schemas/iso15118_20/`` of the iso15118 wheel,
not the earlier draft inside its EXICodec.jar; see docs/iso20.md).
"""

from __future__ import annotations

from v2g.exi.model import Module, _ElSpec, _GroupSpec, fields
from v2g.exi.schemas import app_protocol, xmldsig

COMMON_MESSAGES = "urn:iso:std:iso:15118:-20:CommonMessages"
COMMON_TYPES = "urn:iso:std:iso:15118:-20:CommonTypes"
DC = "urn:iso:std:iso:15118:-20:DC"
AC = "urn:iso:std:iso:15118:-20:AC"
ACDP = "urn:iso:std:iso:15118:-20:ACDP"
WPT = "urn:iso:std:iso:15118:-20:WPT"
XMLDSIG = xmldsig.NS
# The -20 SupportedAppProtocol handshake keeps the namespace (and schema) of -2's.
APP_PROTOCOL = app_protocol.NS

# Bases of the message types, as written in the message modules (prefix ct = CommonTypes).
REQ = "ct:V2GRequestType"
RES = "ct:V2GResponseType"


def namespace_module(ns: str) -> Module:
    """An empty -20 module for ``ns``: qualified elements and attributes, prefixes ct and ds."""
    return Module(ns, {"ct": COMMON_TYPES, "ds": XMLDSIG}, qualified_elements=True, qualified_attributes=True)


def message(m: Module, name: str, base: str, content: str | _GroupSpec | _ElSpec | None = None) -> None:
    """A -20 message: global element ``name`` of type ``<name>Type`` extending ``base``.

    ``content`` is the extension's own particle: a ``fields`` line or a ``seq``/``choice``.
    -20 messages are document roots themselves (no V2G_Message wrapper, no substitution group).
    """
    spec: _GroupSpec | _ElSpec | None = fields(content) if isinstance(content, str) else content
    m.complex(f"{name}Type", spec, base=base)
    m.element(name, f"{name}Type")


def module() -> Module:
    m = namespace_module(COMMON_TYPES)
    m.complex("MessageHeaderType", fields("SessionID:sessionIDType TimeStamp:xs:unsignedLong @ds:Signature?"))
    m.complex("V2GMessageType", fields("Header:MessageHeaderType"), abstract=True)
    m.complex("V2GRequestType", abstract=True, base="V2GMessageType")
    m.complex("V2GResponseType", fields("ResponseCode:responseCodeType"), abstract=True, base="V2GMessageType")
    m.complex("ChargeParameterDiscoveryReqType", abstract=True, base="V2GRequestType")
    m.complex("ChargeParameterDiscoveryResType", abstract=True, base="V2GResponseType")
    m.complex(
        "ChargeLoopReqType",
        fields("DisplayParameters:DisplayParametersType? MeterInfoRequested:xs:boolean"),
        abstract=True,
        base="V2GRequestType",
    )
    m.complex(
        "ChargeLoopResType",
        fields("EVSEStatus:EVSEStatusType? MeterInfo:MeterInfoType? Receipt:ReceiptType?"),
        abstract=True,
        base="V2GResponseType",
    )
    m.element("CLReqControlMode", "CLReqControlModeType")
    m.complex("CLReqControlModeType", abstract=True)
    m.element("CLResControlMode", "CLResControlModeType")
    m.complex("CLResControlModeType", abstract=True)
    m.complex(
        "Scheduled_CLReqControlModeType",
        fields(
            "EVTargetEnergyRequest:RationalNumberType? "
            "EVMaximumEnergyRequest:RationalNumberType? "
            "EVMinimumEnergyRequest:RationalNumberType?"
        ),
        abstract=True,
        base="CLReqControlModeType",
    )
    m.complex("Scheduled_CLResControlModeType", abstract=True, base="CLResControlModeType")
    m.complex(
        "Dynamic_CLReqControlModeType",
        fields(
            "DepartureTime:xs:unsignedInt? EVTargetEnergyRequest:RationalNumberType "
            "EVMaximumEnergyRequest:RationalNumberType "
            "EVMinimumEnergyRequest:RationalNumberType"
        ),
        abstract=True,
        base="CLReqControlModeType",
    )
    m.complex(
        "Dynamic_CLResControlModeType",
        fields(
            "DepartureTime:xs:unsignedInt? MinimumSOC:percentValueType? "
            "TargetSOC:percentValueType? AckMaxDelay:xs:unsignedShort?"
        ),
        abstract=True,
        base="CLResControlModeType",
    )
    m.simple("numericIDType", "xs:unsignedInt", min=1, max=4294967295)
    m.simple("sessionIDType", "xs:hexBinary", length=8)
    m.enum(
        "evseNotificationType",
        "Pause ExitStandby Terminate ScheduleRenegotiation ServiceRenegotiation MeteringConfirmation",
    )
    m.enum("processingType", "Finished Ongoing Ongoing_WaitingForCustomerInteraction")
    m.enum(
        "responseCodeType",
        "OK OK_CertificateExpiresSoon OK_NewSessionEstablished OK_OldSessionJoined "
        "OK_PowerToleranceConfirmed WARNING_AuthorizationSelectionInvalid "
        "WARNING_CertificateExpired WARNING_CertificateNotYetValid "
        "WARNING_CertificateRevoked WARNING_CertificateValidationError "
        "WARNING_ChallengeInvalid WARNING_EIMAuthorizationFailure WARNING_eMSPUnknown "
        "WARNING_EVPowerProfileViolation WARNING_GeneralPnCAuthorizationError "
        "WARNING_NoCertificateAvailable WARNING_NoContractMatchingPCIDFound "
        "WARNING_PowerToleranceNotConfirmed WARNING_ScheduleRenegotiationFailed "
        "WARNING_StandbyNotAllowed WARNING_WPT FAILED FAILED_AssociationError "
        "FAILED_ContactorError FAILED_EVPowerProfileInvalid "
        "FAILED_EVPowerProfileViolation FAILED_MeteringSignatureNotValid "
        "FAILED_NoEnergyTransferServiceSelected FAILED_NoServiceRenegotiationSupported "
        "FAILED_PauseNotAllowed FAILED_PowerDeliveryNotApplied "
        "FAILED_PowerToleranceNotConfirmed FAILED_ScheduleRenegotiation "
        "FAILED_ScheduleSelectionInvalid FAILED_SequenceError FAILED_ServiceIDInvalid "
        "FAILED_ServiceSelectionInvalid FAILED_SignatureError FAILED_UnknownSession "
        "FAILED_WrongChargeParameter",
    )
    m.simple("percentValueType", "xs:byte", min=0, max=100)
    m.simple("identifierType", "xs:string", max_length=255)
    m.simple("nameType", "xs:string", max_length=80)
    m.simple("descriptionType", "xs:string", max_length=160)
    m.complex(
        "DisplayParametersType",
        fields(
            "PresentSOC:percentValueType? MinimumSOC:percentValueType? "
            "TargetSOC:percentValueType? MaximumSOC:percentValueType? "
            "RemainingTimeToMinimumSOC:xs:unsignedInt? "
            "RemainingTimeToTargetSOC:xs:unsignedInt? "
            "RemainingTimeToMaximumSOC:xs:unsignedInt? ChargingComplete:xs:boolean? "
            "BatteryEnergyCapacity:RationalNumberType? InletHot:xs:boolean?"
        ),
    )
    m.complex("EVSEStatusType", fields("NotificationMaxDelay:xs:unsignedShort EVSENotification:evseNotificationType"))
    m.complex("RationalNumberType", fields("Exponent:xs:byte Value:xs:short"))
    m.simple("meterIDType", "xs:string", max_length=32)
    m.simple("meterSignatureType", "xs:base64Binary", max_length=64)
    m.complex(
        "MeterInfoType",
        fields(
            "MeterID:meterIDType ChargedEnergyReadingWh:xs:unsignedLong "
            "BPT_DischargedEnergyReadingWh:xs:unsignedLong? "
            "CapacitiveEnergyReadingVARh:xs:unsignedLong? "
            "BPT_InductiveEnergyReadingVARh:xs:unsignedLong? "
            "MeterSignature:meterSignatureType? MeterStatus:xs:short? "
            "MeterTimestamp:xs:unsignedLong?"
        ),
    )
    m.complex("DetailedCostType", fields("Amount:RationalNumberType CostPerUnit:RationalNumberType"))
    m.complex("DetailedTaxType", fields("TaxRuleID:numericIDType Amount:RationalNumberType"))
    m.complex(
        "ReceiptType",
        fields(
            "TimeAnchor:xs:unsignedLong EnergyCosts:DetailedCostType? "
            "OccupancyCosts:DetailedCostType? AdditionalServicesCosts:DetailedCostType? "
            "OverstayCosts:DetailedCostType? TaxCosts:DetailedTaxType{0,10}"
        ),
    )
    m.complex("ListOfRootCertificateIDsType", fields("RootCertificateID:ds:X509IssuerSerialType{1,20}"))
    return m


def with_common(*own: Module) -> list[Module]:
    """A -20 schema set: its own namespace module(s), CommonTypes and xmldsig-core."""
    return [*own, module(), xmldsig.module()]
