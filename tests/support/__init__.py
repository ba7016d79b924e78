"""Helpers the tests share (never a module named ``test_*``)."""
