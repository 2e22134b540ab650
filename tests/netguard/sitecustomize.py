"""Loaded by every Python process started with this folder on PYTHONPATH (tests/test_no_network.py).

An audit hook (PEP 578) records every attempt to resolve a host name or to connect/send to an address that is not this
machine: socket.getaddrinfo / gethostbyname of anything but localhost or a loopback/unspecified literal, and
socket.connect / sendto / sendmsg to a non-loopback IP. One JSON line per attempt goes to $RUNFORM_NETGUARD_LOG.
The attempt itself is not blocked here (the test also runs the processes in a network namespace, where it fails).
"""
import ipaddress
import json
import os
import sys

_LOG = os.environ.get("RUNFORM_NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


def _local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name other than localhost: resolving it is a lookup outside the machine
    return ip.is_loopback or ip.is_unspecified


def _record(event, detail) -> None:
    with open(_LOG, "a") as f:
        f.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[:3], "event": event, "detail": repr(detail)}) + "\n")


def _hook(event, args):
    try:
        if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            if not _local(args[0]):
                _record(event, args[0])
        elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            addr = args[1] if len(args) > 1 else None
            if isinstance(addr, tuple) and addr and not _local(addr[0]):
                _record(event, addr)
    except Exception:  # never let the guard itself break the process under test
        pass


if _LOG:
    sys.addaudithook(_hook)
