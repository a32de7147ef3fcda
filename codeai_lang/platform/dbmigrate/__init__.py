"""SQL schema migrations for SQLite and PostgreSQL (``codeai migrate …``).

Layout: :mod:`discovery` finds and validates migration files, :mod:`sqltext` splits them into
statements per dialect, :mod:`backends` hides the dialects' locking and transactions,
:mod:`runner` plans and applies. Checks and generation: :mod:`dbschema` reads a schema back by
introspection, :mod:`scratch` gives throwaway databases, :mod:`lintfacts` + :mod:`lint` are
``migrate lint``, :mod:`entities` + :mod:`schemadiff` + :mod:`generate` are ``migrate generate``.
(Throwaway PostgreSQL servers for tests and benchmarks: tests/codeai_testing/pgserver.py.)
"""

from codeai_lang.platform.dbmigrate.backends import Backend, open_backend
from codeai_lang.platform.dbmigrate.discovery import Migration, create_pair, discover
from codeai_lang.platform.dbmigrate.errors import MigrateError
from codeai_lang.platform.dbmigrate.runner import Options, Runner, StatusEntry
from codeai_lang.platform.dbmigrate.target import DatabaseTarget, target_from_config

__all__ = ["Backend", "DatabaseTarget", "MigrateError", "Migration", "Options", "Runner", "StatusEntry",
           "create_pair", "discover", "open_backend", "target_from_config"]
