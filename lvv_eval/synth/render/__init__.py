"""Rendering the SYNTHETIC truth as five messy municipal deliveries: ``render.deliveries.write_deliveries``."""
