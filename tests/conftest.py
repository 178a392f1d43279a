"""Root conftest: puts ``tests/`` on ``sys.path`` so that the uniquely named helper modules
(``realdata_files``, ``scale_helpers``, ...) import from any test folder."""
