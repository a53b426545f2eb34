"""ISO 15118-20 WPT (namespace urn:iso:std:iso:15118:-20:WPT).

It describes the WPT (wireless power transfer) messages: fine positioning, pairing, alignment check,
charge parameter discovery and charge loop.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-wpt``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, choice, el, fields, seq
from v2g.exi.schemas.iso20_types import REQ, RES, WPT, message, namespace_module

NS = WPT


def module() -> Module:
    m = namespace_module(NS)
    message(
        m,
        "WPT_FinePositioningSetupReq",
        REQ,
        "EVProcessing:ct:processingType "
        "EVDeviceFinePositioningMethodList:WPT_FinePositioningMethodListType "
        "EVDevicePairingMethodList:WPT_PairingMethodListType "
        "EVDeviceAlignmentCheckMethodList:WPT_AlignmentCheckMethodListType "
        "NaturalOffset:xs:unsignedShort "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16} "
        "LF_SystemSetupData:WPT_LF_SystemSetupDataType?",
    )
    message(
        m,
        "WPT_FinePositioningSetupRes",
        RES,
        "PrimaryDeviceFinePositioningMethodList:WPT_FinePositioningMethodListType "
        "PrimaryDevicePairingMethodList:WPT_PairingMethodListType "
        "PrimaryDeviceAlignmentCheckMethodList:WPT_AlignmentCheckMethodListType "
        "NaturalOffset:xs:unsignedShort "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16} "
        "LF_SystemSetupData:WPT_LF_SystemSetupDataType?",
    )
    message(
        m,
        "WPT_FinePositioningReq",
        REQ,
        "EVProcessing:ct:processingType EVResultCode:WPT_EVResultType "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16} "
        "WPT_LF_DataPackageList:WPT_LF_DataPackageListType?",
    )
    message(
        m,
        "WPT_FinePositioningRes",
        RES,
        "EVSEProcessing:ct:processingType "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16} "
        "WPT_LF_DataPackageList:WPT_LF_DataPackageListType?",
    )
    message(
        m,
        "WPT_PairingReq",
        REQ,
        "EVProcessing:ct:processingType ObservedIDCode:ct:numericIDType? "
        "EVResultCode:WPT_EVResultType "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_PairingRes",
        RES,
        "EVSEProcessing:ct:processingType ObservedIDCode:ct:numericIDType? "
        "AlternativeSECCList:AlternativeSECCListType? "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_ChargeParameterDiscoveryReq",
        "ct:ChargeParameterDiscoveryReqType",
        "EVPCMaxReceivablePower:ct:RationalNumberType "
        "SDMaxGroundClearence:xs:unsignedShort SDMinGroundClearence:xs:unsignedShort "
        "EVPCNaturalFrequency:ct:RationalNumberType EVPCDeviceLocalControl:xs:boolean "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_ChargeParameterDiscoveryRes",
        "ct:ChargeParameterDiscoveryResType",
        "PDInputPowerClass:WPT_PowerClassType SDMinOutputPower:ct:RationalNumberType "
        "SDMaxOutputPower:ct:RationalNumberType "
        "SDMaxGroundClearanceSupport:xs:unsignedShort "
        "SDMinGroundClearanceSupport:xs:unsignedShort "
        "PDMinCoilCurrent:ct:RationalNumberType PDMaxCoilCurrent:ct:RationalNumberType "
        "SDManufacturerSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_AlignmentCheckReq",
        REQ,
        "EVProcessing:ct:processingType TargetCoilCurrent:ct:RationalNumberType? "
        "EVResultCode:WPT_EVResultType "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_AlignmentCheckRes",
        RES,
        "EVSEProcessing:ct:processingType PowerTransmitted:ct:RationalNumberType? "
        "SupplyDeviceCurrent:ct:RationalNumberType? "
        "VendorSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_ChargeLoopReq",
        "ct:ChargeLoopReqType",
        "EVPCPowerRequest:ct:RationalNumberType EVPCPowerOutput:ct:RationalNumberType "
        "EVPCChargeDiagnostics:WPT_EVPCChargeDiagnosticsType "
        "EVPCOperatingFrequency:ct:RationalNumberType? "
        "EVPCPowerControlParameter:WPT_EVPCPowerControlParameterType? "
        "ManufacturerSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    message(
        m,
        "WPT_ChargeLoopRes",
        "ct:ChargeLoopResType",
        "EVPCPowerRequest:ct:RationalNumberType SDPowerInput:ct:RationalNumberType? "
        "SPCMaxOutputPowerLimit:ct:RationalNumberType "
        "SPCMinOutputPowerLimit:ct:RationalNumberType "
        "SPCChargeDiagnostics:WPT_SPCChargeDiagnosticsType "
        "SPCOperatingFrequency:ct:RationalNumberType? "
        "SPCPowerControlParameter:WPT_SPCPowerControlParameterType? "
        "ManufacturerSpecificDataContainer:WPT_DataContainerType{0,16}",
    )
    m.enum("WPT_FinePositioningMethodType", "Manual LF_TxEV LF_TxPrimaryDevice LPE Proprietary")
    m.complex(
        "WPT_FinePositioningMethodListType", fields("WPT_FinePositioningMethod:WPT_FinePositioningMethodType{1,8}")
    )
    # one value holds a space ("External confirmation"), so the values are a tuple
    m.enum(
        "WPT_PairingMethodType",
        ("External confirmation", "LPE", "LF_TxEV", "LF_TxPrimaryDevice", "Optical", "Proprietary"),
    )
    m.complex("WPT_PairingMethodListType", fields("WPT_PairingMethod:WPT_PairingMethodType{1,8}"))
    m.enum("WPT_AlignmentCheckMethodType", "PowerCheck LPE Proprietary")
    m.complex("WPT_AlignmentCheckMethodListType", fields("WPT_AlignmentCheckMethod:WPT_AlignmentCheckMethodType{1,8}"))
    m.enum(
        "WPT_EVPCChargeDiagnosticsType",
        "EVPCNoIssue EVPCTempOverheatDetected EVPCPowerTransferAnomalyDetected EVPCAnomalyDetected",
    )
    m.enum(
        "WPT_SPCChargeDiagnosticsType",
        "SPCNoIssue SPCFODDetected SPCLOPDetected SPCTempOverheatDetected "
        "SPCPowerTransferAnomalyDetected SPCAnomalyDetected",
    )
    m.enum("WPT_PowerClassType", "MF-WPT1 MF-WPT2 MF-WPT3 MF-WPT4")
    m.enum("WPT_EVResultType", "EVResultUnknown EVResultSuccess EVResultFailed")
    m.complex(
        "WPT_EVPCPowerControlParameterType",
        fields(
            "EVPCCoilCurrentRequest:ct:RationalNumberType "
            "EVPCCoilCurrentInformation:ct:RationalNumberType "
            "EVPCCurrentOutputInformation:ct:RationalNumberType "
            "EVPCVoltageOutputInformation:ct:RationalNumberType"
        ),
    )
    m.complex(
        "WPT_SPCPowerControlParameterType", fields("SPCPrimaryDeviceCoilCurrentInformation:ct:RationalNumberType")
    )
    m.complex(
        "WPT_LF_SystemSetupDataType",
        seq(
            choice(
                el("LF_TransmitterSetupData", "WPT_LF_TransmitterDataType"),
                el("LF_ReceiverSetupData", "WPT_LF_ReceiverDataType"),
            )
        ),
    )
    m.complex(
        "WPT_LF_TransmitterDataType",
        fields(
            "NumberOfTransmitters:xs:unsignedByte SignalFrequency:ct:RationalNumberType "
            "TxSpecData:WPT_TxRxSpecDataType{2,255} "
            "TxPackageSpecData:WPT_TxRxPackageSpecDataType?"
        ),
    )
    m.complex(
        "WPT_LF_ReceiverDataType", fields("NumberOfReceivers:xs:unsignedByte RxSpecData:WPT_TxRxSpecDataType{2,255}")
    )
    m.complex(
        "WPT_TxRxSpecDataType",
        fields(
            "TxRxIdentifier:ct:numericIDType TxRxPosition:WPT_CoordinateXYZType TxRxOrientation:WPT_CoordinateXYZType"
        ),
    )
    m.complex("WPT_CoordinateXYZType", fields("Coord_X:xs:short Coord_Y:xs:short Coord_Z:xs:short"))
    m.complex(
        "WPT_TxRxPackageSpecDataType",
        fields(
            "PulseSequenceOrder:WPT_TxRxPulseOrderType{2,255} "
            "PulseSeparationTime:xs:unsignedShort PulseDuration:xs:unsignedShort "
            "PackageSeparationTime:xs:unsignedShort"
        ),
    )
    m.complex("WPT_TxRxPulseOrderType", fields("IndexNumber:xs:unsignedShort TxRxIdentifier:ct:numericIDType"))
    m.complex("WPT_LF_TxDataListType", fields("WPT_LF_TxDataList:WPT_LF_TxDataType"))
    m.complex("WPT_LF_TxDataType", fields("TxIdentifier:ct:numericIDType EIRP:ct:RationalNumberType"))
    m.complex("WPT_LF_RxDataListType", fields("WPT_LF_RxDataList:WPT_LF_RxDataType"))
    m.complex("WPT_LF_RxDataType", fields("RxIdentifier:ct:numericIDType RSSIData:WPT_LF_RxRSSIListType"))
    m.complex("WPT_LF_RxRSSIListType", fields("RSSIDataList:WPT_LF_RxRSSIType"))
    m.complex("WPT_LF_RxRSSIType", fields("TxIdentifier:ct:numericIDType RSSI:ct:RationalNumberType"))
    m.complex(
        "WPT_LF_DataPackageListType", fields("NumPackages:xs:unsignedByte WPT_LF_DataPackage:WPT_LF_DataPackageType")
    )
    m.complex(
        "WPT_LF_DataPackageType",
        seq(
            el("PackageIndex", "xs:unsignedByte"),
            choice(el("LF_TxData", "WPT_LF_TxDataListType"), el("LF_RxData", "WPT_LF_RxDataListType")),
        ),
    )
    m.complex("AlternativeSECCListType", fields("AlternativeSECC:AlternativeSECCType{1,8}"))
    m.complex(
        "AlternativeSECCType",
        fields("SSID:ct:identifierType? BSSID:bssidType? IPAddress:ipaddressType? Port:xs:unsignedShort?"),
    )
    m.simple("bssidType", "xs:string", max_length=12)
    m.simple("ipaddressType", "xs:string", max_length=39)
    m.simple("WPT_DataContainerType", "xs:base64Binary", max_length=256)
    return m
