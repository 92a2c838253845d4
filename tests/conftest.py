"""Root test configuration: options known before collection, and a private
kernel cache for the whole session (tests never touch the user's real cache
directory; subprocesses started by tests inherit the setting)."""

import os
import shutil
import tempfile

_CACHE_ENV = "GRAPHC_CACHE_DIR"
_state: dict[str, str | None] = {}


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the CHECK lines of golden .gir files (tests/golden) "
                          "from the current output instead of checking them")


def pytest_configure(config):
    _state["previous"] = os.environ.get(_CACHE_ENV)
    _state["dir"] = tempfile.mkdtemp(prefix="graphc-test-cache-")
    os.environ[_CACHE_ENV] = _state["dir"]


def pytest_unconfigure(config):
    if _state.get("previous") is None:
        os.environ.pop(_CACHE_ENV, None)
    else:
        os.environ[_CACHE_ENV] = _state["previous"]
    if _state.get("dir"):
        shutil.rmtree(_state["dir"], ignore_errors=True)
