# fovalidate bootstrap "stdin": runs the fact scripts that arrive on standard
# input. It is the only script sent on the command line besides host.ps1:
# the dhcp, firewall and config scripts together are far longer than the
# 8,191 characters a WinRS command line can carry, and each command costs
# two HTTP requests (Command, Receive), so they travel as one WS-Management
# Send (MS-WSMV 3.1.4.13, rsp:Send with the stdin stream and End="true")
# to this one command instead.
#
# $input enumerates the lines powershell.exe reads from a redirected stdin
# when it runs -Command/-EncodedCommand (about_Automatic_Variables; Ansible's
# WinRM bootstrap_wrapper.ps1 does the same with "$input | Out-String").
# Invoke-Expression runs the text in this session's language mode, so in
# Constrained Language Mode the scripts stay constrained. What it runs is
# fovalidate's own shipped scripts, which the read-only allow-list checks
# like any other; this file is the allow-list's one exception
# (readonly.STDIN_BOOTSTRAP_COMMAND), and only as this exact text.
$ProgressPreference = 'SilentlyContinue'
$Script = 'fovalidate-stdin/1'
Invoke-Expression ($input | Out-String)
