"""fovalidate's built-in checks, one module per check.

Installed as the package `fovalidate.checks` (the framework they build on is
`fovalidate.check`); each check is registered in the `fovalidate.checks`
entry-point group exactly like a third-party plugin.
"""
