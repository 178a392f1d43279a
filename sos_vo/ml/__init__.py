"""ml stage of the sos-vo pipeline."""
