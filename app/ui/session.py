"""The viewer's link to the rest of Wardcopy: installed snapshots, login, audit, settings.

All methods here block (SQLCipher queries, Argon2id, file appends). The UI calls them on ONE
worker thread (app.ui.main), which also serialises use of the SQLCipher connections.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from app.duelist import DueDose, ward_due
from app.present.zone import hospital_zone
from app.settings import Settings, load_settings_or_defaults
from app.snapcache import DueRead, SnapshotCache, key_of, shared_cache
from app.ui.state import UserView
from sync.model import CensusRow, DataWindows, PatientRecord
from sync.receive import InstalledSnapshot, installed_wards, open_installed

log = logging.getLogger(__name__)

HOSPITAL_WARD = "hospital"  # a snapshot with every inpatient, for the hospital-wide search


@dataclass(frozen=True)
class SnapshotProblem:
    """Why no snapshot can be shown: "missing" (nothing installed) or "unreadable"."""

    kind: Literal["missing", "unreadable", "choose"]
    reason: str


@dataclass(frozen=True)
class LoginOutcome:
    """Result of a login attempt: the user (None when refused) and what to tell them."""

    user: UserView | None
    wards: tuple[str, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class WardChoice:
    ward_id: str
    name: str


class ViewerBackend:
    """Opens installed snapshots for one laptop home and answers the views' queries.

    Not thread-safe: use from one thread at a time (the UI's worker thread).
    """

    def __init__(
        self, home: Path, ward: str | None = None, snapshot_cache: SnapshotCache | None = None
    ) -> None:
        self.home = home
        # Census rows and due inputs, shared by every session of this process (app.snapcache).
        self.snapshot_cache = snapshot_cache if snapshot_cache is not None else shared_cache()
        self.wanted_ward = ward
        self.settings: Settings
        self.settings_problem: str | None
        self.settings, self.settings_problem = load_settings_or_defaults(home)
        self.current: InstalledSnapshot | None = None
        self.hospital: InstalledSnapshot | None = None
        self._hospital_tried = False
        self._audit: Any = None
        self._authenticator: Any = None
        self._ward_names: dict[str, str] = {}
        self.session: Any = None  # app.auth.Session of the person at the screen
        self.roster_problem: str | None = None

    # -- snapshots --------------------------------------------------------------------------------

    def tz(self) -> tzinfo:
        """The hospital's zone for every time shown: the setting `time_zone` if an administrator
        set one, else the open snapshot's (`SnapshotMeta.time_zone`), else the default
        (app.present.zone); never the laptop clock's zone."""
        snapshot_zone = self.current.reader.meta.time_zone if self.current is not None else None
        return hospital_zone(self.settings.time_zone, snapshot_zone)

    def ward_ids(self) -> list[str]:
        """Installed wards a census can be shown for (the hospital-wide snapshot is search-only)."""
        wards = installed_wards(self.home)
        ward_only = [w for w in wards if w != HOSPITAL_WARD]
        return ward_only or wards

    def open(self, ward: str | None = None) -> InstalledSnapshot | SnapshotProblem:
        """Open `ward` (or the wanted/only ward). Side effect: closes the previously open one."""
        ward = ward or self.wanted_ward
        wards = self.ward_ids()
        if not wards:
            return SnapshotProblem("missing", "no snapshot is installed on this laptop")
        if ward is None:
            ward = wards[0]
        try:
            snap = open_installed(self.home, ward)
        except Exception as exc:  # any failure must become a readable screen, not a crash
            log.warning("cannot open snapshot of ward %s: %s", ward, exc)
            reason = str(exc) or type(exc).__name__
            kind: Literal["missing", "unreadable"] = (
                "missing"
                if getattr(exc, "reason", "") == "not-installed" and not wards
                else "unreadable"
            )
            return SnapshotProblem(kind, reason)
        if self.current is not None:
            self.current.close()
        self.current = snap
        return snap

    def ward_choices(self) -> list[WardChoice]:
        """Installed wards with display names (from the snapshots opened so far, and from the
        hospital-wide snapshot's census when one is installed)."""
        if self.current is not None:
            self._ward_names[self.current.ward] = self.current.reader.meta.ward_name
        wards = self.ward_ids()
        if len(wards) > 1 and any(w not in self._ward_names for w in wards):
            hospital = (
                self._hospital_snapshot() if HOSPITAL_WARD in installed_wards(self.home) else None
            )
            if hospital is not None:
                try:
                    for row in hospital.reader.census():
                        if row.ward_id and row.ward:
                            self._ward_names.setdefault(row.ward_id, row.ward)
                except Exception as exc:  # names are a nicety; ids still work
                    log.debug("ward names from the hospital snapshot: %s", exc)
        return [WardChoice(w, self._ward_names.get(w) or w) for w in wards]

    def hospital_search_available(self) -> bool:
        return HOSPITAL_WARD in installed_wards(self.home) and (
            self.current is None or self.current.ward != HOSPITAL_WARD
        )

    def _hospital_snapshot(self) -> InstalledSnapshot | None:
        if self.hospital is None and not self._hospital_tried:
            self._hospital_tried = True
            try:
                self.hospital = open_installed(self.home, HOSPITAL_WARD)
            except Exception as exc:
                log.warning("hospital-wide snapshot cannot be opened: %s", exc)
        return self.hospital

    def census(self) -> list[CensusRow]:
        """The open snapshot's census rows, shared with the other sessions of this viewer
        (app.snapcache; loaded by the first). Raises SnapshotError when unreadable."""
        assert self.current is not None
        snap = self.current
        return self.snapshot_cache.census(key_of(snap), snap.reader.reopen, snap.reader.census)

    def ward_records(self) -> list[PatientRecord]:
        """Every record of the open ward snapshot (decoded in memory; nothing is written)."""
        assert self.current is not None
        return list(self.current.reader.iter_records())

    def want_dues(self, first: Sequence[str] = ()) -> None:
        """Have the shared due cache (app.snapcache) read the open snapshot's due inputs, the
        patients `first` before the others. Returns at once; a background thread reads."""
        assert self.current is not None
        self.snapshot_cache.want(key_of(self.current), self.current.reader.reopen, first)

    def census_dues_ready(
        self, patient_ids: Sequence[str], now: datetime, tz: tzinfo, limit: int | None = None
    ) -> DueRead:
        """The census due/overdue states (app.duelist.patient_due, overdue judged against the
        snapshot's data-as-of) of at most `limit` of `patient_ids` whose inputs the shared
        cache has read; the rest come back as pending. Decodes nothing itself."""
        assert self.current is not None
        key = key_of(self.current)
        self.snapshot_cache.want(key, self.current.reader.reopen)  # again, if evicted meanwhile
        return self.snapshot_cache.dues(
            key, patient_ids, now, self.current.data_as_of, tz, limit=limit
        )

    def due_list(self, now: datetime, hours: int, tz: tzinfo) -> list[DueDose]:
        """The ward's medications due over the next `hours` (app.duelist.ward_due)."""
        assert self.current is not None
        return ward_due(self.ward_records(), now, hours, self.current.data_as_of, tz)

    def search(self, query: str, *, hospital: bool = False, limit: int = 60) -> list[CensusRow]:
        return self.search_counted(query, hospital=hospital, limit=limit)[0]

    def search_counted(
        self, query: str, *, hospital: bool = False, limit: int = 60
    ) -> tuple[list[CensusRow], int]:
        """The first `limit` hits of `query` and how many patients match in all (counted only
        when the limit was reached: a list of the first hits must say that there are more)."""
        snap = self._hospital_snapshot() if hospital else self.current
        if snap is None:
            return [], 0
        hits = snap.reader.search(query, limit=limit)
        total = snap.reader.search_count(query) if len(hits) >= limit else len(hits)
        return hits, max(total, len(hits))

    def record(self, patient_id: str, *, hospital: bool = False) -> PatientRecord | None:
        snaps = [self.current, self._hospital_snapshot() if hospital else None]
        for snap in snaps:
            if snap is not None:
                rec = snap.reader.record(patient_id)
                if rec is not None:
                    return rec
        return None

    def data_as_of(self, hospital: bool = False) -> datetime | None:
        snap = self.hospital if hospital else self.current
        return snap.data_as_of if snap is not None else None

    def windows(self, hospital: bool = False) -> DataWindows:
        """The time windows the sync applied to the open snapshot (its metadata); the values
        fixed before snapshots carried them when absent or when no snapshot is open."""
        snap = self.hospital if hospital else self.current
        windows = snap.reader.meta.windows if snap is not None else None
        return windows if windows is not None else DataWindows()

    def close(self) -> None:
        for snap in (self.current, self.hospital):
            if snap is not None:
                try:
                    snap.close()
                except Exception as exc:  # closing must not mask the real exit reason
                    log.debug("closing snapshot: %s", exc)
        self.current = None
        self.hospital = None

    # -- printing (app.printing) ------------------------------------------------------------------

    def printers(self) -> list[str]:
        from app.printing import list_printers

        return list_printers()

    def _meta(self, hospital: bool = False) -> Any:
        snap = self.hospital if hospital and self.hospital is not None else self.current
        assert snap is not None
        return snap.reader.meta

    def render_document(
        self,
        doc: str,
        *,
        record: PatientRecord | None,
        rows: list[CensusRow] | None,
        printed_by: str,
        lang: str,
        now: datetime,
        tz: tzinfo,
        hospital: bool = False,
        break_glass: bool = False,
    ) -> bytes:
        """PDF bytes of `doc` ("summary", "mar24", "mar72", "mar" = the MAR of the configured
        period, "census", "due4" = medications due
        in the next 4 h; also due2, due8, due12), in memory only; a break-glass session's
        printout says so on every page."""
        from app.printing import render_census, render_due, render_mar, render_summary

        meta = self._meta(hospital)
        if doc.startswith("due") and doc[3:].isdigit():
            return render_due(
                self.ward_records(),
                self._due_meta(),
                printed_by,
                lang,
                now,
                tz,
                hours=int(doc[3:]),
                break_glass=break_glass,
            )
        if doc == "census":
            return render_census(
                rows or [], meta, printed_by, lang, now, tz, break_glass=break_glass
            )
        assert record is not None
        if doc == "summary":
            return render_summary(record, meta, printed_by, lang, now, tz, break_glass=break_glass)
        # "mar" alone: the laptop's configured period (setting mar_hours)
        hours = {"mar24": 24, "mar72": 72}.get(doc, self.settings.mar_hours)
        return render_mar(
            record, meta, printed_by, lang, now, tz, hours=hours, break_glass=break_glass
        )

    def _due_meta(self) -> Any:
        """The due list's page furniture: ward name and id, and the data-as-of overdue is
        judged against (the installed snapshot's, as in `due_list`)."""
        from app.printing import DocumentMeta

        assert self.current is not None
        meta = self.current.reader.meta
        return DocumentMeta(
            ward_name=meta.ward_name or self.current.ward,
            data_as_of=self.current.data_as_of,
            ward_id=self.current.ward,
        )

    def print_pdf(self, pdf: bytes, printer: str | None, lang: str) -> Any:
        """Send to the OS printer; returns app.printing.PrintResult (never raises)."""
        from app.printing import print_pdf

        return print_pdf(pdf, printer, lang=lang)

    # -- login and audit (app.auth, app.audit) -----------------------------------------------------

    def _audit_log(self) -> Any:
        if self._audit is None:
            from app.audit import AuditLog

            self._audit = AuditLog(self.home)
        return self._audit

    def _auth(self) -> Any:
        """The app.auth Authenticator over the installed, re-verified roster (built once)."""
        if self._authenticator is None:
            from app.auth import Authenticator

            roster = None
            try:
                roster = self._roster()
            except Exception as exc:  # a damaged roster: break-glass may still be possible
                log.warning("installed roster cannot be used: %s", exc)
                self.roster_problem = str(exc)
            self._authenticator = Authenticator(roster, self.settings, self._audit_log())
        return self._authenticator

    def _roster(self) -> Any:
        """The installed roster, re-verified against the pinned server key; None if none."""
        from sync import device
        from sync.roster import load_installed_roster

        pinned = device.pinned_server_key(self.home)
        if pinned is None:
            return None
        return load_installed_roster(self.home / "roster", pinned)

    def audit(
        self,
        event: str,
        user: UserView | None,
        *,
        patient_id: str | None = None,
        **details: Any,
    ) -> None:
        """Append one audit entry. Raises app.audit.AuditError if the log cannot be written."""
        ward = self.current.ward if self.current is not None else None
        clean = {k: v for k, v in details.items() if v is not None}
        if user is not None and user.break_glass:
            clean["break_glass"] = True
        if self.session is not None:
            clean["session"] = self.session.session_id
        self._audit_log().append(
            event,
            user=user.user_id if user is not None else None,
            ward=ward,
            patient_id=patient_id,
            details=clean,
        )

    # -- login (app.auth) -----------------------------------------------------------------------

    def break_glass_allowed(self) -> bool:
        return bool(self._auth().break_glass_available())

    def login(
        self,
        user_id: str,
        password: str,
        ward: str,
        *,
        lang: str,
        break_glass: tuple[str, str] | None = None,
    ) -> LoginOutcome:
        """Log in (or unlock a locked session of the same user); app.auth audits every attempt.

        On a locked screen another person may log in: the locked session is logged out first.
        A locked break-glass session cannot be unlocked (no password): it is logged out.
        """
        from app.auth import LoginFailure

        auth = self._auth()
        old = self.session
        result: Any
        if (
            old is not None
            and old.locked
            and break_glass is None
            and not old.break_glass
            and old.user_id.casefold() == user_id.strip().casefold()
        ):
            result = auth.unlock(old, password)
        else:
            if break_glass is not None:
                name, reason = break_glass
                result = auth.break_glass(name, reason, ward)
            else:
                result = auth.login(user_id, password, ward)
            if old is not None and not isinstance(result, LoginFailure):
                auth.logout(old, "idle" if old.locked else "user")
        if isinstance(result, LoginFailure):
            return LoginOutcome(None, message=result.message(lang))
        self.session = result
        user = UserView(
            user_id=result.user_id,
            display_name=result.display_name,
            role=str(result.role),
            break_glass=result.break_glass,
            break_glass_reason=result.break_glass_reason,
        )
        wards: tuple[str, ...] = (ward,)
        roster = auth.roster
        staff = (
            roster.find(result.user_id) if roster is not None and not result.break_glass else None
        )
        if staff is not None:
            wards = tuple(staff.wards)
        return LoginOutcome(user, wards=wards)

    def may_change_settings(self) -> bool:
        return bool(self.session is not None and self.session.may_change_settings())

    def save_settings(self, new: Settings, changed: list[str]) -> None:
        """Write settings.json (admin only) and use it from now on. Audited with the keys.

        Raises PermissionError if the person at the screen is not an admin, OSError if the
        file cannot be written.
        """
        from app.settings import save_settings

        if not self.may_change_settings():
            raise PermissionError("only an admin (not break-glass) may change the settings")
        save_settings(self.home, new)
        self.settings, self.settings_problem = new, None
        if self._authenticator is not None:
            self._authenticator.settings = new
        user = self.session
        self._audit_log().append(
            "settings_change",
            user=user.user_id if user is not None else None,
            ward=self.current.ward if self.current is not None else None,
            details={"changed": changed},
        )

    def lock(self) -> None:
        """The idle lock: app.auth records it."""
        if self.session is not None:
            self._auth().lock(self.session, "idle")

    def logout(self, why: str = "user") -> None:
        if self.session is not None:
            self._auth().logout(self.session, why)
            self.session = None
