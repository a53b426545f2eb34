"""ISO 15118-20 CommonMessages (namespace urn:iso:std:iso:15118:-20:CommonMessages).

It describes every message of ISO 15118-20's common part (session, authorization, service discovery and
selection, schedule exchange, power delivery, metering confirmation, session stop,
certificate installation, vehicle check-in/out) and their data types.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-common``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, attr, choice, el, fields, seq
from v2g.exi.schemas.iso20_types import COMMON_MESSAGES, REQ, RES, message, namespace_module

NS = COMMON_MESSAGES


def module() -> Module:
    m = namespace_module(NS)
    message(m, "SessionSetupReq", REQ, "EVCCID:ct:identifierType")
    message(m, "SessionSetupRes", RES, "EVSEID:ct:identifierType")
    message(m, "AuthorizationSetupReq", REQ)
    message(
        m,
        "AuthorizationSetupRes",
        RES,
        seq(
            el("AuthorizationServices{1,2}", "authorizationType"),
            el("CertificateInstallationService", "xs:boolean"),
            choice(
                el("EIM_ASResAuthorizationMode", "EIM_ASResAuthorizationModeType"),
                el("PnC_ASResAuthorizationMode", "PnC_ASResAuthorizationModeType"),
            ),
        ),
    )
    message(
        m,
        "AuthorizationReq",
        REQ,
        seq(
            el("SelectedAuthorizationService", "authorizationType"),
            choice(
                el("EIM_AReqAuthorizationMode", "EIM_AReqAuthorizationModeType"),
                el("PnC_AReqAuthorizationMode", "PnC_AReqAuthorizationModeType"),
            ),
        ),
    )
    message(m, "AuthorizationRes", RES, "EVSEProcessing:ct:processingType")
    message(m, "ServiceDiscoveryReq", REQ, "SupportedServiceIDs:ServiceIDListType?")
    message(
        m,
        "ServiceDiscoveryRes",
        RES,
        "ServiceRenegotiationSupported:xs:boolean EnergyTransferServiceList:ServiceListType VASList:ServiceListType?",
    )
    message(m, "ServiceDetailReq", REQ, "ServiceID:serviceIDType")
    message(m, "ServiceDetailRes", RES, "ServiceID:serviceIDType ServiceParameterList:ServiceParameterListType")
    message(
        m,
        "ServiceSelectionReq",
        REQ,
        "SelectedEnergyTransferService:SelectedServiceType SelectedVASList:SelectedServiceListType?",
    )
    message(m, "ServiceSelectionRes", RES)
    message(
        m,
        "ScheduleExchangeReq",
        REQ,
        seq(
            el("MaximumSupportingPoints", "maxSupportingPointsScheduleTupleType"),
            choice(
                el("Dynamic_SEReqControlMode", "Dynamic_SEReqControlModeType"),
                el("Scheduled_SEReqControlMode", "Scheduled_SEReqControlModeType"),
            ),
        ),
    )
    message(
        m,
        "ScheduleExchangeRes",
        RES,
        seq(
            el("EVSEProcessing", "ct:processingType"),
            el("GoToPause?", "xs:boolean"),
            choice(
                el("Dynamic_SEResControlMode", "Dynamic_SEResControlModeType"),
                el("Scheduled_SEResControlMode", "Scheduled_SEResControlModeType"),
            ),
        ),
    )
    message(
        m,
        "PowerDeliveryReq",
        REQ,
        "EVProcessing:ct:processingType ChargeProgress:chargeProgressType "
        "EVPowerProfile:EVPowerProfileType? BPT_ChannelSelection:channelSelectionType?",
    )
    message(m, "PowerDeliveryRes", RES, "EVSEStatus:ct:EVSEStatusType?")
    message(m, "MeteringConfirmationReq", REQ, "SignedMeteringData:SignedMeteringDataType")
    message(m, "MeteringConfirmationRes", RES)
    message(
        m,
        "SessionStopReq",
        REQ,
        "ChargingSession:chargingSessionType EVTerminationCode:ct:nameType? "
        "EVTerminationExplanation:ct:descriptionType?",
    )
    message(m, "SessionStopRes", RES)
    message(
        m,
        "CertificateInstallationReq",
        REQ,
        "OEMProvisioningCertificateChain:SignedCertificateChainType "
        "ListOfRootCertificateIDs:ct:ListOfRootCertificateIDsType "
        "MaximumContractCertificateChains:xs:unsignedByte "
        "PrioritizedEMAIDs:EMAIDListType?",
    )
    message(
        m,
        "CertificateInstallationRes",
        RES,
        "EVSEProcessing:ct:processingType CPSCertificateChain:CertificateChainType "
        "SignedInstallationData:SignedInstallationDataType "
        "RemainingContractCertificateChains:xs:unsignedByte",
    )
    message(
        m,
        "VehicleCheckInReq",
        REQ,
        "EVCheckInStatus:evCheckInStatusType ParkingMethod:parkingMethodType "
        "VehicleFrame:xs:short? DeviceOffset:xs:short? VehicleTravel:xs:short?",
    )
    message(m, "VehicleCheckInRes", RES, "ParkingSpace:xs:short? DeviceLocation:xs:short? TargetDistance:xs:short?")
    message(m, "VehicleCheckOutReq", REQ, "EVCheckOutStatus:evCheckOutStatusType CheckOutTime:xs:unsignedLong")
    message(m, "VehicleCheckOutRes", RES, "EVSECheckOutStatus:evseCheckOutStatusType")
    m.enum("authorizationType", "EIM PnC")
    m.simple("genChallengeType", "xs:base64Binary", length=16)
    m.complex(
        "PnC_ASResAuthorizationModeType",
        fields("GenChallenge:genChallengeType SupportedProviders:SupportedProvidersListType?"),
    )
    m.complex("SupportedProvidersListType", fields("ProviderID:ct:nameType{1,128}"))
    m.complex("EIM_ASResAuthorizationModeType")
    m.complex(
        "PnC_AReqAuthorizationModeType",
        fields("GenChallenge:genChallengeType ContractCertificateChain:ContractCertificateChainType"),
        attrs=[attr("Id", "xs:ID", required=True)],
    )
    m.complex("EIM_AReqAuthorizationModeType")
    m.simple("serviceIDType", "xs:unsignedShort")
    m.complex("ServiceIDListType", fields("ServiceID:serviceIDType{1,16}"))
    m.complex("ServiceType", fields("ServiceID:serviceIDType FreeService:xs:boolean"))
    m.complex("ServiceListType", fields("Service:ServiceType{1,8}"))
    m.complex("SelectedServiceType", fields("ServiceID:serviceIDType ParameterSetID:serviceIDType"))
    m.complex("SelectedServiceListType", fields("SelectedService:SelectedServiceType{1,16}"))
    m.complex(
        "ParameterType",
        choice(
            el("boolValue", "xs:boolean"),
            el("byteValue", "xs:byte"),
            el("shortValue", "xs:short"),
            el("intValue", "xs:int"),
            el("rationalNumber", "ct:RationalNumberType"),
            el("finiteString", "ct:nameType"),
        ),
        attrs=[attr("Name", "ct:nameType", required=True)],
    )
    m.complex("ParameterSetType", fields("ParameterSetID:serviceIDType Parameter:ParameterType{1,32}"))
    m.complex("ServiceParameterListType", fields("ParameterSet:ParameterSetType{1,32}"))
    m.simple("maxSupportingPointsScheduleTupleType", "xs:unsignedShort", min=12, max=1024)
    m.complex(
        "ScheduleTupleType",
        fields(
            "ScheduleTupleID:ct:numericIDType ChargingSchedule:ChargingScheduleType "
            "DischargingSchedule:ChargingScheduleType?"
        ),
    )
    m.complex(
        "ChargingScheduleType",
        seq(
            el("PowerSchedule", "PowerScheduleType"),
            choice(
                el("AbsolutePriceSchedule", "AbsolutePriceScheduleType"),
                el("PriceLevelSchedule", "PriceLevelScheduleType"),
                occ="?",
            ),
        ),
    )
    m.complex(
        "Scheduled_SEReqControlModeType",
        fields(
            "DepartureTime:xs:unsignedInt? EVTargetEnergyRequest:ct:RationalNumberType? "
            "EVMaximumEnergyRequest:ct:RationalNumberType? "
            "EVMinimumEnergyRequest:ct:RationalNumberType? EVEnergyOffer:EVEnergyOfferType?"
        ),
    )
    m.complex("Scheduled_SEResControlModeType", fields("ScheduleTuple:ScheduleTupleType{1,3}"))
    m.complex(
        "Dynamic_SEReqControlModeType",
        fields(
            "DepartureTime:xs:unsignedInt MinimumSOC:ct:percentValueType? "
            "TargetSOC:ct:percentValueType? EVTargetEnergyRequest:ct:RationalNumberType "
            "EVMaximumEnergyRequest:ct:RationalNumberType "
            "EVMinimumEnergyRequest:ct:RationalNumberType "
            "EVMaximumV2XEnergyRequest:ct:RationalNumberType? "
            "EVMinimumV2XEnergyRequest:ct:RationalNumberType?"
        ),
    )
    m.complex(
        "Dynamic_SEResControlModeType",
        seq(
            el("DepartureTime?", "xs:unsignedInt"),
            el("MinimumSOC?", "ct:percentValueType"),
            el("TargetSOC?", "ct:percentValueType"),
            choice(
                el("AbsolutePriceSchedule", "AbsolutePriceScheduleType"),
                el("PriceLevelSchedule", "PriceLevelScheduleType"),
                occ="?",
            ),
        ),
    )
    m.enum("chargeProgressType", "Start Stop Standby ScheduleRenegotiation")
    m.enum("channelSelectionType", "Charge Discharge")
    m.enum("ecdhCurveType", "SECP521 X448")
    m.simple("dhPublicKeyType", "xs:base64Binary", length=133)
    m.simple("secp521_EncryptedPrivateKeyType", "xs:base64Binary", length=94)
    m.simple("x448_EncryptedPrivateKeyType", "xs:base64Binary", length=84)
    m.simple("tpm_EncryptedPrivateKeyType", "xs:base64Binary", length=206)
    m.complex(
        "SignedInstallationDataType",
        seq(
            el("ContractCertificateChain", "ContractCertificateChainType"),
            el("ECDHCurve", "ecdhCurveType"),
            el("DHPublicKey", "dhPublicKeyType"),
            choice(
                el("SECP521_EncryptedPrivateKey", "secp521_EncryptedPrivateKeyType"),
                el("X448_EncryptedPrivateKey", "x448_EncryptedPrivateKeyType"),
                el("TPM_EncryptedPrivateKey", "tpm_EncryptedPrivateKeyType"),
            ),
        ),
        attrs=[attr("Id", "xs:ID", required=True)],
    )
    m.element("SignedInstallationData", "SignedInstallationDataType")
    m.complex(
        "SignedMeteringDataType",
        seq(
            el("SessionID", "ct:sessionIDType"),
            el("MeterInfo", "ct:MeterInfoType"),
            el("Receipt?", "ct:ReceiptType"),
            choice(
                el("Dynamic_SMDTControlMode", "Dynamic_SMDTControlModeType"),
                el("Scheduled_SMDTControlMode", "Scheduled_SMDTControlModeType"),
            ),
        ),
        attrs=[attr("Id", "xs:ID", required=True)],
    )
    m.element("SignedMeteringData", "SignedMeteringDataType")
    m.complex("Scheduled_SMDTControlModeType", fields("SelectedScheduleTupleID:ct:numericIDType"))
    m.complex("Dynamic_SMDTControlModeType")
    m.enum("chargingSessionType", "Pause Terminate ServiceRenegotiation")
    m.enum("evCheckInStatusType", "CheckIn Processing Completed")
    m.enum("evCheckOutStatusType", "CheckOut Processing Completed")
    m.enum("evseCheckOutStatusType", "Scheduled Completed")
    m.enum("parkingMethodType", "AutoParking MVGuideManual Manual")
    m.complex("TargetPositionType", fields("TargetOffsetX:xs:unsignedShort TargetOffsetY:xs:unsignedShort"))
    m.complex(
        "PowerScheduleType",
        fields(
            "TimeAnchor:xs:unsignedLong AvailableEnergy:ct:RationalNumberType? "
            "PowerTolerance:ct:RationalNumberType? "
            "PowerScheduleEntries:PowerScheduleEntryListType"
        ),
    )
    m.complex("PowerScheduleEntryListType", fields("PowerScheduleEntry:PowerScheduleEntryType{1,1024}"))
    m.complex(
        "PowerScheduleEntryType",
        fields(
            "Duration:xs:unsignedInt Power:ct:RationalNumberType "
            "Power_L2:ct:RationalNumberType? Power_L3:ct:RationalNumberType?"
        ),
    )
    m.complex(
        "PriceScheduleType",
        fields(
            "TimeAnchor:xs:unsignedLong PriceScheduleID:ct:numericIDType PriceScheduleDescription:ct:descriptionType?"
        ),
        abstract=True,
    )
    m.complex(
        "PriceLevelScheduleType",
        fields("NumberOfPriceLevels:xs:unsignedByte PriceLevelScheduleEntries:PriceLevelScheduleEntryListType"),
        base="PriceScheduleType",
        attrs=[attr("Id", "xs:ID")],
    )
    m.complex("PriceLevelScheduleEntryListType", fields("PriceLevelScheduleEntry:PriceLevelScheduleEntryType{1,1024}"))
    m.complex("PriceLevelScheduleEntryType", fields("Duration:xs:unsignedInt PriceLevel:xs:unsignedByte"))
    m.complex(
        "AbsolutePriceScheduleType",
        fields(
            "Currency:currencyType Language:languageType PriceAlgorithm:ct:identifierType "
            "MinimumCost:ct:RationalNumberType? MaximumCost:ct:RationalNumberType? "
            "TaxRules:TaxRuleListType? PriceRuleStacks:PriceRuleStackListType "
            "OverstayRules:OverstayRuleListType? "
            "AdditionalSelectedServices:AdditionalServiceListType?"
        ),
        base="PriceScheduleType",
        attrs=[attr("Id", "xs:ID")],
    )
    m.complex("TaxRuleListType", fields("TaxRule:TaxRuleType{1,10}"))
    m.complex(
        "TaxRuleType",
        fields(
            "TaxRuleID:ct:numericIDType TaxRuleName:ct:nameType? "
            "TaxRate:ct:RationalNumberType TaxIncludedInPrice:xs:boolean? "
            "AppliesToEnergyFee:xs:boolean AppliesToParkingFee:xs:boolean "
            "AppliesToOverstayFee:xs:boolean AppliesMinimumMaximumCost:xs:boolean"
        ),
    )
    m.complex("PriceRuleStackListType", fields("PriceRuleStack:PriceRuleStackType{1,1024}"))
    m.complex("PriceRuleStackType", fields("Duration:xs:unsignedInt PriceRule:PriceRuleType{1,8}"))
    m.complex(
        "PriceRuleType",
        fields(
            "EnergyFee:ct:RationalNumberType ParkingFee:ct:RationalNumberType? "
            "ParkingFeePeriod:xs:unsignedInt? CarbonDioxideEmission:xs:unsignedShort? "
            "RenewableGenerationPercentage:xs:unsignedByte? "
            "PowerRangeStart:ct:RationalNumberType"
        ),
    )
    m.complex(
        "OverstayRuleListType",
        fields(
            "OverstayTimeThreshold:xs:unsignedInt? "
            "OverstayPowerThreshold:ct:RationalNumberType? OverstayRule:OverstayRuleType{1,5}"
        ),
    )
    m.complex(
        "OverstayRuleType",
        fields(
            "OverstayRuleDescription:ct:descriptionType? StartTime:xs:unsignedInt "
            "OverstayFee:ct:RationalNumberType OverstayFeePeriod:xs:unsignedInt"
        ),
    )
    m.complex("AdditionalServiceListType", fields("AdditionalService:AdditionalServiceType{1,5}"))
    m.complex("AdditionalServiceType", fields("ServiceName:ct:nameType ServiceFee:ct:RationalNumberType"))
    m.simple("currencyType", "xs:string", max_length=3)
    m.simple("languageType", "xs:string", max_length=3)
    m.complex("EVPowerProfileEntryListType", fields("EVPowerProfileEntry:PowerScheduleEntryType{1,2048}"))
    m.complex(
        "EVPowerProfileType",
        seq(
            el("TimeAnchor", "xs:unsignedLong"),
            choice(
                el("Dynamic_EVPPTControlMode", "Dynamic_EVPPTControlModeType"),
                el("Scheduled_EVPPTControlMode", "Scheduled_EVPPTControlModeType"),
            ),
            el("EVPowerProfileEntries", "EVPowerProfileEntryListType"),
        ),
    )
    m.complex(
        "Scheduled_EVPPTControlModeType",
        fields("SelectedScheduleTupleID:ct:numericIDType PowerToleranceAcceptance:powerToleranceAcceptanceType?"),
    )
    m.enum("powerToleranceAcceptanceType", "PowerToleranceNotConfirmed PowerToleranceConfirmed")
    m.complex("Dynamic_EVPPTControlModeType")
    m.complex(
        "EVEnergyOfferType",
        fields("EVPowerSchedule:EVPowerScheduleType EVAbsolutePriceSchedule:EVAbsolutePriceScheduleType"),
    )
    m.complex(
        "EVPowerScheduleType", fields("TimeAnchor:xs:unsignedLong EVPowerScheduleEntries:EVPowerScheduleEntryListType")
    )
    m.complex("EVPowerScheduleEntryListType", fields("EVPowerScheduleEntry:EVPowerScheduleEntryType{1,1024}"))
    m.complex("EVPowerScheduleEntryType", fields("Duration:xs:unsignedInt Power:ct:RationalNumberType"))
    m.complex(
        "EVAbsolutePriceScheduleType",
        fields(
            "TimeAnchor:xs:unsignedLong Currency:currencyType "
            "PriceAlgorithm:ct:identifierType EVPriceRuleStacks:EVPriceRuleStackListType"
        ),
    )
    m.complex("EVPriceRuleStackListType", fields("EVPriceRuleStack:EVPriceRuleStackType{1,1024}"))
    m.complex("EVPriceRuleStackType", fields("Duration:xs:unsignedInt EVPriceRule:EVPriceRuleType{1,8}"))
    m.complex("EVPriceRuleType", fields("EnergyFee:ct:RationalNumberType PowerRangeStart:ct:RationalNumberType"))
    m.simple("certificateType", "xs:base64Binary", max_length=1600)
    m.complex("EMAIDListType", fields("EMAID:ct:identifierType{1,8}"))
    m.complex("SubCertificatesType", fields("Certificate:certificateType{1,3}"))
    m.complex("CertificateChainType", fields("Certificate:certificateType SubCertificates:SubCertificatesType?"))
    m.complex(
        "SignedCertificateChainType",
        fields("Certificate:certificateType SubCertificates:SubCertificatesType?"),
        attrs=[attr("Id", "xs:ID", required=True)],
    )
    m.complex("ContractCertificateChainType", fields("Certificate:certificateType SubCertificates:SubCertificatesType"))
    return m
