"""Statistics, reports, charts, trend warnings and the annual crime report (F11, F12, F15-evaluation).

Every figure is computed from the facts layer (``models.CaseFact``/``PersonFact``), which is derived
from the cases' own rows and ledger entries; nothing is typed in by hand.
"""
