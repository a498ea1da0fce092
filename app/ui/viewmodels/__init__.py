"""Pure, client-free view-models for the viewer screens, one module per screen.

Everything a screen shows is computed here from the record model (sync.model) and plain values
(now, time zone, language), so it is unit-tested without Flet. The Flet screens (app.ui.screens)
and widgets (app.ui.widgets) only lay these values out. No I/O and no Flet import here.
"""
