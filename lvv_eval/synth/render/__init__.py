"""Rendering the SYNTHETIC truth as five messy municipal deliveries (see ``deliveries.py``)."""
