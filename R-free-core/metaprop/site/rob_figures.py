"""Risk of bias in the layout of robvis (McGuinness & Higgins 2021): a traffic-light plot (one row
per study, one column per JBI item) and a summary bar per item weighted by the studies' patients.

Judgements are told apart by colour (Okabe-Ito, colour-blind safe) and by a symbol in each cell
(+ yes, - no, ? unclear, NA not applicable), so the plot reads without colour too.

References
----------
McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis). Res Synth Methods 12:55-61.
doi:10.1002/jrsm.1411
Munn Z, Barker TH, Moola S, et al. (2020). Methodological quality of case series studies. JBI Evid
Synth 18:2127-2133. doi:10.11124/JBISRIR-D-19-00099
"""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    coord_flip,
    element_text,
    geom_col,
    geom_point,
    geom_text,
    ggplot,
    guide_legend,
    guides,
    labs,
    scale_fill_manual,
    scale_x_discrete,
    scale_y_continuous,
    theme,
)

from .theme import FONT_SIZE, OKABE_ITO, plain_text, theme_metaprop

__all__ = ["JUDGEMENTS", "JBI_ITEMS", "traffic_light", "summary_bar", "rob_alt_text"]

#: judgement -> (label, colour, symbol)
JUDGEMENTS = {"yes": ("Yes", OKABE_ITO["green"], "+"), "unclear": ("Unclear", OKABE_ITO["yellow"], "?"),
              "no": ("No", OKABE_ITO["vermilion"], "\u2212"), "not_applicable": ("Not applicable", "#BBBBBB", "NA")}
#: the JBI critical appraisal checklist for case series, shortened for an axis
JBI_ITEMS = {1: "Clear inclusion criteria", 2: "Condition measured reliably", 3: "Valid identification",
             4: "Consecutive inclusion", 5: "Complete inclusion", 6: "Demographics reported",
             7: "Clinical information reported", 8: "Outcomes reported", 9: "Site reported",
             10: "Appropriate statistics"}


def _frame(rob: pd.DataFrame, studies: pd.DataFrame) -> pd.DataFrame:
    st = studies.set_index("study_id")
    df = rob.merge(studies[["study_id", "label", "year", "n_crt"]], on="study_id", how="inner")
    df["label"] = df["label"].map(plain_text)
    order = list(dict.fromkeys(plain_text(v) for v in st.sort_values(["year", "label"], ascending=False)["label"]))
    df["label"] = pd.Categorical(df["label"], categories=order, ordered=True)
    df["item"] = df["item"].astype(int)
    df["judgement"] = pd.Categorical(df["judgement"].astype(str), categories=list(JUDGEMENTS), ordered=True)
    return df


def traffic_light(rob: pd.DataFrame, studies: pd.DataFrame, width: float = 4.6):
    """One point per study and item, coloured and marked by the judgement."""
    df = _frame(rob, studies)
    df["symbol"] = [JUDGEMENTS[j][2] for j in df["judgement"]]
    height = 1.4 + 0.26 * df["label"].nunique()
    return (ggplot(df, aes("factor(item)", "label"))
            + geom_point(aes(fill="judgement"), size=5.5, shape="o", color="#333333", stroke=0.3)
            + geom_text(aes(label="symbol"), size=FONT_SIZE)
            + scale_fill_manual(values={k: v[1] for k, v in JUDGEMENTS.items()},
                                labels=[v[0] for v in JUDGEMENTS.values()], drop=False, name="Judgement")
            + guides(fill=guide_legend(nrow=2))
            + labs(x="JBI checklist item", y="", title="Risk of bias (JBI, case series)")
            + theme_metaprop()
            + theme(figure_size=(width, height), axis_text_y=element_text(size=FONT_SIZE),
                    axis_text_x=element_text(size=FONT_SIZE), legend_position="bottom",
                    legend_title=element_text(size=FONT_SIZE), legend_text=element_text(size=FONT_SIZE)))


def summary_bar(rob: pd.DataFrame, studies: pd.DataFrame, width: float = 4.6):
    """Per item, the share of patients (the studies' n) in studies with each judgement."""
    df = _frame(rob, studies)
    g = df.groupby(["item", "judgement"], observed=False)["n_crt"].sum().reset_index()
    g["share"] = 100 * g["n_crt"] / g.groupby("item")["n_crt"].transform("sum")
    g["item_label"] = pd.Categorical([f"{i}. {JBI_ITEMS[i]}" for i in g["item"]],
                                     categories=[f"{i}. {JBI_ITEMS[i]}" for i in sorted(JBI_ITEMS, reverse=True)],
                                     ordered=True)
    return (ggplot(g, aes("item_label", "share", fill="judgement"))
            + geom_col(width=0.7, color="#333333", size=0.2)
            + coord_flip()
            + scale_fill_manual(values={k: v[1] for k, v in JUDGEMENTS.items()},
                                labels=[v[0] for v in JUDGEMENTS.values()], drop=False, name="Judgement")
            + scale_y_continuous(limits=(0, 100.01), breaks=[0, 25, 50, 75, 100], expand=(0, 0))
            + scale_x_discrete()
            + guides(fill=guide_legend(nrow=2))
            + labs(x="", y="Share of patients, %", title="By share of patients")
            + theme_metaprop()
            + theme(figure_size=(width, 3.9), axis_text_y=element_text(size=FONT_SIZE),
                    axis_text_x=element_text(size=FONT_SIZE), axis_title_x=element_text(size=FONT_SIZE),
                    legend_position="bottom", legend_title=element_text(size=FONT_SIZE),
                    legend_text=element_text(size=FONT_SIZE)))


def rob_alt_text(rob: pd.DataFrame, studies: pd.DataFrame) -> str:
    """Both figures in words: per item, how many studies (and patients) have each judgement."""
    df = _frame(rob, studies)
    parts = []
    for item, g in df.groupby("item"):
        counts = g.groupby("judgement", observed=True).agg(k=("study_id", "size"), n=("n_crt", "sum"))
        said = ", ".join(f"{JUDGEMENTS[j][0].lower()} {int(r.k)} ({int(r.n)} patients)" for j, r in counts.iterrows())
        parts.append(f"item {item} ({JBI_ITEMS[item].lower()}): {said}")
    return (f"Risk of bias of {df['study_id'].nunique()} studies, JBI checklist for case series: "
            + "; ".join(parts) + ".")
