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
from uecflow.config import ConfigError, load_registry


def new_token_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="uecflow gateway new-token",
        description="Make a token for a trust; print it once, with its credentials entry.",
    )
    parser.add_argument("--trust", required=True, help="trust code, e.g. R1H")
    parser.add_argument("--id", required=True, help="a name for the credential, e.g. barts-ie-1")
    args = parser.parse_args(argv)
    try:
        registry = load_registry(None)
    except ConfigError as error:
        print(f"uecflow gateway: {error}", file=sys.stderr)
        return 2
    if args.trust not in registry.trusts:
        parser.error(f"--trust must be one of {', '.join(registry.trusts)}")
    token = new_token()
    print(f"# token for {args.trust} (give it to the trust; it is stored nowhere): {token}")
    print(_entry(args.id, args.trust, hash_token(token)))
    return 0


def hash_token_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="uecflow gateway hash-token",
        description="Read a token on standard input; print its token_sha256.",
    )
    parser.parse_args(argv)
    token = sys.stdin.readline().strip()
    if len(token) < MIN_TOKEN_LENGTH:
        print(
            f"uecflow gateway hash-token: a token must be at least {MIN_TOKEN_LENGTH} characters",
            file=sys.stderr,
        )
        return 2
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
