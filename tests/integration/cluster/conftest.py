"""The cluster a test module's failure tests share (tests/integration/cluster/cluster_rig.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.integration.cluster.cluster_rig import Rig, rig


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    """Three members started once per module; each test heals it first (``Rig.heal``)."""
    async with rig(Path(tmp_path_factory.mktemp("cluster"))) as made:
        yield made
