"""`uecflow dashboards generate|push`: write the dashboards' JSON, or provision a Grafana."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dashboards.build import all_dashboards, render
from dashboards.push import DEFAULT_FOLDER, Credential, PushError, push
from uecflow.command import runs
from uecflow.config import Registry

GENERATED = Path(__file__).parent / "generated"
PROG = "uecflow dashboards"


def _run(args: argparse.Namespace, registry: Registry) -> int:
    try:
        boards = all_dashboards(registry)
        if args.action == "generate":
            return _generate(boards, args.out)
        return _push(boards, args)
    except (PushError, OSError) as error:
        print(f"{PROG} {args.action}: {_one_line(error)}", file=sys.stderr)
        return 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `uecflow dashboards`."""
    parser.description = (
        "Generate the Grafana dashboards from the registry, or push them to a Grafana."
    )
    runs(parser, _run)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser("generate", help="write each dashboard's JSON model")
    generate.add_argument(
        "--out", type=Path, default=GENERATED, help=f"directory (default: {GENERATED})"
    )
    push_ = actions.add_parser("push", help="create or overwrite the folder and dashboards")
    push_.add_argument("--url", required=True, help="Grafana's base URL, e.g. http://grafana:3000")
    who = push_.add_mutually_exclusive_group()
    who.add_argument(
        "--token",
        default=os.environ.get("GRAFANA_TOKEN"),
        help="service account token (default: $GRAFANA_TOKEN)",
    )
    who.add_argument("--user", help="basic auth user, with --password")
    push_.add_argument(
        "--password",
        default=os.environ.get("GRAFANA_PASSWORD"),
        help="basic auth password (default: $GRAFANA_PASSWORD)",
    )
    push_.add_argument("--folder", default=DEFAULT_FOLDER, help=f"(default: {DEFAULT_FOLDER})")


def _generate(boards: dict[str, dict[str, object]], out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for uid, board in boards.items():
        (out / f"{uid}.json").write_text(render(board), encoding="utf-8")
    print(f"wrote {len(boards)} dashboards to {out}")
    return 0


def _push(boards: dict[str, dict[str, object]], args: argparse.Namespace) -> int:
    folder = push(boards, url=args.url, credential=_credential(args), folder=args.folder)
    print(f"pushed {len(boards)} dashboards to {args.url} (folder {args.folder!r}, uid {folder})")
    return 0


def _credential(args: argparse.Namespace) -> Credential:
    if args.user is not None:
        if args.password is None:
            raise PushError("--user needs --password (or $GRAFANA_PASSWORD)")
        return (args.user, args.password)
    token: str | None = args.token  # None: the URL's own user:password@, or anonymous
    return token


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
