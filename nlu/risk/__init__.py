"""Risk screen: flags suicide, self-harm, danger, medical and child risk.

``assess(text, previous=...)`` runs on every inbound message, English and
Spanish cues together, and returns a :class:`bot.types.RiskAssessment`.
The cue lexicon is data, in ``nlu/risk/cues/*.yml``.
"""

from nlu.risk.screen import RiskScreen, assess

__all__ = ["RiskScreen", "assess"]
