"""Interop guidelines and the local compliance verdict; no tempest, no CLI needed.

    >>> from tcup_pytest.interop import Guideline, Verdict              # doctest: +SKIP
    >>> Verdict.judge(Guideline.load("2020.06"), results).passed        # doctest: +SKIP
"""

from tcup_pytest.interop.guidelines import Capability, Guideline, GuidelineError, GuidelineTest
from tcup_pytest.interop.verdict import Verdict

__all__ = ["Capability", "Guideline", "GuidelineError", "GuidelineTest", "Verdict"]
