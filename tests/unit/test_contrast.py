"""Cookout's colours are readable: text meets WCAG 2 AA contrast (4.5:1) on the backgrounds it sits on,
computed with WCAG's relative-luminance formula from the stylesheet itself."""

from __future__ import annotations

import re

from cookout.platform.templating import STATIC_DIR

CSS = (STATIC_DIR / "cookout.css").read_text()
AA_TEXT, AA_NON_TEXT = 4.5, 3.0


def custom_properties() -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", CSS)
    assert root, "the stylesheet defines no :root colours"
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})", root.group(1)))


COLOURS = custom_properties()


def hex_of(value: str) -> str | None:
    """A colour as #rrggbb, resolving var(--x); None for what is not one plain colour."""
    value = value.strip()
    if found := re.fullmatch(r"var\((--[\w-]+)\)", value):
        value = COLOURS[found.group(1)]
    if value in ("#fff", "white"):
        return "#ffffff"
    return value if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_wcag_formula_gives_the_known_ratios() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#ffffff", "#d9480f"), 1) == 4.3  # the old orange, which failed AA
    assert contrast("#777777", "#ffffff") < AA_TEXT < contrast("#767676", "#ffffff")


def test_white_on_the_primary_orange_and_the_site_text_colours_meet_aa() -> None:
    pairs = [("--on-fire", "--fire"), ("--on-fire", "--fire-dark"), ("--ink", "--paper"), ("--muted", "--paper"),
             ("--muted", "--card"), ("--fire-dark", "--paper"), ("--fire-dark", "--card"), ("--bad", "--card"),
             ("--ok", "--card")]
    low = {f"{fg} on {bg}": round(contrast(COLOURS[fg], COLOURS[bg]), 2) for fg, bg in pairs
           if contrast(COLOURS[fg], COLOURS[bg]) < AA_TEXT}
    assert low == {}


def test_the_focus_outline_stands_out_from_the_page() -> None:
    assert contrast(COLOURS["--focus"], COLOURS["--paper"]) >= AA_NON_TEXT


def test_every_rule_that_sets_text_and_background_colours_meets_aa() -> None:
    low = {}
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        declared = dict(re.findall(r"(?:^|;)\s*(color|background(?:-color)?)\s*:\s*([^;]+)", body))
        text = hex_of(declared.get("color", ""))
        ground = hex_of(declared.get("background", declared.get("background-color", "")))
        if text and ground and contrast(text, ground) < AA_TEXT:
            low[selector.strip()] = round(contrast(text, ground), 2)
    assert low == {}
