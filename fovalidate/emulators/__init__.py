"""Protocol peers that stand in for Windows servers on loopback.

They serve `fovalidate demo` and the test suite: an SNTP responder with a
chosen clock error, TCP listeners that are open, closed or silently
filtered, a small authoritative DNS server, and (see `wsman`) a
WS-Management endpoint that answers like Windows Server. They are real
network peers: fovalidate talks to them over sockets exactly as it talks to
real hosts. They bind only to the addresses given (127.0.0.0/8 in the demo).
"""
