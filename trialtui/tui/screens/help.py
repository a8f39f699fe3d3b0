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
| `1` … `8` | Overview, Patients, Arms, Statistics, Correlations, SQL, Settings, Timecourse |
| `ctrl+p` | command palette: jump to a screen, patient or biomarker |
| `ctrl+e` | export the table in view to CSV (with a provenance file) |
| `i` | import CSV, Parquet or SAS XPT files into the open database (all or nothing) |
| `enter` | open the patient / biomarker under the cursor |
| `escape` | back |
| `[` `]` | previous / next page of a long table |
| `s` | Statistics: sort by q, p, effect or name |
| `v` | Statistics: volcano plot |
| `e` | Statistics: effect shown, sorted and plotted: Welch ratio, HL shift, ANCOVA ratio |
| `n` `b` `l` `w` | Biomarker: numbers, box/strip, slope, waterfall |
| `h` | Correlations: heatmap (a highlighted pair shows its scatter) |
| `/` | Patients: filter |
| `ctrl+enter` / `ctrl+r` | SQL: run the query |
| `?` | this help |
| `q` | quit |

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
