"""ISO 15118-20 AC (namespace urn:iso:std:iso:15118:-20:AC).

It describes the AC messages (charge parameter discovery, charge loop) with their BPT and
scheduled/dynamic control modes.

A -20 message is an EXI document whose root is the message element itself; this namespace has
its own grammar (schema set ``iso20-ac``: this module, CommonTypes, xmldsig-core).
"""

from __future__ import annotations

from v2g.exi.model import Module, _GroupSpec, fields
from v2g.exi.schemas.iso20_types import AC, message, namespace_module

NS = AC


def _phased(line: str) -> _GroupSpec:
    """``fields`` where ``Name~`` (or ``Name~?``) is a rational number per phase: Name, then
    Name_L2? and Name_L3?, the second and third phases being optional in every AC type."""
    tokens = []
    for token in line.split():
        name, tilde, occ = token.partition("~")
        if tilde:
            tokens += [
                f"{name}:ct:RationalNumberType{occ}",
                f"{name}_L2:ct:RationalNumberType?",
                f"{name}_L3:ct:RationalNumberType?",
            ]
        else:
            tokens.append(token)
    return fields(" ".join(tokens))


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
        _phased("EVMaximumChargePower~ EVMinimumChargePower~"),
    )
    m.element("AC_CPDResEnergyTransferMode", "AC_CPDResEnergyTransferModeType")
    m.complex(
        "AC_CPDResEnergyTransferModeType",
        _phased(
            "EVSEMaximumChargePower~ EVSEMinimumChargePower~ EVSENominalFrequency:ct:RationalNumberType "
            "MaximumPowerAsymmetry:ct:RationalNumberType? "
            "EVSEPowerRampLimitation:ct:RationalNumberType? EVSEPresentActivePower~?"
        ),
    )
    m.element(
        "BPT_AC_CPDReqEnergyTransferMode", "BPT_AC_CPDReqEnergyTransferModeType", subst="AC_CPDReqEnergyTransferMode"
    )
    m.complex(
        "BPT_AC_CPDReqEnergyTransferModeType",
        _phased("EVMaximumDischargePower~ EVMinimumDischargePower~"),
        base="AC_CPDReqEnergyTransferModeType",
    )
    m.element(
        "BPT_AC_CPDResEnergyTransferMode", "BPT_AC_CPDResEnergyTransferModeType", subst="AC_CPDResEnergyTransferMode"
    )
    m.complex(
        "BPT_AC_CPDResEnergyTransferModeType",
        _phased("EVSEMaximumDischargePower~ EVSEMinimumDischargePower~"),
        base="AC_CPDResEnergyTransferModeType",
    )
    m.element("Scheduled_AC_CLReqControlMode", "Scheduled_AC_CLReqControlModeType", subst="ct:CLReqControlMode")
    m.complex(
        "Scheduled_AC_CLReqControlModeType",
        _phased("EVMaximumChargePower~? EVMinimumChargePower~? EVPresentActivePower~ EVPresentReactivePower~?"),
        base="ct:Scheduled_CLReqControlModeType",
    )
    m.element("Scheduled_AC_CLResControlMode", "Scheduled_AC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Scheduled_AC_CLResControlModeType",
        _phased("EVSETargetActivePower~? EVSETargetReactivePower~? EVSEPresentActivePower~?"),
        base="ct:Scheduled_CLResControlModeType",
    )
    m.element(
        "BPT_Scheduled_AC_CLReqControlMode",
        "BPT_Scheduled_AC_CLReqControlModeType",
        subst="Scheduled_AC_CLReqControlMode",
    )
    m.complex(
        "BPT_Scheduled_AC_CLReqControlModeType",
        _phased("EVMaximumDischargePower~? EVMinimumDischargePower~?"),
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
        _phased("EVMaximumChargePower~ EVMinimumChargePower~ EVPresentActivePower~ EVPresentReactivePower~"),
        base="ct:Dynamic_CLReqControlModeType",
    )
    m.element("Dynamic_AC_CLResControlMode", "Dynamic_AC_CLResControlModeType", subst="ct:CLResControlMode")
    m.complex(
        "Dynamic_AC_CLResControlModeType",
        _phased("EVSETargetActivePower~ EVSETargetReactivePower~? EVSEPresentActivePower~?"),
        base="ct:Dynamic_CLResControlModeType",
    )
    m.element(
        "BPT_Dynamic_AC_CLReqControlMode", "BPT_Dynamic_AC_CLReqControlModeType", subst="Dynamic_AC_CLReqControlMode"
    )
    m.complex(
        "BPT_Dynamic_AC_CLReqControlModeType",
        _phased(
            "EVMaximumDischargePower~ EVMinimumDischargePower~ "
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
