"""Root test configuration: options that must be known before collection."""


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the CHECK lines of golden .gir files (tests/golden) "
                          "from the current output instead of checking them")
