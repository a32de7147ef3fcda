"""`codeai server`: the platform service (HTTP API, health probes, feature flags).

Import the submodules you need: this package's ``__init__`` stays empty so that importing
:mod:`codeai_lang.platform.server.features` (the `codeai features` command) does not load the
ASGI stack.
"""
