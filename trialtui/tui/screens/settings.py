"""Settings: timepoint pairing, LLOQ policy, reference arm, FDR method; apply recomputes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from trialtui.analysis.settings import AnalysisSettings
from trialtui.study import StudyData, StudyResults
from trialtui.tui.screens.base import ResultsScreen
from trialtui.tui.views import name_options

LLOQ_OPTIONS = [("LLOQ/2", "half"), ("LLOQ", "lloq"), ("exclude", "exclude")]
FDR_OPTIONS = [("Benjamini-Hochberg", "bh"), ("Holm", "holm")]


class SettingsScreen(ResultsScreen):
    BINDINGS = [Binding("ctrl+r", "apply", "Apply", priority=True)]

    SUB_TITLE = "Settings"
    AUTO_FOCUS = "#set-timepoint"
    CSS_PATH = "settings.tcss"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="settings"):
            with Grid(id="settings-grid"):
                yield Label("Baseline timepoint")
                yield Select([], id="set-baseline", prompt="study baseline")
                yield Label("On-treatment timepoint")
                yield Select([], id="set-timepoint", prompt="first after baseline")
                yield Label("Below LLOQ")
                yield Select(LLOQ_OPTIONS, id="set-lloq", allow_blank=False, value="half")
                yield Label("Zero pseudocount")
                yield Input(
                    placeholder="default: half the smallest positive value", id="set-pseudocount"
                )
                yield Label("Reference arm")
                yield Select([], id="set-reference", prompt="study reference arm")
                yield Label("Multiplicity")
                yield Select(FDR_OPTIONS, id="set-fdr", allow_blank=False, value="bh")
                yield Label("Confidence level")
                yield Input("0.95", id="set-conf")
            with Horizontal(id="settings-actions"):
                yield Button("Apply", id="apply", variant="primary")
                yield ProgressBar(total=100, show_eta=False, id="settings-progress")
            yield Static("", id="settings-message", markup=False)

    def show_results(self, data: StudyData, results: StudyResults) -> None:
        s = results.settings
        points = data.timepoints["timepoint"].to_list()
        baseline = results.pairing.baseline_timepoint
        # the study's own timepoints and arms only; the resolved defaults are remembered
        # so that an untouched field stays "the study's default" when applied
        self._applied = s
        self._resolved = {
            "baseline_timepoint": baseline,
            "timepoint": results.pairing.timepoint,
            "reference_arm": results.reference_arm,
        }
        self._fill("#set-baseline", points, baseline)
        self._fill(
            "#set-timepoint", [p for p in points if p != baseline], results.pairing.timepoint
        )
        self._fill("#set-reference", data.arm_names, results.reference_arm)
        reference = self.query_one("#set-reference", Select)
        reference.disabled = results.is_single_arm
        reference.tooltip = (
            "single-arm study: no comparisons"
            if results.is_single_arm
            else f"{results.reference_arm} ({results.reference_reason})"
        )
        self.query_one("#set-lloq", Select).value = s.lloq_policy
        self.query_one("#set-fdr", Select).value = s.fdr
        self.query_one("#set-pseudocount", Input).value = (
            "" if s.pseudocount is None else str(s.pseudocount)
        )
        self.query_one("#set-conf", Input).value = str(s.conf_level)
        self.query_one("#settings-progress", ProgressBar).update(progress=100)
        self.query_one("#settings-message", Static).update("")

    def sync(self) -> None:
        super().sync()
        if self.trial.computing:
            self.query_one("#settings-progress", ProgressBar).update(
                progress=round(100 * self.trial.progress)
            )

    def _fill(self, selector: str, values: list[str], value: str) -> None:
        select = self.query_one(selector, Select)
        select.set_options(name_options(values))
        if value in values:
            select.value = value

    def read_settings(self) -> AnalysisSettings:
        """Settings from the form; raises ValueError with a readable message."""
        pseudo_text = self.query_one("#set-pseudocount", Input).value.strip()
        conf_text = self.query_one("#set-conf", Input).value.strip()
        try:
            pseudocount = float(pseudo_text) if pseudo_text else None
        except ValueError:
            raise ValueError(f"pseudocount must be a number, got '{pseudo_text}'") from None
        try:
            conf = float(conf_text)
        except ValueError:
            raise ValueError(f"confidence level must be a number, got '{conf_text}'") from None
        return AnalysisSettings(
            baseline_timepoint=self._choice("#set-baseline", "baseline_timepoint"),
            timepoint=self._choice("#set-timepoint", "timepoint"),
            lloq_policy=self.query_one("#set-lloq", Select).value,  # type: ignore[arg-type]
            pseudocount=pseudocount,
            reference_arm=self._choice("#set-reference", "reference_arm"),
            fdr=self.query_one("#set-fdr", Select).value,  # type: ignore[arg-type]
            conf_level=conf,
        )

    def _chosen(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else None

    def _choice(self, selector: str, field: str) -> str | None:
        """The field's choice; None (the study's default) while it is left at the default
        it resolved to, so the reference arm keeps its reason and a default follows the
        data."""
        value = self._chosen(selector)
        applied = getattr(self, "_applied", None)
        resolved = getattr(self, "_resolved", {})
        if applied is not None and getattr(applied, field) is None and value == resolved.get(field):
            return None
        return value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.apply()

    def action_apply(self) -> None:
        self.apply()

    def apply(self) -> None:
        message = self.query_one("#settings-message", Static)
        try:
            settings = self.read_settings()
        except ValueError as exc:
            message.update(Text(str(exc), style="red"))
            return
        message.update("recomputing…")
        self.query_one("#settings-progress", ProgressBar).update(progress=0)
        self.trial.recompute(settings=settings)
