"""The sky region of the simulator tests (a module with a unique name, importable from the
tests; ``from conftest import`` would depend on which folder's conftest came first)."""

CENTER = (185.0, 0.5)
RADIUS_DEG = 9.0
