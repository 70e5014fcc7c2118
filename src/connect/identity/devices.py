"""A short, human label for a login's device, derived from its User-Agent once.

Only the label ("Chrome on Android") is stored, never the User-Agent: the
full string is a fingerprint (versions, build numbers, device models) and
the sessions list needs nothing more than enough to recognise one's own
phone or laptop. Unknown agents get no label (the UI says "Unknown device"
in the user's language).
"""

from __future__ import annotations

LABEL_MAX = 48
# Most specific first: Edge and Opera say "Chrome", Chrome says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_label(user_agent: str | None) -> str | None:
    """``"<browser> on <system>"``, one of the two alone, or None when neither is known."""
    if not user_agent:
        return None
    agent = user_agent[:512]
    browser = next((name for token, name in _BROWSERS if token in agent), None)
    system = next((name for token, name in _SYSTEMS if token in agent), None)
    label = f"{browser} on {system}" if browser and system else browser or system or ""
    return label[:LABEL_MAX] or None
