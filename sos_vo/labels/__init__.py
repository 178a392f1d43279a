"""labels stage of the sos-vo pipeline."""
