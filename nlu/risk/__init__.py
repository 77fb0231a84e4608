"""Risk screen: flags suicide, self-harm, danger, medical and child risk.

``assess(text, previous=...)`` runs on every inbound message, English and
Spanish cues together, and returns a :class:`bot.types.RiskAssessment`.
The cue lexicon is data, in ``nlu/risk/cues/*.yml``. A trained classifier
(``nlu.risk.model``) can be installed with ``use_model``; without one the
lexicon works alone.
"""

from nlu.risk.screen import ModelPolicy, RiskScreen, assess, default_screen, use_model

__all__ = ["ModelPolicy", "RiskScreen", "assess", "default_screen", "use_model"]
