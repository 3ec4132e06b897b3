"""Provision the dashboards into a running Grafana over its HTTP API (via grafana-client).

The folder is found by a uid derived from its title and created, or renamed back, as needed;
each dashboard is saved into it with `overwrite`, so pushing again replaces what is there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import niquests
from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

DEFAULT_FOLDER = "NEL UEC"
TIMEOUT_SECONDS = 10.0
Credential = str | tuple[str, str] | None


class PushError(Exception):
    """Grafana could not be reached or refused: the message is one line for the user."""


def folder_uid(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "folder"
    return f"uecflow-{slug}"[:40]  # Grafana's longest uid


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PushError(f"not an http(s) URL of a Grafana: {url!r}")


def push(
    dashboards: Mapping[str, Mapping[str, Any]],
    *,
    url: str,
    credential: Credential,
    folder: str = DEFAULT_FOLDER,
) -> str:
    """Save every dashboard into the folder titled `folder`; returns the folder's uid."""
    check_url(url)
    api = GrafanaApi.from_url(url, credential=credential, timeout=TIMEOUT_SECONDS)
    try:
        uid = _ensure_folder(api, folder)
        for board in dashboards.values():
            api.dashboard.update_dashboard(
                {
                    "dashboard": dict(board),
                    "folderUid": uid,
                    "overwrite": True,
                    "message": "uecflow dashboards push",
                }
            )
    except GrafanaClientError as error:
        raise PushError(_refusal(error, url)) from None
    except GrafanaException as error:  # a 5xx answer, or no answer (status 0)
        raise PushError(_no_answer(error, url)) from None
    except (niquests.exceptions.RequestException, OSError) as error:
        raise PushError(f"cannot reach Grafana at {url}: {_reason(error)}") from None
    return uid


def _ensure_folder(api: GrafanaApi, title: str) -> str:
    uid = folder_uid(title)
    try:
        existing: dict[str, Any] = api.folder.get_folder(uid)
    except GrafanaClientError as error:
        if error.status_code != 404:
            raise
        api.folder.create_folder(title, uid=uid)
        return uid
    if existing.get("title") != title:
        api.folder.update_folder(uid, title=title, overwrite=True)
    return uid


def _refusal(error: GrafanaClientError, url: str) -> str:
    if error.status_code == 401:
        return f"Grafana at {url} refused the credentials (401 Unauthorized)"
    if error.status_code == 403:
        return f"Grafana at {url} forbids this account to save dashboards (403 Forbidden)"
    return f"Grafana at {url} refused: {_first_line(error)}"


def _no_answer(error: GrafanaException, url: str) -> str:
    if error.status_code:
        return f"Grafana at {url} failed: {_first_line(error)}"
    return f"cannot reach Grafana at {url}: {_reason(error)}"


def _reason(error: BaseException) -> str:
    """Why, in a few words ("Connection refused"), not the connection pool's paragraph."""
    text = str(error)
    if "NameResolutionError" in text or "Failed to resolve" in text:
        return "no such host"
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return found.group(1).strip() if found else _first_line(error)[:200]


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
