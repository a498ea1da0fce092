"""The Flet viewer: thin screens over pure, client-free view-models.

- `shell`       the window frame (banner, notices, body), the routes between screens, `make_main`
- `screens/`    one module per screen: problem, login, lock, census, chart, due list, print
                dialog, settings, admin status; `host` holds the state and plumbing they share
- `viewmodels/` pure view-models, one module per screen (no Flet, no I/O), unit-tested
- `widgets/`    Flet controls built from the view-models (layout only)
- `session`     the glue to the other modules: installed snapshot, roster login, audit, settings
- `fmt`         the viewer's short names for the presentation layer (app.present), matching, sorting
- `strings`     `tr`, the viewer's text lookup (texts in app.present.messages.screen)
- `theme`       colours and type sizes
- `launch`      `run_viewer()`: native desktop client when available, else a local browser window
- `main`, `state`, `views`   old import names of shell, viewmodels and widgets, kept working
"""
