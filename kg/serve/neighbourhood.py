"""A picture of an entity's neighbourhood: the entities named with it, as an SVG drawn on the server.

The entity sits in the middle; the entities most often named with it sit around it, nearer and
joined by a thicker line the more sentences they share; thin lines join neighbours that are named
together too. No script, no fonts or files from elsewhere: the SVG is part of the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..model import Kind

#: Fill colours per kind of node (the same classes colour mentions in article text).
COLOURS = {
    Kind.PERSON: "#3b6fb6",
    Kind.ORGANIZATION: "#b5642a",
    Kind.PLACE: "#3f8f4e",
    Kind.EVENT: "#8a4bb0",
    "Other": "#7a7a7a",
}
WIDTH, HEIGHT = 640, 440


@dataclass(frozen=True)
class Neighbour:
    """An entity next to another: its IRI, label, kind and how much they share."""

    iri: str
    label: str
    kind: str
    sentences: int
    articles: int

    @property
    def weight(self) -> int:
        return self.sentences * 3 + self.articles


def _clip(text: str, width: int = 22) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _node(x: float, y: float, r: float, n: Neighbour, href: str | None, detail: str, central: bool = False) -> str:
    colour = COLOURS.get(n.kind, COLOURS["Other"])
    label_y = y + r + 14
    cls = "node centre" if central else "node"
    shape = (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}" stroke="#fff" stroke-width="2"/>'
        f'<text x="{x:.1f}" y="{label_y:.1f}" text-anchor="middle" font-size="{13 if central else 12}"'
        f' font-weight="{"bold" if central else "normal"}" fill="#222">'
        f"{escape(_clip(n.label, 28 if central else 22))}</text>"
    )
    title = f"<title>{escape(n.label)} ({escape(n.kind)}){escape(detail)}</title>"
    if href:
        return f'<a class="{cls}" href="{escape(href)}">{title}{shape}</a>'
    return f'<g class="{cls}">{title}{shape}</g>'


def draw(
    centre: Neighbour,
    neighbours: list[Neighbour],
    links: list[tuple[int, int, int]],
    href: Callable[[str], str | None] = lambda iri: None,
) -> Markup:
    """The SVG: `links` are (i, j, shared sentences) between neighbours, by index."""
    cx, cy = WIDTH / 2, HEIGHT / 2 - 10
    if not neighbours:
        body = _node(cx, cy, 22, centre, None, "", central=True) + (
            f'<text x="{cx}" y="{cy + 70}" text-anchor="middle" font-size="12" fill="#666">'
            "named with no other entity</text>"
        )
        return Markup(_svg(body, centre.label))
    heaviest = max(n.weight for n in neighbours) or 1
    positions = []
    count = len(neighbours)
    for i in range(count):
        angle = -math.pi / 2 + 2 * math.pi * i / count
        ring = 0.8 if count > 8 and i % 2 else 1.0  # stagger a crowded ring so labels do not collide
        positions.append((cx + 250 * ring * math.cos(angle), cy + 160 * ring * math.sin(angle)))
    edges = []
    for i, j, shared in links:
        (x1, y1), (x2, y2) = positions[i], positions[j]
        edges.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#d5d5d5" stroke-opacity="0.7" '
            f'stroke-width="{min(3, 0.6 + shared * 0.3):.1f}"><title>{shared} shared sentence(s)</title></line>'
        )
    for (x, y), n in zip(positions, neighbours, strict=True):
        width = 1 + 6 * n.weight / heaviest
        edges.append(
            f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#8da2bf" '
            f'stroke-width="{width:.1f}" stroke-opacity="0.8"><title>{n.sentences} sentence(s), '
            f"{n.articles} article(s) together</title></line>"
        )
    nodes = [
        _node(
            x,
            y,
            8 + 10 * math.sqrt(n.weight / heaviest),
            n,
            href(n.iri),
            f": {n.sentences} sentence(s), {n.articles} article(s)",
        )
        for (x, y), n in zip(positions, neighbours, strict=True)
    ]
    nodes.append(_node(cx, cy, 24, centre, None, "", central=True))
    legend = "".join(
        f'<circle cx="{14 + 100 * k}" cy="{HEIGHT - 12}" r="6" fill="{COLOURS[kind]}"/>'
        f'<text x="{24 + 100 * k}" y="{HEIGHT - 8}" font-size="11" fill="#444">{kind}</text>'
        for k, kind in enumerate((Kind.PERSON, Kind.ORGANIZATION, Kind.PLACE, Kind.EVENT))
    )
    return Markup(_svg("".join(edges) + "".join(nodes) + legend, centre.label))


def _svg(body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)} and the entities named with it" '
        f'font-family="system-ui, sans-serif">{body}</svg>'
    )
