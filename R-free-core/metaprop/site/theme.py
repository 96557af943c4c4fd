"""House style for plots: theme_bw-based, Okabe-Ito colour-blind-safe palette, pinned sizes."""

from __future__ import annotations

from plotnine import element_blank, element_text, theme, theme_bw

__all__ = ["OKABE_ITO", "theme_metaprop", "FONT_SIZE", "plain_text"]

#: Okabe & Ito (2008) palette, distinguishable with every common colour-vision deficiency
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "skyblue": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermilion": "#D55E00", "purple": "#CC79A7",
             "grey": "#595959"}
FONT_SIZE = 9


def theme_metaprop(base_size: int = FONT_SIZE) -> theme:
    """theme_bw without grid, box or axis furniture: forest and funnel plots draw their own."""
    return theme_bw(base_size=base_size) + theme(
        panel_grid=element_blank(), panel_border=element_blank(), axis_ticks=element_blank(),
        axis_text_y=element_blank(), axis_title_y=element_blank(),
        plot_title=element_text(size=base_size + 2, ha="left"),
        plot_caption=element_text(size=base_size, ha="left"),
    )


def plain_text(text) -> str:
    """Contributor text drawn as itself: matplotlib would read ``$...$`` as mathtext."""
    return str(text).replace("$", r"\$")
