"""EST models (est.v1.json). The answers are base64 PKCS#7 certs-only, not JSON: their body
is checked by the EST steps (`features/steps/est_steps.py`); the model declares statuses."""

from opcp.access import EST_PREFIXED_CAS
from opcp.models.base import OpModel

_ENROLL = OpModel({200: None, 400: "Error", 404: "Error"})
# est.v1.json declares no 4xx for cacerts; an unknown CA or algorithm in the path is a 400 or
# 404 like anywhere else (erratum E-STATUS-1).
_CACERTS = OpModel({200: None, 400: "Error", 404: "Error"})

OPERATIONS = {
    **{f"simpleEnroll-{ca}": _ENROLL for ca in ("OEM", "CPO", "MO", "CPS", "VEH")},
    **{f"caCerts-{ca}": _CACERTS for ca in ("OEM", "CPO", "MO", "CPS", "VEH")},
    # The CAs of one V2G root each (opcp.access.EST_PREFIXED_CAS): the same answers.
    **{f"{kind}-{prefix.upper()}-{ca.upper()}": model
       for prefix, cas in EST_PREFIXED_CAS.items() for ca in cas
       for kind, model in (("simpleEnroll", _ENROLL), ("caCerts", _CACERTS))},
}
