"""The operator's token commands: `uecflow gateway new-token` and `uecflow gateway hash-token`.

    uecflow gateway new-token --trust R1H --id NAME      make a token and its credentials entry
    uecflow gateway new-token --trust LAS --id las-cad --sites '*' --event-types 'ambulance.*' \
        --expires 2027-03-31                             a scoped one, for a non-trust, expiring
    uecflow gateway hash-token < token.txt               the token_sha256 of an existing token

See producers.gateway.credentials for the credentials file these entries go in.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from producers.gateway.credentials import (
    MIN_TOKEN_LENGTH,
    CredentialsError,
    hash_token,
    new_token,
    parse_credentials,
)
from producers.gateway.credentials_file import entry
from uecflow.command import UsageError, runs
from uecflow.config import Registry


def add_token_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`new-token` and `hash-token`, as actions of `uecflow gateway`."""
    new = actions.add_parser(
        "new-token",
        help="make a token for a trust",
        description="Make a token for a trust; print it once, with its credentials entry.",
    )
    new.add_argument("--trust", required=True, help="trust code, e.g. R1H (or, with --sites, who)")
    new.add_argument("--id", required=True, help="a name for the credential, e.g. barts-ie-1")
    new.add_argument("--sites", nargs="+", help="site codes it may post for ('*': every site)")
    new.add_argument("--event-types", nargs="+", help="event types, e.g. 'ambulance.*'")
    new.add_argument("--expires", type=date.fromisoformat, help="London day it stops working")
    runs(new, _new_token)
    hashed = actions.add_parser(
        "hash-token",
        help="the token_sha256 of a token",
        description="Read a token on standard input; print its token_sha256.",
    )
    runs(hashed, _hash_token)


def _new_token(args: argparse.Namespace, registry: Registry) -> int:
    token = new_token()
    text = entry(args, hash_token(token))
    try:
        parse_credentials(text, registry)  # what the gateway will make of it
    except CredentialsError as error:
        raise UsageError(str(error).replace(f"credential {args.id!r}: ", "")) from None
    print(f"# token for {args.trust} (give it to them; it is stored nowhere): {token}")
    print(text, end="")
    return 0


def _hash_token(_args: argparse.Namespace, _registry: Registry) -> int:
    token = sys.stdin.readline().strip()
    if len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"hash-token: a token must be at least {MIN_TOKEN_LENGTH} characters")
    print(hash_token(token))
    return 0
