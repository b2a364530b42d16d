"""Read: passages -> answer spans (Reader protocol; neural reader, span model, calibration;
heuristic fallback)."""
