"""An alert reaches the on-call manager as e-mail, for real: Kafka, the worker, Prometheus and
Alertmanager at the shipped versions with the generated rules, routing and templates, and a real
SMTP server (aiosmtpd) that requires the account's password, read by Alertmanager from a file.
The test reads the message a manager would: who, what, how bad against the target, since when,
and absolute links to the action card, the site's dashboard and a silence."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from producers.simulator.drill import STEPS
from streams.topics import Topics
from tests.integration.monitoring import Alertmanager, Prometheus, missing_servers
from tools.harness import ROOT, UECFLOW, Broker, Worker, free_port, wait_for

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.monitoring,
    pytest.mark.slow,
    # On the loopback only; NHSmail itself is STARTTLS (`require_tls`).
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
if missing_servers():
    pytestmark.append(pytest.mark.skip(reason=str(missing_servers())))

PUBLIC = "https://uecflow.test"
ACCOUNT, PASSWORD = "uecflow-alerts@nel.test", "correct horse battery staple"


class Mailbox:
    """What the SMTP server accepted, by recipient; only after AUTH with the right password."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def authenticate(
        self, _server: SMTP, _session: Session, _envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password.decode() == PASSWORD
        if ok:
            with self._lock:
                self.logins.append(f"{mechanism}:{data.login.decode()}")
        return AuthResult(success=ok)

    def about(self, words: str) -> list[tuple[list[str], EmailMessage]]:
        """The messages whose subject has `words`, with their recipients."""
        with self._lock:
            return [(to, message) for to, message in self.messages if words in message["Subject"]]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_required=True,
        auth_require_tls=False,  # loopback only: NHSmail itself is STARTTLS (require_tls)
        # Alertmanager's LOGIN expects "Username:" challenges; aiosmtpd sends "User Name".
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield box, port
    controller.stop()


def _config(smtp_port: int, password_file: Path) -> str:
    """The repository's nel.toml, with no hold times, quick grouping, e-mail to this test's
    SMTP server, and this test's public URL."""
    nel = (ROOT / "uecflow" / "nel.toml").read_text()
    nel = re.sub(r"(\[alerting\.for_minutes\]\n)((?:\w+ = \d+\n|#.*\n)+)",
                 lambda m: m.group(1) + re.sub(r"= \d+", "= 0", m.group(2)), nel)  # fmt: skip
    settings = {
        "group_wait_seconds": "1",
        "group_interval_seconds": "1",
        "keep_firing_minutes": "0",
        "public_url": f'"{PUBLIC}"',
        "smarthost": f'"127.0.0.1:{smtp_port}"',
        "require_tls": "false",
        "username": f'"{ACCOUNT}"',
        "password_file": f'"{password_file}"',
    }
    for key, value in settings.items():
        nel, done = re.subn(rf"^{key} = .*$", f"{key} = {value}", nel, flags=re.M)
        assert done == 1, key
    return nel


def test_a_breach_reaches_the_trusts_on_call_as_an_email_they_can_act_on(
    broker: Broker, run_dir: Path, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    home = run_dir / "alert-email"
    home.mkdir(parents=True, exist_ok=True)
    secret = home / "nhsmail-password"
    secret.write_text(PASSWORD + "\n")
    config = home / "nel.toml"
    config.write_text(_config(smtp_port, secret))
    generated = home / "generated"
    subprocess.run(
        [str(UECFLOW), "--config", str(config), "alerts", "generate", "--out", str(generated)],
        check=True, capture_output=True,
    )  # fmt: skip
    # The generated routing reads its templates from ../templates, as compose mounts them.
    shutil.copytree(ROOT / "alerts" / "templates", home / "templates", dirs_exist_ok=True)
    topics = Topics(prefix="alert-email", partitions=3)
    worker = Worker(broker.bootstrap, topics, home / "worker.log")
    alertmanager = Alertmanager(home / "alertmanager")
    prometheus = Prometheus(home / "prometheus")
    worker.start()
    try:
        alertmanager.start(generated / "alertmanager.yml", external_url=f"{PUBLIC}/alertmanager")
        prometheus.start(
            [f"127.0.0.1:{worker.port}"],
            rule_files=[generated / "uecflow.rules.yml"],
            alertmanager=alertmanager.address,
        )
        drill = [
            str(UECFLOW), "simulate", "--drill", "occupancy", "--drill-phase", "breach",
            "--site", "R1H12", "--kafka", broker.bootstrap, "--topic-prefix", topics.prefix,
            "--partitions", str(topics.partitions),
        ]  # fmt: skip
        subprocess.run(drill, check=True, capture_output=True)
        ((recipients, message),) = wait_for(
            lambda: box.about("adult G&A beds"), "the e-mail about Royal London's beds", 120
        )
    finally:
        prometheus.stop()
        alertmanager.stop()
        worker.stop()
    alert = STEPS["occupancy"].alert
    subject = str(message["Subject"])
    # Who, what, how bad, against what: Royal London's 29 of 30 beds.
    assert subject == "Royal London: adult G&A beds 96.67% full (target 92% or less)"
    assert message["From"] == "uecflow-alerts@nel.invalid"  # [alerting.email] from
    # To Barts Health's on-call alone (a warning: no copy to the SCC), after logging in.
    assert recipients == ["barts-site-oncall@nel.invalid"]
    assert f"PLAIN:{ACCOUNT}" in box.logins
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\r\n", "\n")
    assert text.startswith(f"BREACH: {subject}\nSince: ")
    assert re.search(r"Since: \w{3} \d{1,2} \w{3} \d{2}:\d{2} \(London\)", text)
    assert f"What to do: {PUBLIC}/runbooks/{alert}.md" in text
    assert f"Dashboard: {PUBLIC}/grafana/d/uecflow-site/?var-site=R1H12" in text
    assert f"{PUBLIC}/alertmanager/#/silences/new?filter=%7B" in text
    assert (
        "place%3D%22Tower%20Hamlets%22%2C%20severity%3D%22warning%22%2C%20site%3D%22R1H12%22"
        in text
    )
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert f'href="{PUBLIC}/runbooks/{alert}.md"' in html.get_content()
