"""Flet controls built from the view-models in app.ui.viewmodels. Layout only: no state, no I/O.

Each function takes display values and returns a control; event handlers are passed in by the
screens (app.ui.screens). One module per part of the screen: basic blocks, markers, banner,
census table, chart.
"""
