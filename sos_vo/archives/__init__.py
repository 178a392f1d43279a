"""archives stage of the sos-vo pipeline."""
