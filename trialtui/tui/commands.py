"""Command palette: jump to a screen, a study, a patient or a biomarker; show the command
that reproduces the view."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider


class TrialCommands(Provider):
    """Screens, studies, and the patients and biomarkers of the open study."""

    def _entries(self) -> list[tuple[str, object, str]]:
        app = self.app
        entries: list[tuple[str, object, str]] = []
        from trialtui.tui.app import SCREENS

        for mode, label in SCREENS.items():
            entries.append((f"Screen: {label}", partial(app.switch_mode, mode), "go to screen"))
        for study in getattr(app, "studies", []):
            entries.append(
                (f"Study: {study}", partial(app.open_study, study), "open study with its settings")
            )
        entries.append(
            (
                "Show command",
                app.action_show_command,
                "the trialtui command line that reproduces the table in view",
            )
        )
        data = getattr(app, "data", None)
        if data is not None:
            for patient in data.patients["patient_id"].to_list():
                entries.append(
                    (f"Patient: {patient}", partial(app.open_patient, patient), "open patient")
                )
            for marker in data.biomarkers["biomarker"].to_list():
                entries.append(
                    (f"Biomarker: {marker}", partial(app.open_biomarker, marker), "open biomarker")
                )
        return entries

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, text=text, help=help_text)
