from __future__ import annotations

import pytest

from v2g.pki.testpki import TestPki


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return TestPki.build()
