"""ISO 15118-20 DC (namespace urn:iso:std:iso:15118:-20:DC).

It describes the DC messages (charge parameter discovery, cable check, pre-charge, charge loop,
welding detection) with their BPT (bidirectional) and scheduled/dynamic control modes.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-dc``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, fields
from v2g.exi.schemas.iso20_types import DC, REQ, RES, message, namespace_module

NS = DC


def module() -> Module:
    m = namespace_module(NS)
    message(m, "DC_ChargeParameterDiscoveryReq", "ct:ChargeParameterDiscoveryReqType", "@DC_CPDReqEnergyTransferMode")
    message(m, "DC_ChargeParameterDiscoveryRes", "ct:ChargeParameterDiscoveryResType", "@DC_CPDResEnergyTransferMode")
    message(m, "DC_CableCheckReq", REQ)
    message(m, "DC_CableCheckRes", RES, "EVSEProcessing:ct:processingType")
    message(
        m,
        "DC_PreChargeReq",
        REQ,
        "EVProcessing:ct:processingType EVPresentVoltage:ct:RationalNumberType EVTargetVoltage:ct:RationalNumberType",
    )
    message(m, "DC_PreChargeRes", RES, "EVSEPresentVoltage:ct:RationalNumberType")
    message(
        m, "DC_ChargeLoopReq", "ct:ChargeLoopReqType", "EVPresentVoltage:ct:RationalNumberType @ct:CLReqControlMode"
    )
    message(
        m,
        "DC_ChargeLoopRes",
        "ct:ChargeLoopResType",
        "EVSEPresentCurrent:ct:RationalNumberType "
        "EVSEPresentVoltage:ct:RationalNumberType EVSEPowerLimitAchieved:xs:boolean "
        "EVSECurrentLimitAchieved:xs:boolean EVSEVoltageLimitAchieved:xs:boolean "
        "@ct:CLResControlMode",
    )
    message(m, "DC_WeldingDetectionReq", REQ, "EVProcessing:ct:processingType")
    message(m, "DC_WeldingDetectionRes", RES, "EVSEPresentVoltage:ct:RationalNumberType")
    m.element("DC_CPDReqEnergyTransferMode", "DC_CPDReqEnergyTransferModeType")
    m.complex(
        "DC_CPDReqEnergyTransferModeType",
        fields(
            "EVMaximumChargePower:ct:RationalNumberType "
            "EVMinimumChargePower:ct:RationalNumberType "
            "EVMaximumChargeCurrent:ct:RationalNumberType "
            "EVMinimumChargeCurrent:ct:RationalNumberType "
            "EVMaximumVoltage:ct:RationalNumberType EVMinimumVoltage:ct:RationalNumberType "
            "TargetSOC:ct:percentValueType?"
        ),
    )
    m.element("DC_CPDResEnergyTransferMode", "DC_CPDResEnergyTransferModeType")
    m.complex(
        "DC_CPDResEnergyTransferModeType",
        fields(
            "EVSEMaximumChargePower:ct:RationalNumberType "
            "EVSEMinimumChargePower:ct:RationalNumberType "
            "EVSEMaximumChargeCurrent:ct:RationalNumberType "
            "EVSEMinimumChargeCurrent:ct:RationalNumberType "
            "EVSEMaximumVoltage:ct:RationalNumberType "
            "EVSEMinimumVoltage:ct:RationalNumberType "
            "EVSEPowerRampLimitation:ct:RationalNumberType?"
        ),
    )
    m.element(
        "BPT_DC_CPDReqEnergyTransferMode", "BPT_DC_CPDReqEnergyTransferModeType", subst="DC_CPDReqEnergyTransferMode"
    )
    m.complex(
        "BPT_DC_CPDReqEnergyTransferModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType "
            "EVMinimumDischargePower:ct:RationalNumberType "
            "EVMaximumDischargeCurrent:ct:RationalNumberType "
            "EVMinimumDischargeCurrent:ct:RationalNumberType"
        ),
        base="DC_CPDReqEnergyTransferModeType",
    )
    m.element(
        "BPT_DC_CPDResEnergyTransferMode", "BPT_DC_CPDResEnergyTransferModeType", subst="DC_CPDResEnergyTransferMode"
    )
    m.complex(
        "BPT_DC_CPDResEnergyTransferModeType",
        fields(
            "EVSEMaximumDischargePower:ct:RationalNumberType "
            "EVSEMinimumDischargePower:ct:RationalNumberType "
            "EVSEMaximumDischargeCurrent:ct:RationalNumberType "
            "EVSEMinimumDischargeCurrent:ct:RationalNumberType"
        ),
        base="DC_CPDResEnergyTransferModeType",
    )
    m.element("Scheduled_DC_CLReqControlMode", "Scheduled_DC_CLReqControlModeType", subst="ct:CLReqControlMode")
    m.complex(
        "Scheduled_DC_CLReqControlModeType",
        fields(
            "EVTargetCurrent:ct:RationalNumberType EVTargetVoltage:ct:RationalNumberType "
            "EVMaximumChargePower:ct:RationalNumberType? "
            "EVMinimumChargePower:ct:RationalNumberType? "
            "EVMaximumChargeCurrent:ct:RationalNumberType? "
            "EVMaximumVoltage:ct:RationalNumberType? EVMinimumVoltage:ct:RationalNumberType?"
        ),
        base="ct:Scheduled_CLReqControlModeType",
    )
    m.element("Scheduled_DC_CLResControlMode", "Scheduled_DC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Scheduled_DC_CLResControlModeType",
        fields(
            "EVSEMaximumChargePower:ct:RationalNumberType? "
            "EVSEMinimumChargePower:ct:RationalNumberType? "
            "EVSEMaximumChargeCurrent:ct:RationalNumberType? "
            "EVSEMaximumVoltage:ct:RationalNumberType?"
        ),
        base="ct:Scheduled_CLResControlModeType",
    )
    m.element(
        "BPT_Scheduled_DC_CLReqControlMode",
        "BPT_Scheduled_DC_CLReqControlModeType",
        subst="Scheduled_DC_CLReqControlMode",
    )
    m.complex(
        "BPT_Scheduled_DC_CLReqControlModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType? "
            "EVMinimumDischargePower:ct:RationalNumberType? "
            "EVMaximumDischargeCurrent:ct:RationalNumberType?"
        ),
        base="Scheduled_DC_CLReqControlModeType",
    )
    m.element(
        "BPT_Scheduled_DC_CLResControlMode",
        "BPT_Scheduled_DC_CLResControlModeType",
        subst="Scheduled_DC_CLResControlMode",
    )
    m.complex(
        "BPT_Scheduled_DC_CLResControlModeType",
        fields(
            "EVSEMaximumDischargePower:ct:RationalNumberType? "
            "EVSEMinimumDischargePower:ct:RationalNumberType? "
            "EVSEMaximumDischargeCurrent:ct:RationalNumberType? "
            "EVSEMinimumVoltage:ct:RationalNumberType?"
        ),
        base="Scheduled_DC_CLResControlModeType",
    )
    m.element("Dynamic_DC_CLReqControlMode", "Dynamic_DC_CLReqControlModeType", subst="ct:CLReqControlMode")
    m.complex(
        "Dynamic_DC_CLReqControlModeType",
        fields(
            "EVMaximumChargePower:ct:RationalNumberType "
            "EVMinimumChargePower:ct:RationalNumberType "
            "EVMaximumChargeCurrent:ct:RationalNumberType "
            "EVMaximumVoltage:ct:RationalNumberType EVMinimumVoltage:ct:RationalNumberType"
        ),
        base="ct:Dynamic_CLReqControlModeType",
    )
    m.element("Dynamic_DC_CLResControlMode", "Dynamic_DC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Dynamic_DC_CLResControlModeType",
        fields(
            "EVSEMaximumChargePower:ct:RationalNumberType "
            "EVSEMinimumChargePower:ct:RationalNumberType "
            "EVSEMaximumChargeCurrent:ct:RationalNumberType "
            "EVSEMaximumVoltage:ct:RationalNumberType"
        ),
        base="ct:Dynamic_CLResControlModeType",
    )
    m.element(
        "BPT_Dynamic_DC_CLReqControlMode", "BPT_Dynamic_DC_CLReqControlModeType", subst="Dynamic_DC_CLReqControlMode"
    )
    m.complex(
        "BPT_Dynamic_DC_CLReqControlModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType "
            "EVMinimumDischargePower:ct:RationalNumberType "
            "EVMaximumDischargeCurrent:ct:RationalNumberType "
            "EVMaximumV2XEnergyRequest:ct:RationalNumberType? "
            "EVMinimumV2XEnergyRequest:ct:RationalNumberType?"
        ),
        base="Dynamic_DC_CLReqControlModeType",
    )
    m.element(
        "BPT_Dynamic_DC_CLResControlMode", "BPT_Dynamic_DC_CLResControlModeType", subst="Dynamic_DC_CLResControlMode"
    )
    m.complex(
        "BPT_Dynamic_DC_CLResControlModeType",
        fields(
            "EVSEMaximumDischargePower:ct:RationalNumberType "
            "EVSEMinimumDischargePower:ct:RationalNumberType "
            "EVSEMaximumDischargeCurrent:ct:RationalNumberType "
            "EVSEMinimumVoltage:ct:RationalNumberType"
        ),
        base="Dynamic_DC_CLResControlModeType",
    )
    return m
