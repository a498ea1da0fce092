"""The print dialog: choose a document (patient summary, MAR 24 h / 72 h, or the census), then
print it on a printer or save it as a PDF. Every printout is audited."""

from __future__ import annotations

import logging
from typing import Any

import flet as ft

from app.present.catalog import t
from app.ui import theme
from app.ui.screens.host import ScreenHost
from app.ui.viewmodels.settings import is_default_document, print_documents
from app.ui.widgets.basic import text

log = logging.getLogger(__name__)


class PrintDialog:
    """Opens the dialog over the current screen; rendering runs on the session's worker."""

    def __init__(self, host: ScreenHost) -> None:
        self.host = host

    async def open(self, *, patient: bool, docs: list[str] | None = None) -> None:
        """Show the dialog: patient documents when `patient`, else the census; `docs` names
        the documents to offer instead (the due screen: ["due4"] = medications due, 4 h)."""
        host = self.host
        tr = host.translate
        printers = await host.on_worker(host.backend.printers)
        mar_hours = host.backend.settings.mar_hours
        if not docs:
            docs = print_documents(patient=patient, mar_hours=mar_hours)

        def label(doc: str) -> str:
            if doc.startswith("due") and doc[3:].isdigit():
                return t("due.title", host.lang, hours=int(doc[3:]))
            if is_default_document(doc, mar_hours):
                return tr("print.default", label=tr(f"print.{doc}"))
            return tr(f"print.{doc}")

        doc_group = ft.RadioGroup(
            value=docs[0],
            content=ft.Column([ft.Radio(value=d, label=label(d)) for d in docs], tight=True),
        )
        default = host.backend.settings.default_printer
        printer_dd = (
            host.dropdown(  # Tab, Enter, arrows: usable without a mouse
                tr("print.printer"),
                default if default in printers else printers[0],
                [(p, p) for p in printers],
                width=420,
            )
            if printers
            else None
        )
        status = text("", theme.FONT_BODY)

        async def run(to_pdf: bool) -> None:
            host.touch()
            doc = doc_group.value or docs[0]
            status.value, status.color = tr("loading"), theme.INK
            host.update()
            try:
                message = await self.render_and_send(
                    doc, None if printer_dd is None else printer_dd.value, to_pdf
                )
                status.value, status.color = message, theme.INK
            except Exception as exc:  # show the reason; never crash the viewer over a printer
                log.warning("printing failed: %s", exc)
                status.value = tr("print.failed", reason=str(exc) or type(exc).__name__)
                status.color = theme.DANGER
            host.update()

        content: list[ft.Control] = [
            text(tr("print.document"), theme.FONT_BODY, bold=True),
            doc_group,
        ]
        if printer_dd is not None:
            content.append(printer_dd)
        else:
            content.append(
                text(tr("print.no_printer"), theme.FONT_BODY, bold=True, color=theme.WARN)
            )
        content.append(text(tr("print.pdf_warning"), theme.FONT_SMALL, color=theme.MUTED))
        content.append(status)

        async def pdf(_e: Any) -> None:
            await run(True)

        async def send(_e: Any) -> None:
            await run(False)

        actions: list[ft.Control] = [
            ft.TextButton(tr("cancel"), on_click=host.handler(host.close_dialog)),
            ft.OutlinedButton(
                tr("print.save_pdf"), icon=ft.Icons.PICTURE_AS_PDF, on_click=host.handler(pdf)
            ),
        ]
        if printer_dd is not None:
            actions.append(
                ft.Button(tr("print.do_print"), icon=ft.Icons.PRINT, on_click=host.handler(send))
            )
        host.show_dialog(
            ft.AlertDialog(
                title=text(tr("print.title"), theme.FONT_TITLE, bold=True),
                content=ft.Container(ft.Column(content, tight=True, spacing=10), width=480),
                actions=actions,
            )
        )

    async def render_and_send(self, doc: str, printer: str | None, to_pdf: bool) -> str:
        """Render `doc` on the worker, then print it or offer it for saving. Returns status text.

        Raises RuntimeError with the printing system's message when printing fails.
        """
        host = self.host
        who = host.user.display_name if host.user else ""
        now = host.now()
        ward_wide = doc == "census" or doc.startswith("due")
        record = None if ward_wide or host.chart is None else host.chart.record
        rows = None
        if doc == "census":
            rows = host.census.visible() if host.census.query.strip() else host.census.rows
        pdf: bytes = await host.on_worker(
            host.backend.render_document,
            doc,
            record=record,
            rows=rows,
            printed_by=who,
            lang=host.lang,
            now=now,
            tz=host.tz,
            hospital=host.chart_hospital and record is not None,
            break_glass=bool(host.user and host.user.break_glass),
        )
        patient_id = record.id if record is not None else None
        if to_pdf:
            picker = ft.FilePicker()
            name = f"wardcopy-{doc}-{now.astimezone(host.tz):%Y%m%d-%H%M}.pdf"
            saved = await picker.save_file(
                dialog_title=host.translate("print.save_pdf"), file_name=name, src_bytes=pdf
            )
            if host.page.web:
                # In a browser the file is a download: the browser decides the folder.
                await host.audit(
                    "print", patient_id=patient_id, document=doc, output="pdf-download"
                )
                return host.translate("print.downloaded", name=name)
            if not saved:  # the save dialog was cancelled: nothing left the program
                return host.translate("print.save_cancelled")
            await host.audit("print", patient_id=patient_id, document=doc, output="pdf")
            return host.translate("print.saved", path=saved)
        result = await host.on_worker(host.backend.print_pdf, pdf, printer, host.lang)
        if result.ok:
            await host.audit(
                "print", patient_id=patient_id, document=doc, printer=result.printer or printer
            )
            return host.translate("print.sent", printer=result.printer or printer or "")
        await host.audit(
            "print_failed",
            patient_id=patient_id,
            document=doc,
            printer=result.printer or printer,
            reason=result.reason,
        )
        raise RuntimeError(result.message)
