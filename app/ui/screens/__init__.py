"""The viewer's screens, one module each: problem, login, lock, census, chart, print dialog,
settings. Each takes the session's `ScreenHost` (app.ui.screens.host); the shell
(app.ui.shell) routes between them."""
