"""Sanctions screening (placeholder while being written)."""
