from __future__ import annotations

import pytest

from nlu.risk import RiskScreen


@pytest.fixture(scope="session")
def lexicon_screen() -> RiskScreen:
    """The cue lexicon alone, without the trained classifier."""
    return RiskScreen.default()
