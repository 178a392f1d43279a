"""prepare stage of the sos-vo pipeline."""
