"""`uecflow sitrep`: NHS England's UEC daily sitrep figures that uecflow can compute, for a day."""
