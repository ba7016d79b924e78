"""The history importer: football-data.co.uk files into MySQL (``python -m services.history``).

Layers: ``plan`` (pure: what a parsed file changes, given what the database has),
``store`` and ``sql`` (MySQL), ``importer`` (one file end to end, one transaction),
``output`` (what a person reads), ``__main__`` (the command line). The reader itself
is ``shared.footballdata``: the pricing and trading services read the same files.
"""
