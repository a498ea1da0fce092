"""The viewer's view-models under their old import name (they live in app.ui.viewmodels).

Kept so that `from app.ui.state import CensusModel` and the like keep working; new code imports
from the per-screen modules in app.ui.viewmodels.
"""

from __future__ import annotations

from app.ui.viewmodels.banner import BannerView, UserView, banner_view
from app.ui.viewmodels.census import CensusLine, CensusModel, SortKey, census_line
from app.ui.viewmodels.chart import (
    AdminLine,
    AllergyLine,
    ChartHeader,
    ChartModel,
    DueView,
    LabGroup,
    MedLine,
    ObsLine,
    Section,
    TestHistory,
    TextItem,
)
from app.ui.viewmodels.common import (
    RESTRICTIVE_CODES,
    CodeStatusView,
    code_status_view,
    is_isolation_flag,
)
from app.ui.viewmodels.lock import IdleLock
from app.ui.viewmodels.login import LoginForm
from app.ui.viewmodels.settings import changed_keys, settings_changes

__all__ = [
    "RESTRICTIVE_CODES",
    "AdminLine",
    "AllergyLine",
    "BannerView",
    "CensusLine",
    "CensusModel",
    "ChartHeader",
    "ChartModel",
    "CodeStatusView",
    "DueView",
    "IdleLock",
    "LabGroup",
    "LoginForm",
    "MedLine",
    "ObsLine",
    "Section",
    "SortKey",
    "TestHistory",
    "TextItem",
    "UserView",
    "banner_view",
    "census_line",
    "changed_keys",
    "code_status_view",
    "is_isolation_flag",
    "settings_changes",
]
