"""The login form's state and checks (pure; the auth decision is app.auth's)."""

from __future__ import annotations

from dataclasses import dataclass

from app.ui.strings import tr


@dataclass
class LoginForm:
    """The login form's state: which mode, what to say. The auth decision is app.auth's."""

    break_glass: bool = False
    message: str | None = None
    message_is_error: bool = False
    # What was typed (never the password): shown again after an error or a redraw.
    user_id: str = ""
    name: str = ""
    reason: str = ""

    def remember(self, user_id: str, name: str, reason: str) -> None:
        """Keep the typed user id, break-glass name and reason (not the password)."""
        self.user_id, self.name, self.reason = user_id, name, reason

    def validate(
        self, user_id: str, password: str, name: str, reason: str, lang: str
    ) -> str | None:
        """A message naming what is missing, or None when the form can be submitted.

        Break-glass needs a name and a reason (no account); a normal login id and password.
        """
        if self.break_glass:
            if len(name.strip()) < 3:
                return tr("login.need_name", lang)
            if len(reason.strip()) < 5:
                return tr("login.need_reason", lang)
            return None
        if not user_id.strip():
            return tr("login.need_user", lang)
        if not password:
            return tr("login.need_password", lang)
        return None
