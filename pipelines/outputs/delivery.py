"""Deliver the team exception lists: by e-mail (SMTP, optional STARTTLS and login) or by
dropping each workbook into a per-team folder (named by the team, the latest list under a
stable name, the older ones kept beside).

Every team is tried on its own: a send that fails is retried with backoff on temporary
trouble (4xx replies, a dropped session), and if it still fails it is reported failed while
the other teams still get theirs. A server that cannot be reached at all (refused, unknown
host, no answer) is named once (host:port) and delivery stops at once: the lists stay in
their folder, to deliver later with ``cld exceptions --deliver``. The e-mail names the
council, team, period and what is due by when, with the top three fixes, counts only, never a
client's identifier; the workbook and the team's page are attached. A per-team delivery
report (CSV) says what happened to each team, for the analyst to follow up.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.policy
import logging
import re
import shutil
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from cld_schema.errors import CldError
from pipelines.excel_safe import excel_safe
from pipelines.outputs.exceptions import ExceptionLists, TeamList

log = logging.getLogger(__name__)

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DirectoryError(CldError, ValueError):
    """The team directory file is missing or malformed (the message names the file)."""


class ServerUnreachable(OSError):
    """The SMTP server cannot be reached at all (the message names host:port once)."""


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
    status: str  # sent | partial | delivered | failed | no_address | not_sent
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
    unreachable: str = ""  # one line naming the server that could not be reached

    @property
    def failed(self) -> list[DeliveryOutcome]:
        return [o for o in self.outcomes
                if o.status in ("failed", "partial", "no_address", "not_sent")]

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


def due_date(days: int, today: dt.date | None = None) -> dt.date:
    """What the lists ask for is due ``[delivery] deadline_days`` after they are sent."""
    return (today or dt.date.today()) + dt.timedelta(days=days)


def message_text(team: TeamList, run_id: str, *, council: str = "", period: str = "",
                 due: dt.date | None = None) -> tuple[str, str]:
    """Subject and plain-text body: council, team, period, what is due by when and the top
    three fixes; counts only, no client identifiers."""
    # ASCII separators: mail clients drop the space before an encoded (non-ASCII) word
    where = " - ".join(x for x in ("CLD data quality", council, team.team_name, period) if x)
    due_text = f" by {due.isoformat()}" if due else ""
    n = team.errors + team.warnings
    if team.all_clear:
        subject = f"{where}: all clear"
    else:
        subject = f"{where}: {n} {'fix' if n == 1 else 'fixes'} due{due_text}"
    scope = ", ".join(x for x in (period and f"period {period}", f"run {run_id}") if x)
    lines = [f"Client Level Data (CLD) quality for {team.team_name}"
             + (f", {council}" if council else "") + f" ({scope}).", ""]
    if team.all_clear:
        lines.append("All clear: nothing outstanding for your team. Thank you.")
    else:
        lines += [
            f"Due{due_text}:" if due else "To do:",
            f"  Errors to fix (they block the submission): {team.errors}",
            f"  Warnings to fix (data quality): {team.warnings}",
            f"  NHS numbers to record (national matching feedback): {team.feedback}",
            f"Clients with something to fix: {team.people}",
        ]
        if team.top:
            lines += ["", "Top fixes:"]
            lines += [f"  {i}. {what} ({n})" for i, (what, n) in enumerate(team.top, 1)]
    if team.previous_total is not None:
        change = team.total - team.previous_total
        word = "down" if change < 0 else "up" if change > 0 else "no change"
        amount = f" {abs(change)}" if change else ""
        lines.append(f"Previous run: {team.previous_total} fixes ({word}{amount}).")
    if team.trend:
        lines.append("Open issues over recent runs: " + " -> ".join(map(str, team.trend)))
    lines.append("")
    if team.all_clear:
        lines += ["The attached workbook is your team's all-clear summary."]
    else:
        lines += [
            "The attached workbook lists your team's clients only: one line per fix (a person",
            "and field, with the events it affects), errors first and oldest first, with",
            "what to do on which screen of the case system. It holds personal data: keep it",
            "inside the council and do not forward it.",
        ]
    if team.page is not None:
        lines += ["", "Also attached: your team's page (counts only, opens in any browser),",
                  f"{team.page.name}."]
    return subject, "\n".join(lines) + "\n"


def build_message(team: TeamList, run_id: str, sender: str, to: list[str], *,
                  council: str = "", period: str = "",
                  due: dt.date | None = None) -> EmailMessage:
    subject, body = message_text(team, run_id, council=council, period=period, due=due)
    # headers folded only past the RFC 5322 limit: a subject folded at 78 reads back with a
    # leading space in some clients
    msg = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    msg.add_attachment(team.path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1],
                       filename=team.path.name)
    if team.page is not None and team.page.exists():
        msg.add_attachment(team.page.read_bytes(), maintype="text", subtype="html",
                           filename=team.page.name)
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
    ``to``. Returns the recipients the server refused (the others got the message). A server
    that cannot be reached raises :class:`ServerUnreachable`."""
    smtp = connect(settings)
    with smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl_context or ssl.create_default_context())
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        return smtp.send_message(msg, to_addrs=to)


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Open the SMTP connection, or raise :class:`ServerUnreachable` naming host:port once:
    refused, unknown host, or no answer (no greeting) within ``timeout``."""
    where = f"{settings.host}:{settings.port}"
    try:
        return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except smtplib.SMTPException:
        raise  # it answered (a 4xx greeting, a dropped session): the usual retries apply
    except (socket.gaierror, TimeoutError, OSError) as exc:
        reason = ("unknown host" if isinstance(exc, socket.gaierror) else
                  "no answer" if isinstance(exc, TimeoutError) else
                  exc.strerror or type(exc).__name__)
        raise ServerUnreachable(
            f"cannot reach the SMTP server {where} ([smtp] host, port): {reason}") from None


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
        except ServerUnreachable:
            raise  # no point trying the next attempt, or the next team
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
    due: dt.date | None = None,
    report: DeliveryReport | None = None,
) -> list[DeliveryOutcome]:
    """Send each team its workbook; one team's failure never stops the others. A team is
    ``sent`` when every manager got it, ``partial`` when only some did, else ``failed``. A
    server that cannot be reached stops delivery at once: every team not yet sent is
    ``not_sent`` (its list stays in the folder) and ``report.unreachable`` says why, once."""
    outcomes: list[DeliveryOutcome] = []
    for n, team in enumerate(lists.teams):
        contact = directory.get(team.team_id)
        if contact is None or not contact.emails:
            log.error("team %s has no address in the team directory: not sent", team.team_id)
            outcomes.append(_outcome(team, "email", "no_address",
                                     detail="no address in the team directory"))
            continue
        msg = build_message(team, lists.run_id, settings.sender, contact.emails,
                            council=lists.council, period=lists.period, due=due)
        try:
            res = send_with_retry(settings, msg, contact.emails, retries=retries,
                                  backoff=backoff, ssl_context=ssl_context, sleep=sleep)
        except ServerUnreachable as exc:
            # said once, by the caller (CLI line, flow result), not once per team
            log.info("%s: no team list sent; they stay in %s", exc, lists.out_dir)
            if report is not None:
                report.unreachable = str(exc)
            outcomes += [_outcome(t, "email", "not_sent", target=str(t.path),
                                  detail="SMTP server unreachable")
                         for t in lists.teams[n:]]
            return outcomes
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


def folder_name(team: TeamList) -> str:
    """The team's folder: its name as a folder name (``Older_People_Team_North``)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", team.team_name).strip("_")[:60] or team.team_id


LATEST = "CLD_exception_list"  # the stable name of the latest list in a team's folder


def _place(source: Path, target: Path) -> None:
    """Copy beside the target and rename, so a reader never sees half a file."""
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)


def deliver_to_folders(lists: ExceptionLists, folder: Path) -> list[DeliveryOutcome]:
    """Drop each team's list into ``folder/<team name>/`` (e.g. a shared drive the team can
    read): the latest under a stable name (``CLD_exception_list.xlsx``, and the team's page
    as ``CLD_exception_list.html``), and a dated copy of every run kept beside it
    (``<team>_<period>_<run>.xlsx``)."""
    outcomes = []
    for team in lists.teams:
        target_dir = folder / folder_name(team)
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            kept = target_dir / team.path.name
            _place(team.path, kept)
            latest = target_dir / f"{LATEST}.xlsx"
            _place(team.path, latest)
            if team.page is not None and team.page.exists():
                _place(team.page, target_dir / f"{LATEST}.html")
        except OSError as exc:
            log.error("team %s: folder drop failed: %s", team.team_id, type(exc).__name__)
            outcomes.append(_outcome(team, "folder", "failed", attempts=1,
                                     detail=f"{type(exc).__name__}: {exc}"[:200]))
            continue
        outcomes.append(_outcome(team, "folder", "delivered", attempts=1, target=str(latest)))
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
    report = DeliveryReport([])
    if mode == "email":
        directory = load_directory(cfg.path(cfg.delivery.directory))
        report.outcomes = deliver_by_email(
            lists, directory, SmtpSettings.from_config(cfg), retries=cfg.delivery.retries,
            backoff=backoff, ssl_context=ssl_context, sleep=sleep,
            due=due_date(cfg.delivery.deadline_days), report=report)
    elif mode == "folder":
        report.outcomes = deliver_to_folders(lists, cfg.path(cfg.delivery.folder))
    else:
        raise ValueError(f"unknown delivery mode {mode!r}: use email or folder")
    report.path = write_report(report.outcomes, lists.out_dir / "delivery_report.csv")
    return report
