"""xietong (协同): cross-agency criminal case collaboration platform."""
