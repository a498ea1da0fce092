"""The Flet viewer: thin views over pure, client-free view-models.

- `state`    pure view-models (login, census/search, chart, banner, idle lock), unit-tested
- `fmt`      pure formatting (ages, dates, durations) used by the view-models
- `strings`  `tr`, the viewer's text lookup (texts in app.present.messages.screen)
- `session`  the glue to the other modules: installed snapshot, roster login, audit, settings
- `views`    Flet controls built from the view-models
- `main`     the Flet `main(page)` entry and screen flow
- `launch`   `run_viewer()`: native desktop client when available, else a local browser window
"""
