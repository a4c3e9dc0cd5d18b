"""Package discovery that pyproject.toml cannot express on its own.

The built-in checks live in ./checks (so `ls` shows them at the top) and are
installed as `fovalidate.checks` (see package-dir in pyproject.toml): one
name, `checks`, in the repository and in the installed package.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["fovalidate", "fovalidate.*"]), "fovalidate.checks"])
