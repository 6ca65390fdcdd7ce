"""Abnormal-practice rules (F14): ``base`` is the engine's vocabulary, ``catalogue`` the rules in force."""
