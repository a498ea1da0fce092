"""`wardcopy demo`: the whole chain on generated data, in a throwaway folder.

This module is neither laptop (app/) nor server (sync/): it drives both, so it lives on its own
and `wardcopy` imports it only when the `demo` command runs. Its server-side imports are inside
the functions, so importing `demo` (for DEMO_USERS, say) stays cheap.

Generates a realistic hospital as FHIR R4 NDJSON, makes the sync server's signing key and this
"laptop"'s device key, enrols the laptop for every ward, writes a demo staff roster, builds, seals
and publishes one package per ward, receives and verifies them all into a laptop home, and prints
where everything is and how to open it; then opens the viewer (unless told not to).

Side effects: creates and fills `folder` (default: a new temporary folder that is kept, so the
viewer can be opened again later). The demo passwords are printed on purpose: they exist only in
this throwaway folder.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sync.config import Config
    from sync.cycle import CycleResult

DEMO_USERS = (
    # user id, display name, role, password
    ("pflege", "Schwester Anna Demo", "nurse", "pflege-demo"),
    ("arzt", "Dr. Jonas Demo", "physician", "arzt-demo-1"),
    ("admin", "IT Admin Demo", "admin", "admin-demo-1"),
)


@dataclass
class DemoResult:
    folder: Path
    laptop_home: Path
    sync_home: Path
    outbox: Path
    source: Path
    cycle: CycleResult
    installed: list[str]


def make_demo(folder: Path, patients: int, seed: int, now: datetime | None = None) -> DemoResult:
    """Run the chain into `folder` (created if missing; must be empty or absent).
    Raises FileExistsError if `folder` holds something already, and whatever a step raises."""
    from sync import device, keys, publish, receive
    from sync import roster as rosterlib
    from sync.config import Config
    from sync.cycle import run_cycle
    from sync.generate import generate

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; give an empty or new folder")
    now = now or datetime.now(UTC).replace(second=0, microsecond=0)
    source, sync_home, laptop, outbox = (
        folder / "fhir",
        folder / "server",
        folder / "laptop",
        folder / "outbox",
    )
    generate(source, patients, seed, now=now)

    sync_home.mkdir(mode=0o700)
    signing_key, _ = keys.init_signing_key(sync_home)
    public_text = keys.signing_public_key_text(signing_key.public_key())
    made = device.init_device(laptop, use_keyring=False, server_key=public_text)

    from sync.generate.vocab import DEMO_CODE_MAP

    # The demo's bedside monitor codes vitals locally: the code map makes them vital signs.
    config = Config(code_map=DEMO_CODE_MAP)
    ward_ids = _ward_ids(source, config)
    for ward in ward_ids:
        publish.enrol(sync_home, ward, made.identity.enrolment_code, label="demo laptop")

    roster = rosterlib.new_roster("Demo-Klinikum", now=now)
    for user_id, name, role, password in DEMO_USERS:
        roster = rosterlib.add_user(roster, user_id, name, role, ["*"], password, now=now)
    roster = rosterlib.set_break_glass(roster, True, now=now)
    rosterlib.save_roster_source(sync_home, roster)

    cycle = run_cycle(
        sync_home=sync_home,
        source=source,
        outbox=outbox,
        config=config,
        signing_key=signing_key,
        now=now,
    )
    installed: list[str] = []
    for published in cycle.wards:
        receive.receive(laptop, str(outbox), published.ward_id)
        installed.append(published.ward_id)
    return DemoResult(folder, laptop, sync_home, outbox, source, cycle, installed)


def _ward_ids(source: Path, config: Config) -> list[str]:
    """Ward ids the build will produce from `source` (Location wards plus the hospital ward)."""
    from sync.sources import iter_source
    from sync.sources.files import SourceItem
    from sync.wards import effective_wards

    locations = []
    for path in sorted(source.glob("Location*.ndjson")):
        for item in iter_source(path):
            if isinstance(item, SourceItem):
                locations.append(item.resource)
    ids = [w.id for w in effective_wards(config, locations)]
    if config.hospital_ward.enabled:
        ids.append(config.hospital_ward.id)
    return ids


def run_demo(
    *,
    folder: Path | None,
    patients: int,
    seed: int,
    view: bool,
    browser: bool = False,
    port: int | None = None,
) -> int:
    """The `wardcopy demo` command: make the demo, print a summary, open the viewer."""
    target = folder or Path(tempfile.mkdtemp(prefix="wardcopy-demo-"))
    started = time.perf_counter()
    print(f"Wardcopy demo in {target}")
    result = make_demo(target, patients, seed)
    seconds = time.perf_counter() - started
    report = result.cycle.report
    print(
        f"  generated and imported {report.total_resources:,} FHIR resources "
        f"for {report.patients:,} patients"
    )
    for ward in result.cycle.wards:
        print(
            f"  {ward.ward_id:<14} {ward.ward_name:<36} {ward.patients:>4} patients  "
            f"package {ward.sequence}  {ward.size / 1e6:.1f} MB"
        )
    print(f"  signed, encrypted, published, received and verified in {seconds:.1f} s")
    print()
    print(f"Laptop folder (snapshots, device key, audit log): {result.laptop_home}")
    print("Demo logins (user / password):")
    for user_id, name, role, password in DEMO_USERS:
        print(f"  {user_id:<8} / {password:<13} {role}  ({name})")
    print()
    print(f"Open the viewer again: wardcopy --home {result.laptop_home} view")
    print(f"Print a census:        wardcopy --home {result.laptop_home} print census --out c.pdf")
    if not view:
        return 0
    from app.ui.launch import run_viewer

    return run_viewer(result.laptop_home, browser=browser, port=port)
