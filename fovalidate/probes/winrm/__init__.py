"""Windows facts over WinRM (pywinrm): transport, fact scripts, parsing, the `winrm` probe.

Heavy imports (pywinrm, requests) live in the submodules that need them, so
importing this package stays cheap.
"""
