"""Helpers shared by several test modules (imported as ``tests.helpers.*``, never across test files)."""
