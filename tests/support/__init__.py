"""Test helpers that hold no tests: fakes, harnesses, sample messages, the stack.

Test modules (``test_*``) import from here, never from each other.
"""
