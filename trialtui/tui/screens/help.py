"""Help: keys and what each screen shows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# trialtui

Paired pre/post-treatment biomarkers of a trial: fold-change FC = post / pre,
log2FC = log2(post) - log2(pre), per patient, per arm and between arms.

| key | |
|---|---|
| `1` … `7` | Overview, Patients, Arms, Statistics, Correlations, SQL, Settings |
| `ctrl+p` | command palette: jump to a screen, patient or biomarker |
| `ctrl+e` | export the table in view to CSV (with a provenance file) |
| `i` | import CSV, Parquet or SAS XPT files into the open database (all or nothing) |
| `ctrl+g` | show (and copy) the command line that reproduces the table in view |
| `?` / `q` | this help / quit |

**Every table**: the bottom edge shows the rows in view ("rows 2,401-2,440 of 3,000") and
the legend of arm codes; the top edge says how the table is sorted.

| key | |
|---|---|
| `↑` `↓` `PgUp` `PgDn` | move through all rows, however many |
| `g` `Home` `ctrl+home` / `G` `End` `ctrl+end` | first / last row |
| `←` `→` | more columns (key columns such as biomarker, arm, patient stay) |
| `/` | filter: text, or conditions such as `q < 0.05`, `n >= 10 and arm = D+P`, `biomarker ~ cd` |
| `enter` (in the filter) / `escape` | keep the filter / clear it |
| `enter` | open the patient / biomarker under the cursor |
| click a header | sort by that column (again: reverse) |
| `escape` | back |

| screen | key | |
|---|---|---|
| Statistics | `s` | sort by q, p, effect size or name |
| | `e` | lead with another effect (Welch ratio, Mann-Whitney shift, ANCOVA ratio) |
| | `v` | volcano plot (the cursor's biomarker is marked) |
| Biomarker | `n` `b` `l` | numbers, box/strip, slope (pre → post on a log axis) |
| | `w` `t` | waterfall, trajectory (three or more timepoints) |
| Correlations | `h` | heatmap (a highlighted pair shows its scatter) |
| SQL | `F5` `ctrl+r` | run (also `ctrl+enter`) · `ctrl+k` cancels |
| | `F8` | history (searchable) |
| | `ctrl+s` | save the editor as a query file in your query folder |
| | `tab` | next field (`shift+tab`: previous) |

**Statistics** follow R: Wilcoxon tests as `wilcox.test` (exact below 50 without ties,
else normal approximation with continuity correction), Welch and paired t-tests on the
log scale, Benjamini-Hochberg or Holm q-values across biomarkers. A group with fewer than
3 pairs shows no p-value. Change the pairing, LLOQ handling, reference arm and FDR method
on the Settings screen.
"""


class HelpScreen(ModalScreen[None]):
    """Key bindings and conventions."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; height: 90%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
