"""ISO 15118-20 ACDP (namespace urn:iso:std:iso:15118:-20:ACDP).

It describes the ACDP (automated connection device, pantograph) messages: vehicle positioning,
connect/disconnect, system status, and the dynamic control modes of the charge loop.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-acdp``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, fields
from v2g.exi.schemas.iso20_types import ACDP, REQ, RES, message, namespace_module

NS = ACDP


def module() -> Module:
    m = namespace_module(NS)
    message(m, "ACDP_VehiclePositioningReq", REQ, "EVMobilityStatus:xs:boolean EVPositioningSupport:xs:boolean")
    message(
        m,
        "ACDP_VehiclePositioningRes",
        RES,
        "EVSEProcessing:ct:processingType EVSEPositioningSupport:xs:boolean "
        "EVRelativeXDeviation:xs:short EVRelativeYDeviation:xs:short "
        "ContactWindowXc:xs:short ContactWindowYc:xs:short EVInChargePosition:xs:boolean",
    )
    message(m, "ACDP_ConnectReq", REQ, "EVElectricalChargingDeviceStatus:electricalChargingDeviceStatusType")
    message(
        m,
        "ACDP_ConnectRes",
        RES,
        "EVSEProcessing:ct:processingType "
        "EVSEElectricalChargingDeviceStatus:electricalChargingDeviceStatusType "
        "EVSEMechanicalChargingDeviceStatus:mechanicalChargingDeviceStatusType",
    )
    m.element("ACDP_DisconnectReq", "ACDP_ConnectReqType")
    m.element("ACDP_DisconnectRes", "ACDP_ConnectResType")
    message(m, "ACDP_SystemStatusReq", REQ, "EVTechnicalStatus:EVTechnicalStatusType")
    message(
        m,
        "ACDP_SystemStatusRes",
        RES,
        "EVSEMechanicalChargingDeviceStatus:mechanicalChargingDeviceStatusType "
        "EVSEReadyToCharge:xs:boolean EVSEIsolationStatus:isolationStatusType "
        "EVSEDisabled:xs:boolean EVSEUtilityInterruptEvent:xs:boolean "
        "EVSEEmergencyShutdown:xs:boolean EVSEMalfunction:xs:boolean "
        "EVInChargePosition:xs:boolean EVAssociationStatus:xs:boolean",
    )
    m.enum("cpStatusType", "StateA StateB StateC StateD StateE")
    m.enum(
        "errorCodeType",
        "OK_NoEVError FAILED FAILED_EmergencyEvent FAILED_Breaker "
        "FAILED_RESSTemperatureInhibit FAILED_RESS FAILED_ChargingCurrentDifferential "
        "FAILED_ChargingVoltageOutOfRange FAILED_Reserved1 FAILED_Reserved2",
    )
    m.enum("isolationStatusType", "Invalid Safe Warning Fault")
    m.enum("electricalChargingDeviceStatusType", "State_A State_B State_C State_D")
    m.enum("mechanicalChargingDeviceStatusType", "Home Moving EndPosition")
    m.complex(
        "EVTechnicalStatusType",
        fields(
            "EVReadyToCharge:xs:boolean EVImmobilizationRequest:xs:boolean "
            "EVImmobilized:xs:boolean? EVWLANStrength:ct:RationalNumberType? "
            "EVCPStatus:cpStatusType? EVSOC:ct:percentValueType? EVErrorCode:errorCodeType? "
            "EVTimeout:xs:boolean?"
        ),
    )
    return m
