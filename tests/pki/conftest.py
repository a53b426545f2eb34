from __future__ import annotations

import pytest

from v2g.pki.testpki import LAYOUT_20, TestPki


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return TestPki.build()


@pytest.fixture(scope="session")
def pki20() -> TestPki:
    return TestPki.build(layout=LAYOUT_20)
