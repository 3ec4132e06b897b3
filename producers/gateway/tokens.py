"""The operator's token commands: `uecflow gateway new-token` and `uecflow gateway hash-token`.

    uecflow gateway new-token --trust R1H --id NAME      make a token and its credentials entry
    uecflow gateway hash-token < token.txt               the token_sha256 of an existing token

See producers.gateway.credentials for the credentials file these entries go in.
"""

from __future__ import annotations

import argparse
import json
import sys

from producers.gateway.credentials import MIN_TOKEN_LENGTH, hash_token, new_token
from uecflow.command import UsageError, runs
from uecflow.config import Registry


def add_token_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`new-token` and `hash-token`, as actions of `uecflow gateway`."""
    new = actions.add_parser(
        "new-token",
        help="make a token for a trust",
        description="Make a token for a trust; print it once, with its credentials entry.",
    )
    new.add_argument("--trust", required=True, help="trust code, e.g. R1H")
    new.add_argument("--id", required=True, help="a name for the credential, e.g. barts-ie-1")
    runs(new, _new_token)
    hashed = actions.add_parser(
        "hash-token",
        help="the token_sha256 of a token",
        description="Read a token on standard input; print its token_sha256.",
    )
    runs(hashed, _hash_token)


def _new_token(args: argparse.Namespace, registry: Registry) -> int:
    if args.trust not in registry.trusts:
        raise UsageError(f"--trust must be one of {', '.join(registry.trusts)}")
    token = new_token()
    print(f"# token for {args.trust} (give it to the trust; it is stored nowhere): {token}")
    print(_entry(args.id, args.trust, hash_token(token)))
    return 0


def _hash_token(_args: argparse.Namespace, _registry: Registry) -> int:
    token = sys.stdin.readline().strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"hash-token: a token must be at least {MIN_TOKEN_LENGTH} characters")
    print(hash_token(token))
    return 0


def _entry(ident: str, trust: str, digest: str) -> str:
    return "\n".join(
        [
            "[[credentials]]",
            f"id = {json.dumps(ident)}",
            f'trust = "{trust}"',
            f'token_sha256 = "{digest}"',
            "revoked = false",
        ]
    )
