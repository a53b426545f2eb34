"""What every handler of one reference instance shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from opcp.target import Target
from opcp_reference.domain.auth import AuthConfig, SecretThrottle
from opcp_reference.domain.events import DeliverySettings
from opcp_reference.domain.peers import PEER_READ_SECONDS
from opcp_reference.faults import Faults
from opcp_reference.store import Store


@dataclass
class Reference:
    store: Store
    auth: AuthConfig
    faults: Faults
    data_dir: Path
    throttle: SecretThrottle = field(default_factory=SecretThrottle)
    # Seconds a request may take, reading its body included: a slow sender gets 503 instead of
    # holding a connection and a handler forever.
    request_timeout: float = 30.0
    webhooks: DeliverySettings = field(default_factory=DeliverySettings)
    # Other ecosystems a provisioning certificate lookup is forwarded to (pool collaboration).
    peers: tuple[Target, ...] = ()
    # How long a peer may stay silent before it counts as slow (504): the spec's pace, or a
    # shorter one for an instance at test pace (the suite's embedded reference).
    peer_read_seconds: float = PEER_READ_SECONDS
    # Refuse every client habit of opcp_reference.compat instead of accommodating it, with an
    # error naming the rule it bends (`opcp serve --strict`, for client developers).
    strict: bool = False
