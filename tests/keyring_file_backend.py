"""A real keyring backend that keeps its entries in a JSON file (WARDCOPY_TEST_KEYRING), so that
separate `wardcopy` processes share one keyring the way they share the OS keychain. Select it
with PYTHON_KEYRING_BACKEND=keyring_file_backend.FileKeyring and this folder on PYTHONPATH.

`listing` False makes `get_credential(service, None)` find nothing, like backends that cannot
list their entries (macOS Keychain, Windows Credential Manager through keyring)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.credentials import Credential, SimpleCredential


class FileKeyring(KeyringBackend):
    priority = 1

    @property
    def _path(self) -> Path:
        return Path(os.environ["WARDCOPY_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path.read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, str]) -> None:
        self._path.write_text(json.dumps(data, indent=1, sort_keys=True))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\n{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\n{username}", None)
        self._save(data)

    def get_credential(self, service: str, username: str | None) -> Credential | None:
        if username is not None:
            password = self.get_password(service, username)
            return SimpleCredential(username, password) if password is not None else None
        if os.environ.get("WARDCOPY_TEST_KEYRING_NO_LISTING"):
            return None
        for key, password in self._load().items():
            entry_service, _, name = key.partition("\n")
            if entry_service == service:
                return SimpleCredential(name, password)
        return None
