"""Sub-commands of the ``sos-vo`` command line.

Each module here defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``
and calls the Python API of the package (the CLI is a thin layer over it).  Adding a module
to :data:`COMMAND_MODULES` adds the sub-command.
"""

COMMAND_MODULES: tuple[str, ...] = (
    "simulate",
    "train",
    "predict",
    "demo",
    "query",
    "export",
    "send",
    "plot",
    "validate",
    "plan",
    "models",
    "build_model",
)
