"""The target's peer ecosystem as the suite uses it (the target file's `[peer]`): a vehicle
whose provisioning certificate and contract are in the peer's pools only, made by the
simulated OEM and MO_V2G with the peer's own clients, and removed again after the scenario.

Guarantees: a target file without `[peer]`, or a peer without what the vehicle needs (EST for
the OEM, an MO_V2G client with an EMAID prefix), makes the scenario not applicable with that
reason; what the peer refuses is an AssertionError naming the peer and the call.
"""

from __future__ import annotations

import pytest
from faker import Faker

from features.support.context import Scenario
from opcp.client import OpcpClient
from opcp.id_faker import PnCIdProvider
from opcp.target import Target
from simulators.actor_calls import ActorError
from simulators.ev import Vehicle
from simulators.mo import MoV2gPki
from simulators.oem import Oem
from simulators.provisioning import EstEnrollment

NEEDED = ("pcp", "cps", "ccp", "est")  # what the peer must serve for the suite's vehicle


def peer_of(target: Target) -> Target:
    """The target's peer, or not applicable."""
    if target.peer is None:
        pytest.skip("not applicable: the target file names no peer ecosystem ([peer])")
    missing = [s for s in NEEDED if not target.peer.implements(s)]
    if missing:
        pytest.skip(f"not applicable: the peer {target.peer.name} does not declare"
                    f" {', '.join(missing)}")
    return target.peer


def peer_client(api: OpcpClient, ctx: Scenario) -> OpcpClient:
    """One client of the peer per scenario, closed after it."""
    if "peer_api" not in ctx.saved:
        client = OpcpClient(peer_of(api.target))
        ctx.saved["peer_api"] = client
        ctx.cleanups.append(client.close)
    return ctx.saved["peer_api"]


def vehicle_with_contract_in_peer(api: OpcpClient, ctx: Scenario) -> tuple[Vehicle, str]:
    """A vehicle of the peer's OEM, published in the peer's PCP, with a contract the peer's
    CPS generated for its MO_V2G in the peer's CCP; (vehicle, emaid)."""
    peer = peer_client(api, ctx)
    mo = peer.target.client("MO_V2G")
    if mo is None or not mo.emaid_prefixes:
        pytest.skip(f"not applicable: the peer {peer.target.name}'s target file has no MO_V2G"
                    " client with an EMAID prefix")
    faker = Faker()
    faker.add_provider(PnCIdProvider)
    emaid = faker.emaid(prefix=mo.emaid_prefixes[0], check_digit=False)
    oem = Oem(peer, source=EstEnrollment(peer))
    try:
        vehicle = oem.produce_vehicle()
        oem.publish(vehicle)
        ctx.cleanups.append(lambda: oem.withdraw(vehicle.pcid))
        MoV2gPki(peer).generate_contract(vehicle.pcid, emaid)
    except ActorError as exc:
        raise AssertionError(f"the peer {peer.target.name} would not hold the suite's vehicle"
                             f" and contract: {exc}") from None
    ctx.cleanups.append(lambda: peer.op("deleteSignedContractData", {"emaid": emaid},
                                        role="MO_V2G"))
    return vehicle, emaid
