"""catalogue stage of the sos-vo pipeline."""
