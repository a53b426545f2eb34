"""ISO 15118-2:2014 message schemas: V2G_CI_MsgDef, MsgHeader, MsgBody, MsgDataTypes.

All four schemas qualify both elements and attributes, so an ``Id`` attribute belongs to
the namespace of the schema that declares it (e.g. ``{...:MsgDataTypes}Id`` on a
certificate chain, ``{...:MsgBody}Id`` on CertificateInstallationReq).
"""

from __future__ import annotations

from v2g.exi.model import Module, attr, choice, el, fields, restrict, seq

MSG_DEF = "urn:iso:15118:2:2013:MsgDef"
MSG_HEADER = "urn:iso:15118:2:2013:MsgHeader"
MSG_BODY = "urn:iso:15118:2:2013:MsgBody"
MSG_DATA_TYPES = "urn:iso:15118:2:2013:MsgDataTypes"
XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"

_PREFIXES = {"d": MSG_DEF, "h": MSG_HEADER, "b": MSG_BODY, "t": MSG_DATA_TYPES, "ds": XMLDSIG}


def _module(ns: str) -> Module:
    return Module(ns, _PREFIXES, qualified_elements=True, qualified_attributes=True)


def msg_def() -> Module:
    m = _module(MSG_DEF)
    m.element("V2G_Message", m.anonymous(fields("Header:h:MessageHeaderType Body:b:BodyType")))
    return m


def msg_header() -> Module:
    m = _module(MSG_HEADER)
    m.complex("MessageHeaderType",
              fields("SessionID:t:sessionIDType Notification:t:NotificationType? @ds:Signature?"))
    return m


# Message name -> its fields, in schema order. Each becomes <Name>Type extending
# BodyBaseType and a global element <Name> in substitution group BodyElement.
_MESSAGES: list[tuple[str, str, str | None]] = [
    # (message, fields, Id attribute: None, "optional" or "required")
    ("SessionSetupReq", "EVCCID:t:evccIDType", None),
    ("SessionSetupRes", "ResponseCode:t:responseCodeType EVSEID:t:evseIDType EVSETimeStamp:xs:long?", None),
    ("ServiceDiscoveryReq", "ServiceScope:t:serviceScopeType? ServiceCategory:t:serviceCategoryType?", None),
    ("ServiceDiscoveryRes", ("ResponseCode:t:responseCodeType PaymentOptionList:t:PaymentOptionListType "
     "ChargeService:t:ChargeServiceType ServiceList:t:ServiceListType?"), None),
    ("ServiceDetailReq", "ServiceID:t:serviceIDType", None),
    ("ServiceDetailRes", ("ResponseCode:t:responseCodeType ServiceID:t:serviceIDType "
     "ServiceParameterList:t:ServiceParameterListType?"), None),
    ("PaymentServiceSelectionReq", ("SelectedPaymentOption:t:paymentOptionType "
     "SelectedServiceList:t:SelectedServiceListType"), None),
    ("PaymentServiceSelectionRes", "ResponseCode:t:responseCodeType", None),
    ("PaymentDetailsReq", "eMAID:t:eMAIDType ContractSignatureCertChain:t:CertificateChainType", None),
    ("PaymentDetailsRes", ("ResponseCode:t:responseCodeType GenChallenge:t:genChallengeType "
     "EVSETimeStamp:xs:long"), None),
    ("AuthorizationReq", "GenChallenge:t:genChallengeType?", "optional"),
    ("AuthorizationRes", "ResponseCode:t:responseCodeType EVSEProcessing:t:EVSEProcessingType", None),
    ("ChargeParameterDiscoveryReq", ("MaxEntriesSAScheduleTuple:xs:unsignedShort? "
     "RequestedEnergyTransferMode:t:EnergyTransferModeType @t:EVChargeParameter"), None),
    ("ChargeParameterDiscoveryRes", ("ResponseCode:t:responseCodeType EVSEProcessing:t:EVSEProcessingType "
     "@t:SASchedules? @t:EVSEChargeParameter"), None),
    ("PowerDeliveryReq", ("ChargeProgress:t:chargeProgressType SAScheduleTupleID:t:SAIDType "
     "ChargingProfile:t:ChargingProfileType? @t:EVPowerDeliveryParameter?"), None),
    ("PowerDeliveryRes", "ResponseCode:t:responseCodeType @t:EVSEStatus", None),
    ("MeteringReceiptReq", ("SessionID:t:sessionIDType SAScheduleTupleID:t:SAIDType? "
     "MeterInfo:t:MeterInfoType"), "optional"),
    ("MeteringReceiptRes", "ResponseCode:t:responseCodeType @t:EVSEStatus", None),
    ("SessionStopReq", "ChargingSession:t:chargingSessionType", None),
    ("SessionStopRes", "ResponseCode:t:responseCodeType", None),
    ("CertificateUpdateReq", ("ContractSignatureCertChain:t:CertificateChainType eMAID:t:eMAIDType "
     "ListOfRootCertificateIDs:t:ListOfRootCertificateIDsType"), "required"),
    ("CertificateUpdateRes", ("ResponseCode:t:responseCodeType "
     "SAProvisioningCertificateChain:t:CertificateChainType "
     "ContractSignatureCertChain:t:CertificateChainType "
     "ContractSignatureEncryptedPrivateKey:t:ContractSignatureEncryptedPrivateKeyType "
     "DHpublickey:t:DiffieHellmanPublickeyType eMAID:t:EMAIDType RetryCounter:xs:short?"), None),
    ("CertificateInstallationReq", ("OEMProvisioningCert:t:certificateType "
     "ListOfRootCertificateIDs:t:ListOfRootCertificateIDsType"), "required"),
    ("CertificateInstallationRes", ("ResponseCode:t:responseCodeType "
     "SAProvisioningCertificateChain:t:CertificateChainType "
     "ContractSignatureCertChain:t:CertificateChainType "
     "ContractSignatureEncryptedPrivateKey:t:ContractSignatureEncryptedPrivateKeyType "
     "DHpublickey:t:DiffieHellmanPublickeyType eMAID:t:EMAIDType"), None),
    ("ChargingStatusReq", "", None),
    ("ChargingStatusRes", ("ResponseCode:t:responseCodeType EVSEID:t:evseIDType "
     "SAScheduleTupleID:t:SAIDType EVSEMaxCurrent:t:PhysicalValueType? MeterInfo:t:MeterInfoType? "
     "ReceiptRequired:xs:boolean? AC_EVSEStatus:t:AC_EVSEStatusType"), None),
    ("CableCheckReq", "DC_EVStatus:t:DC_EVStatusType", None),
    ("CableCheckRes", ("ResponseCode:t:responseCodeType DC_EVSEStatus:t:DC_EVSEStatusType "
     "EVSEProcessing:t:EVSEProcessingType"), None),
    ("PreChargeReq", ("DC_EVStatus:t:DC_EVStatusType EVTargetVoltage:t:PhysicalValueType "
     "EVTargetCurrent:t:PhysicalValueType"), None),
    ("PreChargeRes", ("ResponseCode:t:responseCodeType DC_EVSEStatus:t:DC_EVSEStatusType "
     "EVSEPresentVoltage:t:PhysicalValueType"), None),
    ("CurrentDemandReq", ("DC_EVStatus:t:DC_EVStatusType EVTargetCurrent:t:PhysicalValueType "
     "EVMaximumVoltageLimit:t:PhysicalValueType? EVMaximumCurrentLimit:t:PhysicalValueType? "
     "EVMaximumPowerLimit:t:PhysicalValueType? BulkChargingComplete:xs:boolean? "
     "ChargingComplete:xs:boolean RemainingTimeToFullSoC:t:PhysicalValueType? "
     "RemainingTimeToBulkSoC:t:PhysicalValueType? EVTargetVoltage:t:PhysicalValueType"), None),
    ("CurrentDemandRes", ("ResponseCode:t:responseCodeType DC_EVSEStatus:t:DC_EVSEStatusType "
     "EVSEPresentVoltage:t:PhysicalValueType EVSEPresentCurrent:t:PhysicalValueType "
     "EVSECurrentLimitAchieved:xs:boolean EVSEVoltageLimitAchieved:xs:boolean "
     "EVSEPowerLimitAchieved:xs:boolean EVSEMaximumVoltageLimit:t:PhysicalValueType? "
     "EVSEMaximumCurrentLimit:t:PhysicalValueType? EVSEMaximumPowerLimit:t:PhysicalValueType? "
     "EVSEID:t:evseIDType SAScheduleTupleID:t:SAIDType MeterInfo:t:MeterInfoType? "
     "ReceiptRequired:xs:boolean?"), None),
    ("WeldingDetectionReq", "DC_EVStatus:t:DC_EVStatusType", None),
    ("WeldingDetectionRes", ("ResponseCode:t:responseCodeType DC_EVSEStatus:t:DC_EVSEStatusType "
     "EVSEPresentVoltage:t:PhysicalValueType"), None),
]

MESSAGE_NAMES = [name for name, _, _ in _MESSAGES]


def msg_body() -> Module:
    m = _module(MSG_BODY)
    m.complex("BodyType", fields("@BodyElement?"))
    m.element("BodyElement", "BodyBaseType", abstract=True)
    m.complex("BodyBaseType", abstract=True)
    for name, line, id_use in _MESSAGES:
        attrs = [] if id_use is None else [attr("Id", "xs:ID", required=(id_use == "required"))]
        m.complex(f"{name}Type", fields(line), base="BodyBaseType", attrs=attrs)
        m.element(name, f"{name}Type", subst="BodyElement")
    return m


def msg_data_types() -> Module:
    m = _module(MSG_DATA_TYPES)
    # -- complex types, in schema order
    m.complex("ServiceType", fields("ServiceID:serviceIDType ServiceName:serviceNameType? "
                                    "ServiceCategory:serviceCategoryType ServiceScope:serviceScopeType? "
                                    "FreeService:xs:boolean"))
    m.complex("ServiceListType", fields("Service:ServiceType{1,8}"))
    m.complex("SelectedServiceListType", fields("SelectedService:SelectedServiceType{1,16}"))
    m.complex("SelectedServiceType", fields("ServiceID:serviceIDType ParameterSetID:xs:short?"))
    m.complex("ServiceParameterListType", fields("ParameterSet:ParameterSetType{1,255}"))
    m.complex("ParameterSetType", fields("ParameterSetID:xs:short Parameter:ParameterType{1,16}"))
    m.complex("ParameterType", choice(
        el("boolValue", "xs:boolean"), el("byteValue", "xs:byte"), el("shortValue", "xs:short"),
        el("intValue", "xs:int"), el("physicalValue", "PhysicalValueType"),
        el("stringValue", "xs:string")), attrs=[attr("Name", "xs:string", required=True)])
    m.complex("ChargeServiceType", fields("SupportedEnergyTransferMode:SupportedEnergyTransferModeType"),
              base="ServiceType")
    m.complex("SupportedEnergyTransferModeType", fields("EnergyTransferMode:EnergyTransferModeType{1,6}"))
    m.complex("ContractSignatureEncryptedPrivateKeyType", simple="privateKeyType",
              attrs=[attr("Id", "xs:ID", required=True)])
    m.complex("DiffieHellmanPublickeyType", simple="dHpublickeyType",
              attrs=[attr("Id", "xs:ID", required=True)])
    m.complex("EMAIDType", simple="eMAIDType", attrs=[attr("Id", "xs:ID", required=True)])
    m.complex("CertificateChainType", fields("Certificate:certificateType SubCertificates:SubCertificatesType?"),
              attrs=[attr("Id", "xs:ID")])
    m.complex("SubCertificatesType", fields("Certificate:certificateType{1,4}"))
    m.complex("ListOfRootCertificateIDsType", fields("RootCertificateID:ds:X509IssuerSerialType{1,20}"))
    m.complex("MeterInfoType", fields("MeterID:meterIDType MeterReading:xs:unsignedLong? "
                                      "SigMeterReading:sigMeterReadingType? MeterStatus:meterStatusType? "
                                      "TMeter:xs:long?"))
    m.complex("PhysicalValueType", fields("Multiplier:unitMultiplierType Unit:unitSymbolType Value:xs:short"))
    m.complex("NotificationType", fields("FaultCode:faultCodeType FaultMsg:faultMsgType?"))
    m.complex("SASchedulesType", abstract=True)
    m.element("SASchedules", "SASchedulesType", abstract=True)
    m.element("SAScheduleList", "SAScheduleListType", subst="SASchedules")
    m.complex("SAScheduleListType", fields("SAScheduleTuple:SAScheduleTupleType{1,3}"), base="SASchedulesType")
    m.complex("SAScheduleTupleType", fields("SAScheduleTupleID:SAIDType PMaxSchedule:PMaxScheduleType "
                                            "SalesTariff:SalesTariffType?"))
    m.complex("SalesTariffType", fields("SalesTariffID:SAIDType SalesTariffDescription:tariffDescriptionType? "
                                        "NumEPriceLevels:xs:unsignedByte? @SalesTariffEntry{1,1024}"),
              attrs=[attr("Id", "xs:ID")])
    m.complex("PMaxScheduleType", fields("@PMaxScheduleEntry{1,1024}"))
    m.element("Entry", "EntryType", abstract=True)
    m.complex("EntryType", fields("@TimeInterval"), abstract=True)
    m.element("SalesTariffEntry", "SalesTariffEntryType", subst="Entry")
    m.complex("SalesTariffEntryType", fields("EPriceLevel:xs:unsignedByte? ConsumptionCost:ConsumptionCostType{0,3}"),
              base="EntryType")
    m.element("PMaxScheduleEntry", "PMaxScheduleEntryType", subst="Entry")
    m.complex("PMaxScheduleEntryType", fields("PMax:PhysicalValueType"), base="EntryType")
    m.complex("IntervalType", abstract=True)
    m.element("TimeInterval", "IntervalType", abstract=True)
    m.element("RelativeTimeInterval", "RelativeTimeIntervalType", subst="TimeInterval")
    m.complex("RelativeTimeIntervalType", seq(
        el("start", restrict("xs:unsignedInt", min=0, max=16777214)),
        el("duration?", restrict("xs:unsignedInt", min=0, max=86400))), base="IntervalType")
    m.complex("ConsumptionCostType", fields("startValue:PhysicalValueType Cost:CostType{1,3}"))
    m.complex("CostType", fields("costKind:costKindType amount:xs:unsignedInt amountMultiplier:unitMultiplierType?"))
    m.complex("EVSEStatusType", fields("NotificationMaxDelay:xs:unsignedShort EVSENotification:EVSENotificationType"),
              abstract=True)
    m.element("EVSEStatus", "EVSEStatusType", abstract=True)
    m.element("AC_EVSEStatus", "AC_EVSEStatusType", subst="EVSEStatus")
    m.complex("AC_EVSEStatusType", fields("RCD:xs:boolean"), base="EVSEStatusType")
    m.complex("EVStatusType", abstract=True)
    m.element("EVStatus", "EVStatusType", abstract=True)
    m.element("DC_EVSEStatus", "DC_EVSEStatusType", subst="EVSEStatus")
    m.complex("DC_EVSEStatusType", fields("EVSEIsolationStatus:isolationLevelType? "
                                          "EVSEStatusCode:DC_EVSEStatusCodeType"), base="EVSEStatusType")
    m.element("DC_EVStatus", "DC_EVStatusType", subst="EVStatus")
    m.complex("DC_EVStatusType", fields("EVReady:xs:boolean EVErrorCode:DC_EVErrorCodeType "
                                        "EVRESSSOC:percentValueType"), base="EVStatusType")
    m.complex("EVChargeParameterType", fields("DepartureTime:xs:unsignedInt?"), abstract=True)
    m.element("EVChargeParameter", "EVChargeParameterType", abstract=True)
    m.element("AC_EVChargeParameter", "AC_EVChargeParameterType", subst="EVChargeParameter")
    m.complex("AC_EVChargeParameterType", fields(
        "EAmount:PhysicalValueType EVMaxVoltage:PhysicalValueType EVMaxCurrent:PhysicalValueType "
        "EVMinCurrent:PhysicalValueType"), base="EVChargeParameterType")
    m.element("DC_EVChargeParameter", "DC_EVChargeParameterType", subst="EVChargeParameter")
    m.complex("DC_EVChargeParameterType", fields(
        "DC_EVStatus:DC_EVStatusType EVMaximumCurrentLimit:PhysicalValueType "
        "EVMaximumPowerLimit:PhysicalValueType? EVMaximumVoltageLimit:PhysicalValueType "
        "EVEnergyCapacity:PhysicalValueType? EVEnergyRequest:PhysicalValueType? "
        "FullSOC:percentValueType? BulkSOC:percentValueType?"), base="EVChargeParameterType")
    m.complex("EVSEChargeParameterType", abstract=True)
    m.element("EVSEChargeParameter", "EVSEChargeParameterType", abstract=True)
    m.element("AC_EVSEChargeParameter", "AC_EVSEChargeParameterType", subst="EVSEChargeParameter")
    m.complex("AC_EVSEChargeParameterType", fields(
        "AC_EVSEStatus:AC_EVSEStatusType EVSENominalVoltage:PhysicalValueType "
        "EVSEMaxCurrent:PhysicalValueType"), base="EVSEChargeParameterType")
    m.element("DC_EVSEChargeParameter", "DC_EVSEChargeParameterType", subst="EVSEChargeParameter")
    m.complex("DC_EVSEChargeParameterType", fields(
        "DC_EVSEStatus:DC_EVSEStatusType EVSEMaximumCurrentLimit:PhysicalValueType "
        "EVSEMaximumPowerLimit:PhysicalValueType EVSEMaximumVoltageLimit:PhysicalValueType "
        "EVSEMinimumCurrentLimit:PhysicalValueType EVSEMinimumVoltageLimit:PhysicalValueType "
        "EVSECurrentRegulationTolerance:PhysicalValueType? EVSEPeakCurrentRipple:PhysicalValueType "
        "EVSEEnergyToBeDelivered:PhysicalValueType?"), base="EVSEChargeParameterType")
    m.complex("EVPowerDeliveryParameterType", abstract=True)
    m.element("EVPowerDeliveryParameter", "EVPowerDeliveryParameterType", abstract=True)
    m.element("DC_EVPowerDeliveryParameter", "DC_EVPowerDeliveryParameterType", subst="EVPowerDeliveryParameter")
    m.complex("DC_EVPowerDeliveryParameterType", fields(
        "DC_EVStatus:DC_EVStatusType BulkChargingComplete:xs:boolean? ChargingComplete:xs:boolean"),
        base="EVPowerDeliveryParameterType")
    m.complex("ChargingProfileType", fields("ProfileEntry:ProfileEntryType{1,24}"))
    m.complex("ProfileEntryType", fields(
        "ChargingProfileEntryStart:xs:unsignedInt ChargingProfileEntryMaxPower:PhysicalValueType "
        "ChargingProfileEntryMaxNumberOfPhasesInUse:maxNumPhasesType?"))
    m.complex("PaymentOptionListType", fields("PaymentOption:paymentOptionType{1,2}"))

    # -- simple types
    m.simple("percentValueType", "xs:byte", min=0, max=100)
    m.simple("faultMsgType", "xs:string", max_length=64)
    m.enum("EVSEProcessingType", "Finished Ongoing Ongoing_WaitingForCustomerInteraction")
    m.enum("EVSENotificationType", "None StopCharging ReNegotiation")
    m.enum("chargeProgressType", "Start Stop Renegotiate")
    m.enum("chargingSessionType", "Terminate Pause")
    m.simple("serviceNameType", "xs:string", max_length=32)
    m.enum("serviceCategoryType", "EVCharging Internet ContractCertificate OtherCustom")
    m.simple("serviceScopeType", "xs:string", max_length=64)
    m.simple("maxNumPhasesType", "xs:byte", min=1, max=3)
    m.enum("valueType", "bool byte short int physicalValue string")
    m.simple("meterStatusType", "xs:short")
    m.enum("EnergyTransferModeType",
           "AC_single_phase_core AC_three_phase_core DC_core DC_extended DC_combo_core DC_unique")
    m.simple("genChallengeType", "xs:base64Binary", length=16)
    m.simple("certificateType", "xs:base64Binary", max_length=800)
    m.simple("dHpublickeyType", "xs:base64Binary", max_length=65)
    m.simple("privateKeyType", "xs:base64Binary", max_length=48)
    m.simple("sigMeterReadingType", "xs:base64Binary", max_length=64)
    m.simple("sessionIDType", "xs:hexBinary", max_length=8)
    m.simple("evccIDType", "xs:hexBinary", max_length=6)
    m.simple("evseIDType", "xs:string", min_length=7, max_length=37)
    m.simple("serviceIDType", "xs:unsignedShort")
    m.simple("eMAIDType", "xs:string", min_length=14, max_length=15)
    m.simple("meterIDType", "xs:string", max_length=32)
    m.simple("SAIDType", "xs:unsignedByte", min=1, max=255)
    m.simple("tariffDescriptionType", "xs:string", max_length=32)
    m.enum("costKindType", "relativePricePercentage RenewableGenerationPercentage CarbonDioxideEmission")
    m.enum("paymentOptionType", "Contract ExternalPayment")
    m.enum("faultCodeType", "ParsingError NoTLSRootCertificatAvailable UnknownError")
    m.enum("responseCodeType",
           "OK OK_NewSessionEstablished OK_OldSessionJoined OK_CertificateExpiresSoon FAILED "
           "FAILED_SequenceError FAILED_ServiceIDInvalid FAILED_UnknownSession "
           "FAILED_ServiceSelectionInvalid FAILED_PaymentSelectionInvalid FAILED_CertificateExpired "
           "FAILED_SignatureError FAILED_NoCertificateAvailable FAILED_CertChainError "
           "FAILED_ChallengeInvalid FAILED_ContractCanceled FAILED_WrongChargeParameter "
           "FAILED_PowerDeliveryNotApplied FAILED_TariffSelectionInvalid FAILED_ChargingProfileInvalid "
           "FAILED_MeteringSignatureNotValid FAILED_NoChargeServiceSelected "
           "FAILED_WrongEnergyTransferMode FAILED_ContactorError "
           "FAILED_CertificateNotAllowedAtThisEVSE FAILED_CertificateRevoked")
    m.simple("unitMultiplierType", "xs:byte", min=-3, max=3)
    m.enum("unitSymbolType", "h m s A V W Wh")
    m.enum("DC_EVSEStatusCodeType",
           "EVSE_NotReady EVSE_Ready EVSE_Shutdown EVSE_UtilityInterruptEvent "
           "EVSE_IsolationMonitoringActive EVSE_EmergencyShutdown EVSE_Malfunction "
           "Reserved_8 Reserved_9 Reserved_A Reserved_B Reserved_C")
    m.enum("isolationLevelType", "Invalid Valid Warning Fault No_IMD")
    m.enum("DC_EVErrorCodeType",
           "NO_ERROR FAILED_RESSTemperatureInhibit FAILED_EVShiftPosition "
           "FAILED_ChargerConnectorLockFault FAILED_EVRESSMalfunction "
           "FAILED_ChargingCurrentdifferential FAILED_ChargingVoltageOutOfRange "
           "Reserved_A Reserved_B Reserved_C FAILED_ChargingSystemIncompatibility NoData")
    return m


def modules() -> list[Module]:
    return [msg_def(), msg_header(), msg_body(), msg_data_types()]
