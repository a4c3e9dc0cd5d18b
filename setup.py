"""Package discovery that pyproject.toml cannot express on its own.

`fovalidate_checks` is mapped from ./checks (see pyproject.toml), so it is added
by name next to the packages found under ./fovalidate.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["fovalidate", "fovalidate.*"]), "fovalidate_checks"])
