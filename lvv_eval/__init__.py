"""lvv_eval: harmonise, reproduce and analyse the Dutch LVV pilot deliveries."""

__version__ = "0.1.0"
