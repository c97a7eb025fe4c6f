"""Deliver the team exception lists: by e-mail (SMTP, optional STARTTLS and login) or by
dropping each workbook into a per-team folder.

Every team is tried on its own: a send that fails is retried with backoff on temporary
trouble (4xx replies, dropped connections), and if it still fails it is reported failed while
the other teams still get theirs. The e-mail body carries counts and the trend only, never a
client's identifier; the workbook is the attachment. A per-team delivery report (CSV) says
what happened to each team, for the analyst to follow up.
"""

from __future__ import annotations

import csv
import logging
import shutil
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pipelines.outputs.excel_safe import excel_safe
from pipelines.outputs.exceptions import ExceptionLists, TeamList

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DirectoryError(ValueError):
    """The team directory file is missing or malformed (the message names the file)."""


@dataclass
class TeamContact:
    team_id: str
    team_name: str
    emails: list[str] = field(default_factory=list)


@dataclass
class SmtpSettings:
    """Where and how to send (from ``cfg.smtp`` plus the password from the environment)."""

    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "cld-pipeline@localhost"
    timeout: float = 30.0

    @classmethod
    def from_config(cls, cfg) -> SmtpSettings:
        s = cfg.smtp
        return cls(host=s.host, port=s.port, starttls=s.starttls, username=s.username,
                   password=cfg.smtp_password, sender=s.sender)


@dataclass
class DeliveryOutcome:
    """What happened to one team's list (no personal data: safe to log and keep)."""

    team_id: str
    team_name: str
    mode: str
    status: str  # sent | partial | delivered | failed | no_address
    attempts: int = 0
    recipients: int = 0
    errors: int = 0
    warnings: int = 0
    target: str = ""
    detail: str = ""


@dataclass
class DeliveryReport:
    outcomes: list[DeliveryOutcome]
    path: Path | None = None

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes if o.status in ("failed", "partial", "no_address")]

    @property
    def ok(self) -> bool:
        return not self.failed


def load_directory(path: Path) -> dict[str, TeamContact]:
    """Read the team directory CSV (``team_id,team_name,email``). A team may have several
    rows or several addresses separated by ``;`` in one cell."""
    if not path.exists():
        raise DirectoryError(f"key [delivery] directory: no such file {path} (the team directory)")
    teams: dict[str, TeamContact] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"team_id", "team_name", "email"} - set(reader.fieldnames or [])
        if missing:
            raise DirectoryError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for n, row in enumerate(reader, start=2):
            tid = (row["team_id"] or "").strip()
            if not tid:
                raise DirectoryError(f"{path}: line {n}: empty team_id")
            contact = teams.setdefault(tid, TeamContact(tid, (row["team_name"] or tid).strip()))
            for addr in (row["email"] or "").split(";"):
                addr = addr.strip()
                if addr and addr not in contact.emails:
                    if "@" not in addr:
                        raise DirectoryError(f"{path}: line {n}: not an e-mail address")
                    contact.emails.append(addr)
    return teams


def message_text(team: TeamList, run_id: str) -> tuple[str, str]:
    """Subject and plain-text body: counts and trend only, no client identifiers."""
    if team.all_clear:
        subject = f"CLD exception list – {team.team_name}: all clear ({run_id})"
    else:
        subject = (f"CLD exception list – {team.team_name}: {team.errors} errors, "
                   f"{team.warnings} warnings ({run_id})")
    lines = [f"Client Level Data exception list for {team.team_name}, run {run_id}.", ""]
    if team.all_clear:
        lines.append("All clear: nothing outstanding for your team. Thank you.")
    else:
        lines += [
            f"Errors (must be fixed before the submission): {team.errors}",
            f"Warnings (data quality): {team.warnings}",
            f"Clients with open issues: {team.people}",
            f"NHS-number feedback outstanding: {team.feedback}",
        ]
    if team.previous_total is not None:
        change = team.total - team.previous_total
        word = "down" if change < 0 else "up" if change > 0 else "no change"
        amount = f" {abs(change)}" if change else ""
        lines.append(f"Previous run: {team.previous_total} issues ({word}{amount}).")
    if team.trend:
        lines.append("Open issues over recent runs: " + " -> ".join(map(str, team.trend)))
    lines += [
        "",
        "The attached workbook lists your team's clients only, errors first and oldest first,",
        "with where to find each record and how to fix it. It holds personal data: keep it",
        "inside the council and do not forward it.",
    ]
    return subject, "\n".join(lines) + "\n"


def build_message(team: TeamList, run_id: str, sender: str, to: list[str]) -> EmailMessage:
    subject, body = message_text(team, run_id)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    msg.add_attachment(team.path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                       filename=team.path.name)
    return msg


def _is_temporary(exc: Exception) -> bool:
    """4xx replies and connection trouble are worth another try; 5xx replies are not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= c < 500 for c in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"all recipients refused ({', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"[:200]
    return f"{type(exc).__name__}: {exc}"[:200]


def send_once(settings: SmtpSettings, msg: EmailMessage, to: list[str],
              ssl_context: ssl.SSLContext | None = None) -> dict:
    """One SMTP session: connect, STARTTLS if asked, log in if a username is set, send to
    ``to``. Returns the recipients the server refused (the others got the message)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl_context or ssl.create_default_context())
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        return smtp.send_message(msg, to_addrs=to)


@dataclass
class SendResult:
    attempts: int
    delivered: list[str]
    undelivered: list[str]
    detail: str = ""


def send_with_retry(
    settings: SmtpSettings,
    msg: EmailMessage,
    to: list[str],
    *,
    retries: int,
    backoff: float,
    ssl_context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
    """Send to ``to``, retrying temporary trouble up to ``retries`` times with doubling waits.
    A retry goes only to the recipients still waiting, so nobody gets the list twice; a
    permanent refusal (5xx) is not retried."""
    pending, delivered, given_up = list(to), [], []
    attempt, detail = 0, ""
    while pending:
        attempt += 1
        try:
            refused = send_once(settings, msg, pending, ssl_context)
        except smtplib.SMTPRecipientsRefused as exc:  # nobody accepted: retry the 4xx ones
            detail = _describe(exc)
            later = [a for a in pending if 400 <= exc.recipients.get(a, (500, b""))[0] < 500]
            given_up += [a for a in pending if a not in later]
            pending = later
            if not pending:
                break
        except (smtplib.SMTPException, OSError) as exc:
            detail = _describe(exc)
            if not _is_temporary(exc):
                return SendResult(attempt, delivered, given_up + pending, detail)
        else:
            delivered += [a for a in pending if a not in refused]
            later = [a for a in pending if a in refused and 400 <= refused[a][0] < 500]
            given_up += [a for a in pending if a in refused and a not in later]
            pending = later
            if refused:
                codes = sorted({code for code, _ in refused.values()})
                detail = f"{len(refused)} recipient(s) refused ({', '.join(map(str, codes))})"
            if not pending:
                break
        if attempt > retries:
            return SendResult(attempt, delivered, given_up + pending, detail)
        wait = backoff * 2 ** (attempt - 1)
        log.warning("send attempt %d incomplete (%s); retrying in %.1fs", attempt, detail, wait)
        sleep(wait)
    return SendResult(attempt, delivered, given_up, detail if given_up else "")


def _outcome(team: TeamList, mode: str, status: str, **kw) -> DeliveryOutcome:
    return DeliveryOutcome(team_id=team.team_id, team_name=team.team_name, mode=mode,
                           status=status, errors=team.errors, warnings=team.warnings, **kw)


def deliver_by_email(
    lists: ExceptionLists,
    directory: dict[str, TeamContact],
    settings: SmtpSettings,
    *,
    retries: int = 3,
    backoff: float = 2.0,
    ssl_context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DeliveryOutcome]:
    """Send each team its workbook; one team's failure never stops the others. A team is
    ``sent`` when every manager got it, ``partial`` when only some did, else ``failed``."""
    outcomes = []
    for team in lists.teams:
        contact = directory.get(team.team_id)
        if contact is None or not contact.emails:
            log.error("team %s has no address in the team directory: not sent", team.team_id)
            outcomes.append(_outcome(team, "email", "no_address",
                                     detail="no address in the team directory"))
            continue
        msg = build_message(team, lists.run_id, settings.sender, contact.emails)
        res = send_with_retry(settings, msg, contact.emails, retries=retries, backoff=backoff,
                              ssl_context=ssl_context, sleep=sleep)
        status = ("sent" if not res.undelivered else "partial" if res.delivered else "failed")
        log_at = log.info if status == "sent" else log.error
        log_at("team %s: e-mail %s to %d of %d recipient(s) after %d attempt(s)%s",
               team.team_id, status, len(res.delivered), len(contact.emails), res.attempts,
               f": {res.detail}" if res.detail else "")
        outcomes.append(_outcome(team, "email", status, attempts=res.attempts,
                                 recipients=len(res.delivered),
                                 target=f"{len(res.delivered)} of {len(contact.emails)} "
                                        "recipient(s)", detail=res.detail))
    return outcomes


def deliver_to_folders(lists: ExceptionLists, folder: Path) -> list[DeliveryOutcome]:
    """Copy each team's workbook into ``folder/<team_id>/`` (e.g. a shared drive the team
    can read); the copy is written beside the target and renamed so a reader never sees half
    a file."""
    outcomes = []
    for team in lists.teams:
        target_dir = folder / team.team_id
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / team.path.name
            partial = target.with_suffix(".partial")
            shutil.copyfile(team.path, partial)
            partial.replace(target)
        except OSError as exc:
            log.error("team %s: folder drop failed: %s", team.team_id, type(exc).__name__)
            outcomes.append(_outcome(team, "folder", "failed", attempts=1,
                                     detail=f"{type(exc).__name__}: {exc}"[:200]))
            continue
        outcomes.append(_outcome(team, "folder", "delivered", attempts=1, target=str(target)))
    return outcomes


def write_report(outcomes: list[DeliveryOutcome], path: Path) -> Path:
    """The per-team delivery report (CSV), for the analyst to follow up failures; team names
    and error texts come from outside (team directory, mail server), so cells are Excel-safe."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(asdict(outcomes[0]).keys()) if outcomes else list(
        DeliveryOutcome.__dataclass_fields__)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=names)
        writer.writeheader()
        for o in outcomes:
            writer.writerow({k: excel_safe(v) for k, v in asdict(o).items()})
    return path


def deliver(
    lists: ExceptionLists,
    cfg,
    *,
    mode: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Deliver every team's list the way ``cfg.delivery`` says, and write the delivery report
    beside the workbooks (``delivery_report.csv``)."""
    mode = mode or cfg.delivery.mode
    if mode == "email":
        directory = load_directory(cfg.path(cfg.delivery.directory))
        outcomes = deliver_by_email(lists, directory, SmtpSettings.from_config(cfg),
                                    retries=cfg.delivery.retries, backoff=backoff,
                                    ssl_context=ssl_context, sleep=sleep)
    elif mode == "folder":
        outcomes = deliver_to_folders(lists, cfg.path(cfg.delivery.folder))
    else:
        raise ValueError(f"unknown delivery mode {mode!r}: use email or folder")
    report = DeliveryReport(outcomes)
    report.path = write_report(outcomes, lists.out_dir / "delivery_report.csv")
    return report
