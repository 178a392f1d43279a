"""simulate stage of the sos-vo pipeline."""
