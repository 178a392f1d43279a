"""publish stage of the sos-vo pipeline."""
