"""The roster's Argon2id password verifier as a pydantic model (a field of `sync.roster.StaffUser`),
and `hash_password`, which makes one.

Kept apart from `sync.keys` so that checking a password (`sync.keys.verify_password`, which reads
any object with these fields) loads no pydantic: `wardcopy print` starts its Argon2id check before
pydantic is imported (docs/performance.md, fourth pass). Pure apart from the randomness of a salt.
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sync.keys import (
    ARGON2_DEFAULT,
    MAX_LANES,
    MAX_MEMORY_KIB,
    MAX_TIME_COST,
    Argon2Cost,
    argon2id,
    b64url_encode,
)

__all__ = ["PasswordVerifier", "hash_password"]


class PasswordVerifier(BaseModel):
    """An Argon2id password verifier as stored in the signed roster."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alg: Literal["argon2id"] = "argon2id"
    salt: str = Field(description="base64url, 16 bytes")
    time_cost: int = Field(ge=1, le=MAX_TIME_COST)
    memory_cost: int = Field(ge=8, le=MAX_MEMORY_KIB, description="KiB")
    lanes: int = Field(ge=1, le=MAX_LANES)
    hash: str = Field(description="base64url, 32 bytes")


def hash_password(password: str, cost: Argon2Cost = ARGON2_DEFAULT) -> PasswordVerifier:
    """Make an Argon2id verifier with a random 16-byte salt. Pure apart from the randomness."""
    salt = secrets.token_bytes(16)
    digest = argon2id(password, salt, cost)
    return PasswordVerifier(
        salt=b64url_encode(salt),
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost_kib,
        lanes=cost.lanes,
        hash=b64url_encode(digest),
    )
