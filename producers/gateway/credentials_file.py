"""`uecflow gateway tokens add|list|revoke|rotate --credentials FILE`: the credentials file run
by commands, so that an operator never hand-edits a hash.

Each command reads the file, makes its one change to the text (comments and order are kept),
checks the result as the gateway will read it, and replaces the file at once (a rename), so the
running gateway, which re-reads it within seconds, never sees half an edit. `add` and `rotate`
print the new token once; it is stored nowhere.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from producers.gateway.credentials import (
    Credential,
    Credentials,
    CredentialsError,
    hash_token,
    load_credentials,
    new_token,
    parse_credentials,
)
from uecflow.command import Run, UsageError, runs
from uecflow.config import Registry

_HEADER = "[[credentials]]"


def add_credentials_commands(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = actions.add_parser(
        "tokens",
        help="add, list, revoke or rotate the tokens of a credentials file",
        description="Run the gateway's credentials file: add, list, revoke, rotate tokens.",
    )
    commands = tokens.add_subparsers(dest="tokens_action", metavar="ACTION", required=True)
    add = _command(commands, "add", "make a token and add its entry", _add)
    add.add_argument("--trust", required=True, help="trust code (or, with --sites, who holds it)")
    add.add_argument("--id", required=True, help="a name for the credential, e.g. barts-ie-1")
    add.add_argument("--sites", nargs="+", help="site codes it may post for ('*': every site)")
    add.add_argument("--event-types", nargs="+", help="event types, e.g. 'ambulance.*'")
    add.add_argument("--expires", type=date.fromisoformat, help="London day it stops working")
    _command(commands, "list", "list the credentials (never a token or hash)", _list)
    revoke = _command(commands, "revoke", "revoke a credential: 401 within one reload", _revoke)
    revoke.add_argument("--id", required=True)
    rotate = _command(
        commands, "rotate", "a new token with the same scope, beside the old", _rotate
    )
    rotate.add_argument("--id", required=True, help="the credential to replace")
    rotate.add_argument("--new-id", required=True, help="the new credential's name")
    rotate.add_argument("--expires", type=date.fromisoformat, help="London day it stops working")


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, what: str, run: Run
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=what, description=what[0].upper() + what[1:] + ".")
    parser.add_argument("--credentials", type=Path, required=True, help="the credentials file")
    runs(parser, run)
    return parser


def _add(args: argparse.Namespace, registry: Registry) -> int:
    token = new_token()
    _write(args.credentials, _read(args.credentials) + entry(args, hash_token(token)), registry)
    print(f"# token for {args.trust} (give it to them; it is stored nowhere): {token}")
    return 0


def _list(args: argparse.Namespace, registry: Registry) -> int:
    now = datetime.now(UTC)
    for entry in _loaded(args.credentials, registry).entries:
        state = "revoked" if entry.revoked else "expired" if entry.expired(now) else "active"
        every = set(registry.sites) == entry.sites
        sites = "*" if every else ",".join(sorted(entry.sites))
        expires = entry.expires.isoformat() if entry.expires else "never"
        kinds = ",".join(entry.event_types)
        print(
            f"{entry.id}\t{entry.trust}\t{state}\texpires {expires}\tsites {sites}\ttypes {kinds}"
        )
    return 0


def _revoke(args: argparse.Namespace, registry: Registry) -> int:
    text = _read(args.credentials)
    start, end = _span(text, args.id)
    block = text[start:end]
    if re.search(r"(?m)^revoked\s*=", block):
        block = re.sub(r"(?m)^revoked\s*=.*$", "revoked = true", block)
    else:
        block = block.rstrip("\n") + "\nrevoked = true\n" + ("\n" if block.endswith("\n\n") else "")
    _write(args.credentials, text[:start] + block + text[end:], registry)
    print(f"revoked {args.id}: its token gets 401 once the gateway re-reads the file (seconds)")
    return 0


def _rotate(args: argparse.Namespace, registry: Registry) -> int:
    old = _find(_loaded(args.credentials, registry).entries, args.id)
    # Its scope as written: a trust's own sites are implied; any other set is listed.
    own = frozenset(registry.sites_of_trust(old.trust))
    implied = old.trust in registry.trusts and old.sites == own
    every = old.sites == frozenset(registry.sites)
    sites = None if implied else ["*"] if every else sorted(old.sites)
    kinds = None if old.event_types == ("*",) else list(old.event_types)
    new = argparse.Namespace(
        trust=old.trust, id=args.new_id, sites=sites, event_types=kinds,
        expires=args.expires or old.expires,
    )  # fmt: skip
    token = new_token()
    _write(args.credentials, _read(args.credentials) + entry(new, hash_token(token)), registry)
    print(f"# new token for {old.trust} (give it to them; it is stored nowhere): {token}")
    print(f"# {args.id} still works: revoke it once they use the new one", file=sys.stderr)
    return 0


def entry(args: argparse.Namespace, digest: str) -> str:
    """A credentials entry from `--trust`, `--id`, `--sites`, `--event-types`, `--expires`."""
    lines = ["", _HEADER, f"id = {_quoted(args.id)}", f"trust = {_quoted(args.trust)}"]
    if args.sites:
        lines.append("sites = [" + ", ".join(_quoted(site) for site in args.sites) + "]")
    if args.event_types:
        lines.append("event_types = [" + ", ".join(_quoted(t) for t in args.event_types) + "]")
    if args.expires:
        lines.append(f"expires = {args.expires.isoformat()}")
    lines += [f'token_sha256 = "{digest}"', "revoked = false"]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _span(text: str, ident: str) -> tuple[int, int]:
    """Where the entry with id `ident` is in the text: its [[credentials]] header to the next."""
    starts = [match.start() for match in re.finditer(r"(?m)^\[\[credentials\]\]", text)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(text)
        if re.search(rf"(?m)^id\s*=\s*{re.escape(_quoted(ident))}\s*$", text[start:end]):
            return start, end
    raise UsageError(f"no credential with id {ident!r} in the file")


def _find(entries: tuple[Credential, ...], ident: str) -> Credential:
    for entry in entries:
        if entry.id == ident:
            return entry
    raise UsageError(f"no credential with id {ident!r} in the file")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None


def _loaded(path: Path, registry: Registry) -> Credentials:
    try:
        return load_credentials(path, registry)
    except CredentialsError as error:
        raise UsageError(str(error)) from None


def _write(path: Path, text: str, registry: Registry) -> None:
    try:
        parse_credentials(text, registry)  # as the gateway will read it: never a broken file
    except CredentialsError as error:
        raise UsageError(f"not written, the file would be wrong: {error}") from None
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {error.strerror}") from None
