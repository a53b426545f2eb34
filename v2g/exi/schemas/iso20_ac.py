"""ISO 15118-20 AC (namespace urn:iso:std:iso:15118:-20:AC).

It describes the AC messages (charge parameter discovery, charge loop) with their BPT and
scheduled/dynamic control modes.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-ac``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, fields
from v2g.exi.schemas.iso20_types import AC, message, namespace_module

NS = AC


def module() -> Module:
    m = namespace_module(NS)
    message(m, "AC_ChargeParameterDiscoveryReq", "ct:ChargeParameterDiscoveryReqType", "@AC_CPDReqEnergyTransferMode")
    message(m, "AC_ChargeParameterDiscoveryRes", "ct:ChargeParameterDiscoveryResType", "@AC_CPDResEnergyTransferMode")
    message(m, "AC_ChargeLoopReq", "ct:ChargeLoopReqType", "@ct:CLReqControlMode")
    message(
        m, "AC_ChargeLoopRes", "ct:ChargeLoopResType", "EVSETargetFrequency:ct:RationalNumberType? @ct:CLResControlMode"
    )
    m.element("AC_CPDReqEnergyTransferMode", "AC_CPDReqEnergyTransferModeType")
    m.complex(
        "AC_CPDReqEnergyTransferModeType",
        fields(
            "EVMaximumChargePower:ct:RationalNumberType "
            "EVMaximumChargePower_L2:ct:RationalNumberType? "
            "EVMaximumChargePower_L3:ct:RationalNumberType? "
            "EVMinimumChargePower:ct:RationalNumberType "
            "EVMinimumChargePower_L2:ct:RationalNumberType? "
            "EVMinimumChargePower_L3:ct:RationalNumberType?"
        ),
    )
    m.element("AC_CPDResEnergyTransferMode", "AC_CPDResEnergyTransferModeType")
    m.complex(
        "AC_CPDResEnergyTransferModeType",
        fields(
            "EVSEMaximumChargePower:ct:RationalNumberType "
            "EVSEMaximumChargePower_L2:ct:RationalNumberType? "
            "EVSEMaximumChargePower_L3:ct:RationalNumberType? "
            "EVSEMinimumChargePower:ct:RationalNumberType "
            "EVSEMinimumChargePower_L2:ct:RationalNumberType? "
            "EVSEMinimumChargePower_L3:ct:RationalNumberType? "
            "EVSENominalFrequency:ct:RationalNumberType "
            "MaximumPowerAsymmetry:ct:RationalNumberType? "
            "EVSEPowerRampLimitation:ct:RationalNumberType? "
            "EVSEPresentActivePower:ct:RationalNumberType? "
            "EVSEPresentActivePower_L2:ct:RationalNumberType? "
            "EVSEPresentActivePower_L3:ct:RationalNumberType?"
        ),
    )
    m.element(
        "BPT_AC_CPDReqEnergyTransferMode", "BPT_AC_CPDReqEnergyTransferModeType", subst="AC_CPDReqEnergyTransferMode"
    )
    m.complex(
        "BPT_AC_CPDReqEnergyTransferModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType "
            "EVMaximumDischargePower_L2:ct:RationalNumberType? "
            "EVMaximumDischargePower_L3:ct:RationalNumberType? "
            "EVMinimumDischargePower:ct:RationalNumberType "
            "EVMinimumDischargePower_L2:ct:RationalNumberType? "
            "EVMinimumDischargePower_L3:ct:RationalNumberType?"
        ),
        base="AC_CPDReqEnergyTransferModeType",
    )
    m.element(
        "BPT_AC_CPDResEnergyTransferMode", "BPT_AC_CPDResEnergyTransferModeType", subst="AC_CPDResEnergyTransferMode"
    )
    m.complex(
        "BPT_AC_CPDResEnergyTransferModeType",
        fields(
            "EVSEMaximumDischargePower:ct:RationalNumberType "
            "EVSEMaximumDischargePower_L2:ct:RationalNumberType? "
            "EVSEMaximumDischargePower_L3:ct:RationalNumberType? "
            "EVSEMinimumDischargePower:ct:RationalNumberType "
            "EVSEMinimumDischargePower_L2:ct:RationalNumberType? "
            "EVSEMinimumDischargePower_L3:ct:RationalNumberType?"
        ),
        base="AC_CPDResEnergyTransferModeType",
    )
    m.element("Scheduled_AC_CLReqControlMode", "Scheduled_AC_CLReqControlModeType", subst="ct:CLReqControlMode")
    m.complex(
        "Scheduled_AC_CLReqControlModeType",
        fields(
            "EVMaximumChargePower:ct:RationalNumberType? "
            "EVMaximumChargePower_L2:ct:RationalNumberType? "
            "EVMaximumChargePower_L3:ct:RationalNumberType? "
            "EVMinimumChargePower:ct:RationalNumberType? "
            "EVMinimumChargePower_L2:ct:RationalNumberType? "
            "EVMinimumChargePower_L3:ct:RationalNumberType? "
            "EVPresentActivePower:ct:RationalNumberType "
            "EVPresentActivePower_L2:ct:RationalNumberType? "
            "EVPresentActivePower_L3:ct:RationalNumberType? "
            "EVPresentReactivePower:ct:RationalNumberType? "
            "EVPresentReactivePower_L2:ct:RationalNumberType? "
            "EVPresentReactivePower_L3:ct:RationalNumberType?"
        ),
        base="ct:Scheduled_CLReqControlModeType",
    )
    m.element("Scheduled_AC_CLResControlMode", "Scheduled_AC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Scheduled_AC_CLResControlModeType",
        fields(
            "EVSETargetActivePower:ct:RationalNumberType? "
            "EVSETargetActivePower_L2:ct:RationalNumberType? "
            "EVSETargetActivePower_L3:ct:RationalNumberType? "
            "EVSETargetReactivePower:ct:RationalNumberType? "
            "EVSETargetReactivePower_L2:ct:RationalNumberType? "
            "EVSETargetReactivePower_L3:ct:RationalNumberType? "
            "EVSEPresentActivePower:ct:RationalNumberType? "
            "EVSEPresentActivePower_L2:ct:RationalNumberType? "
            "EVSEPresentActivePower_L3:ct:RationalNumberType?"
        ),
        base="ct:Scheduled_CLResControlModeType",
    )
    m.element(
        "BPT_Scheduled_AC_CLReqControlMode",
        "BPT_Scheduled_AC_CLReqControlModeType",
        subst="Scheduled_AC_CLReqControlMode",
    )
    m.complex(
        "BPT_Scheduled_AC_CLReqControlModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType? "
            "EVMaximumDischargePower_L2:ct:RationalNumberType? "
            "EVMaximumDischargePower_L3:ct:RationalNumberType? "
            "EVMinimumDischargePower:ct:RationalNumberType? "
            "EVMinimumDischargePower_L2:ct:RationalNumberType? "
            "EVMinimumDischargePower_L3:ct:RationalNumberType?"
        ),
        base="Scheduled_AC_CLReqControlModeType",
    )
    m.element(
        "BPT_Scheduled_AC_CLResControlMode",
        "BPT_Scheduled_AC_CLResControlModeType",
        subst="Scheduled_AC_CLResControlMode",
    )
    m.complex("BPT_Scheduled_AC_CLResControlModeType", base="Scheduled_AC_CLResControlModeType")
    m.element("Dynamic_AC_CLReqControlMode", "Dynamic_AC_CLReqControlModeType", subst="ct:CLReqControlMode")
    m.complex(
        "Dynamic_AC_CLReqControlModeType",
        fields(
            "EVMaximumChargePower:ct:RationalNumberType "
            "EVMaximumChargePower_L2:ct:RationalNumberType? "
            "EVMaximumChargePower_L3:ct:RationalNumberType? "
            "EVMinimumChargePower:ct:RationalNumberType "
            "EVMinimumChargePower_L2:ct:RationalNumberType? "
            "EVMinimumChargePower_L3:ct:RationalNumberType? "
            "EVPresentActivePower:ct:RationalNumberType "
            "EVPresentActivePower_L2:ct:RationalNumberType? "
            "EVPresentActivePower_L3:ct:RationalNumberType? "
            "EVPresentReactivePower:ct:RationalNumberType "
            "EVPresentReactivePower_L2:ct:RationalNumberType? "
            "EVPresentReactivePower_L3:ct:RationalNumberType?"
        ),
        base="ct:Dynamic_CLReqControlModeType",
    )
    m.element("Dynamic_AC_CLResControlMode", "Dynamic_AC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Dynamic_AC_CLResControlModeType",
        fields(
            "EVSETargetActivePower:ct:RationalNumberType "
            "EVSETargetActivePower_L2:ct:RationalNumberType? "
            "EVSETargetActivePower_L3:ct:RationalNumberType? "
            "EVSETargetReactivePower:ct:RationalNumberType? "
            "EVSETargetReactivePower_L2:ct:RationalNumberType? "
            "EVSETargetReactivePower_L3:ct:RationalNumberType? "
            "EVSEPresentActivePower:ct:RationalNumberType? "
            "EVSEPresentActivePower_L2:ct:RationalNumberType? "
            "EVSEPresentActivePower_L3:ct:RationalNumberType?"
        ),
        base="ct:Dynamic_CLResControlModeType",
    )
    m.element(
        "BPT_Dynamic_AC_CLReqControlMode", "BPT_Dynamic_AC_CLReqControlModeType", subst="Dynamic_AC_CLReqControlMode"
    )
    m.complex(
        "BPT_Dynamic_AC_CLReqControlModeType",
        fields(
            "EVMaximumDischargePower:ct:RationalNumberType "
            "EVMaximumDischargePower_L2:ct:RationalNumberType? "
            "EVMaximumDischargePower_L3:ct:RationalNumberType? "
            "EVMinimumDischargePower:ct:RationalNumberType "
            "EVMinimumDischargePower_L2:ct:RationalNumberType? "
            "EVMinimumDischargePower_L3:ct:RationalNumberType? "
            "EVMaximumV2XEnergyRequest:ct:RationalNumberType? "
            "EVMinimumV2XEnergyRequest:ct:RationalNumberType?"
        ),
        base="Dynamic_AC_CLReqControlModeType",
    )
    m.element(
        "BPT_Dynamic_AC_CLResControlMode", "BPT_Dynamic_AC_CLResControlModeType", subst="Dynamic_AC_CLResControlMode"
    )
    m.complex("BPT_Dynamic_AC_CLResControlModeType", base="Dynamic_AC_CLResControlModeType")
    return m
