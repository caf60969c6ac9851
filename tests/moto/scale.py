#!/usr/bin/env python3
"""A moto server of its own with why403's scale worlds, for tests and benchmarks that need
accounts of thousands of roles (moto[server] 5.2.5, boto3).

    python3 tests/moto/scale.py --tag abc123 --sizes 10:10,3000:1000 [--port 0] [--auth]

Serves moto in this process (ThreadedMotoServer) and builds, for each ROLES:POLICIES size,
world.py's `scale` world in an account of its own. The filler roles and policies are made in
moto's own backend, not through HTTP: 3,000 roles then take about a second instead of a
minute. Prints one JSON line (world.py's output, with `worlds` a list, one per size, and the
seconds the filler took) once the server is ready, then serves until its standard input is
closed. With --auth, moto's enforcement is on once everything is built: the worlds' readers
are then one allowed the targeted IAM reads and one refused them.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import world  # noqa: E402  (tests/moto/world.py)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def in_process_filler(account: str, roles: int, policies: int) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["global"]
    for i in range(policies):
        iam.create_policy(description="", path="/", policy_document=world.FILLER_DOC,
                          policy_name=f"filler-{i}", tags=[])
    for i in range(roles):
        iam.create_role(role_name=f"filler-{i}", assume_role_policy_document=world.TRUST,
                        path="/", permissions_boundary=None, description="", tags=[],
                        max_session_duration=None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tag", required=True, help="lower-case letters and digits, in every name")
    ap.add_argument("--sizes", default="10:10", help="ROLES:POLICIES, comma-separated")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--auth", action="store_true", help="turn moto's enforcement on at the end")
    a = ap.parse_args()
    sizes = []
    for part in a.sizes.split(","):
        try:
            roles, policies = (int(x) for x in part.split(":"))
        except ValueError:
            sys.exit(f"scale.py: `{part}` is not ROLES:POLICIES")
        sizes.append((roles, policies))

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    port = a.port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    m = world.Moto(f"http://127.0.0.1:{port}")
    m.wait(30)
    ctx = world.Ctx(m, a.tag)
    out = {"endpoint": m.ep, "region": world.REGION, "tag": a.tag, "worlds": []}
    for roles, policies in sizes:
        out["worlds"].append(world.w_scale(ctx, roles, policies, filler=in_process_filler))
    if a.auth:
        m.post("/moto-api/reset-auth", b"0")
        out["auth"] = True
    print(json.dumps(out), flush=True)
    # Serve until the caller closes standard input (or dies).
    sys.stdin.read()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
