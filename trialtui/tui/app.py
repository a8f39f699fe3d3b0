"""The trialtui Textual app: modes for each screen, one analysis worker, export."""

from __future__ import annotations

import dataclasses
import gc
import importlib
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from trialtui.choices import LEVELS
from trialtui.errors import TrialtuiError
from trialtui.store import catalog
from trialtui.store.connection import connect
from trialtui.tui.commands import TrialCommands
from trialtui.tui.messages import CatalogReady, ComputeFailed, ComputeProgress, ResultsReady
from trialtui.tui.rows import RowsRead
from trialtui.tui.screens.base import ResultsScreen

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from trialtui.analysis import AnalysisSettings
    from trialtui.study import StudyData, StudyResults

# Start-up imports only what the first frame needs: the analysis (SciPy), the plots
# (plotext) and the screens not yet shown are imported when first used.

# Levels computed when a study opens; correlations (quadratic in the number of
# biomarkers) wait until the Correlations screen asks for them.
EAGER_LEVELS = ("patient", "arm", "comparison", "response")
# How long the worker waits for the catalog facts to be drawn before it goes on anyway.
CATALOG_DRAW_TIMEOUT = 2.0

SCREENS = {
    "overview": "Overview",
    "patients": "Patients",
    "arms": "Arms",
    "statistics": "Statistics",
    "correlations": "Correlations",
    "console": "SQL",
    "settings": "Settings",
    "timecourse": "Timecourse",
}

HERE = Path(__file__).resolve().parent

# Each mode's screen (module in trialtui.tui.screens, class): imported when first needed.
MODE_SCREENS = {
    "overview": ("overview", "OverviewScreen"),
    "patients": ("patients", "PatientsScreen"),
    "arms": ("arms", "ArmsScreen"),
    "statistics": ("statistics", "StatisticsScreen"),
    "correlations": ("correlations", "CorrelationsScreen"),
    "console": ("console", "ConsoleScreen"),
    "settings": ("settings", "SettingsScreen"),
    "timecourse": ("timecourse", "TimecourseScreen"),
}
# Screens whose modules are imported while the first statistics compute (the app is
# idle then), so that the first switch to one does not wait for them.
PREFETCHED_MODES = ("statistics", "patients", "arms")


class TrialApp(App):
    """Browse one trial database: studies, patients, arms, statistics, correlations, SQL."""

    TITLE = "trialtui"
    # the screens' styles too: read with the app's, a screen's first showing does not
    # parse and re-apply the app's whole stylesheet
    CSS_PATH = [
        HERE / "app.tcss",
        *(HERE / "screens" / f"{module}.tcss" for module, _ in MODE_SCREENS.values()),
    ]
    # MODES: added per app in __init__ (see MODE_SCREENS)
    DEFAULT_MODE = "overview"
    COMMANDS = App.COMMANDS | {TrialCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+e", "export", "Export", priority=True),
        Binding("i", "import_files", "Import"),
        Binding("ctrl+g", "show_command", "Command", show=False),
        *[
            Binding(str(i), f"show('{mode}')", label, show=i <= 5)
            for i, (mode, label) in enumerate(SCREENS.items(), start=1)
        ],
    ]

    def __init__(
        self,
        db_path: str | Path,
        *,
        study: str | None = None,
        settings: AnalysisSettings | None = None,
        read_only: bool | None = None,
    ) -> None:
        super().__init__()
        self._prefetching = False
        for mode in MODE_SCREENS:
            self.add_mode(mode, partial(self._mode_screen, mode))
        self.db_path = Path(db_path)
        # read-only: Apply recomputes the screens but cannot store the results (default:
        # whether the file is writable)
        self.read_only = (
            read_only
            if read_only is not None
            else self.db_path.exists() and not os.access(self.db_path, os.W_OK)
        )
        self.study_id = study
        # one AnalysisSettings per study; a study not yet opened gets the defaults (the
        # settings given here are those of the study opened first)
        self.study_settings: dict[str, AnalysisSettings] = {}
        self._initial_settings = settings  # None: the defaults
        self.store_error: str | None = None  # why Apply could not store the results
        self.data: StudyData | None = None
        self.results: StudyResults | None = None
        self.catalog: CatalogReady | None = None  # the open study's facts, before results
        self.studies: list[str] = []
        self.generation = 0
        self.computing = False
        self.progress = 0.0
        self.progress_text = "loading"
        self.last_error: str | None = None

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Textual's notification, its text shown as it is by default: errors, notes and
        commands quote paths, names and SQL, where ``a[i]`` or ``IL-6 [serum]`` is no
        markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # ------------------------------------------------------------------ screens

    def _mode_screen(self, mode: str) -> Screen:
        """The screen of ``mode``, made when the mode is first shown."""
        module, name = MODE_SCREENS[mode]
        return getattr(importlib.import_module(f"trialtui.tui.screens.{module}"), name)()

    def _prefetch_screens(self) -> None:
        """Import the main screens' modules (and the plotting library) in a thread while
        the app is idle, so that the first switch to one does not wait for them."""
        if self._prefetching:
            return
        self._prefetching = True
        modules = [f"trialtui.tui.screens.{MODE_SCREENS[mode][0]}" for mode in PREFETCHED_MODES]
        self._prefetch(modules)

    @work(thread=True, exit_on_error=False, group="prefetch")
    def _prefetch(self, modules: list[str]) -> None:
        for module in modules:
            importlib.import_module(module)

    # ------------------------------------------------------------------ analysis worker

    @property
    def settings(self) -> AnalysisSettings:
        """The settings of the open study (as chosen; None fields are the defaults)."""
        return self.settings_for(self.study_id)

    def settings_for(self, study: str | None) -> AnalysisSettings:
        """The settings kept for ``study``: the last applied, else the defaults."""
        chosen = self._chosen_settings(study)
        if chosen is None:
            from trialtui.analysis.settings import AnalysisSettings

            return AnalysisSettings()
        return chosen

    def _chosen_settings(self, study: str | None) -> AnalysisSettings | None:
        """The settings kept for ``study``, or None for the defaults (the worker makes
        them: the analysis package is not imported before the first frame)."""
        if study is not None and study in self.study_settings:
            return self.study_settings[study]
        if not self.study_settings:
            return self._initial_settings
        return None

    def on_mount(self) -> None:
        self.recompute()

    def recompute(
        self, *, study: str | None = None, settings: AnalysisSettings | None = None
    ) -> None:
        """Reload the study and recompute its results in a worker thread.

        ``study``: open another study with the settings kept for it. ``settings``: apply
        new settings to the open study; then every level is computed and stored in the
        database's derived tables, so that SQL and exports read what the screens show.
        """
        if study is not None:
            self.study_id = study
        store = settings is not None
        if settings is None:
            settings = self._chosen_settings(self.study_id)
        self._start_progress("loading the study")
        known = self.data.data_version if self.data is not None else None
        self._compute(self.study_id, settings, store=store, known_version=known)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compute")
    def _compute(
        self,
        study: str | None,
        settings: AnalysisSettings | None,
        *,
        store: bool = False,
        known_version: tuple[int, int] | None = None,
    ) -> None:
        worker = get_current_worker()

        def progress(text: str, fraction: float) -> None:
            if not worker.is_cancelled:
                self.post_message(ComputeProgress(text, fraction))

        notes: list[str] = []
        store_error = None
        try:
            con = connect(self.db_path, read_only=True)
            try:
                listing = catalog.studies(con)
                studies = listing["study_id"].to_list()
                if study is None and studies:
                    study = _default_study(listing)
                facts = self._post_catalog(con, listing, study, studies)
                if facts is not None:
                    # the facts go on screen before the analysis is imported: importing
                    # SciPy holds the interpreter, which would delay the first frame
                    facts.drawn.wait(CATALOG_DRAW_TIMEOUT)
                if worker.is_cancelled:
                    return
                from trialtui.study import load_study

                baseline = settings.baseline_timepoint if settings is not None else None
                data = load_study(con, study, baseline=baseline)
            finally:
                con.close()
            if worker.is_cancelled:
                return
            from trialtui.analysis.settings import AnalysisSettings
            from trialtui.study import compute, fit_settings, store_results

            if settings is None:
                settings = AnalysisSettings()
            if known_version is not None and data.data_version != known_version:
                notes.append(_changed_note(known_version, data.data_version))
            settings, unfit = fit_settings(data, settings)
            notes += unfit
            levels = LEVELS if store else EAGER_LEVELS
            results = compute(data, settings, levels=levels, progress=progress)
            # the pairs live on in the results; the app keeps no second copy of them
            data = dataclasses.replace(data, raw_pairs={})
            if store and self.read_only:
                store_error = f"{self.db_path}: opened read-only; results not stored"
            elif store and not worker.is_cancelled:
                progress("storing the results", 0.98)
                try:
                    store_results(self.db_path, results)
                except TrialtuiError as exc:
                    store_error = f"results not stored: {exc}"
        except TrialtuiError as exc:
            self.post_message(ComputeFailed(str(exc)))
            return
        except Exception as exc:  # a bug: show it as one line, keep the app alive
            self.post_message(ComputeFailed(f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(
                ResultsReady(
                    data, results, studies, notes=notes, store_error=store_error, stored=store
                )
            )

    def _post_catalog(
        self, con, listing: pl.DataFrame, study: str | None, studies: list[str]
    ) -> CatalogReady | None:
        """Post the study's name, arms and timepoints before loading its measurements;
        returns the message posted (None: the study is unknown)."""
        study_id = catalog.resolve_study(con, study)
        row = listing.filter(pl.col("study_id") == study_id)
        if row.is_empty():
            return None
        facts = CatalogReady(
            study_id,
            row.row(0, named=True),
            catalog.arms(con, study_id),
            catalog.timepoints(con, study_id),
            studies,
        )
        self.post_message(facts)
        return facts

    def catalog_drawn(self, facts: CatalogReady) -> None:
        """The screen in view has painted the catalog facts: the worker goes on, and the
        main screens are built while it computes."""
        facts.drawn.set()
        self.call_after_refresh(self._prefetch_screens)

    def on_catalog_ready(self, message: CatalogReady) -> None:
        if self.results is not None and self.results.study_id == message.study_id:
            message.drawn.set()
            return  # the screens already show this study's results
        self.catalog = message
        self.studies = message.studies
        screen = self.screen
        if self.results is None and isinstance(screen, ResultsScreen):
            # the screen sets message.drawn once the facts are on screen
            if screen.is_mounted:
                screen.sync()  # (else when it mounts)
        else:
            message.drawn.set()  # the screens show results until the new ones come
            self._refresh_screen()

    def ensure_level(self, level: str) -> None:
        """Compute a result level the current results lack, in a worker."""
        if self.results is None or self.data is None or self.computing:
            return
        if level in self.results.frames:
            return
        self._start_progress(f"computing {level} results")
        self._extend(self.data, self.results, level)

    def database_changed(self) -> str | None:
        """A note if imports were recorded since the open study was loaded, else None.

        Raises
        ------
        TrialtuiError
            The database cannot be opened now (e.g. another process is writing to it).
        """
        if self.data is None or self.data.data_version is None:
            return None
        con = connect(self.db_path, read_only=True)
        try:
            now = catalog.data_version(con)
        finally:
            con.close()
        if now == self.data.data_version:
            return None
        return _changed_note(self.data.data_version, now)

    def rows_are_current(self, message: RowsRead) -> bool:
        """Whether a detail screen's rows can be shown with the results on screen: read
        without error, from the data the results were computed from. Otherwise says why,
        or reloads the study when imports were made since."""
        if message.error is not None:
            self.notify(message.error, title="Cannot read the values", severity="error")
            return False
        known = self.data.data_version if self.data is not None else None
        if known is None or message.version == known:
            return True
        if not self.computing:
            self.recompute()  # which says that the database changed
        return False

    def _start_progress(self, text: str) -> None:
        gc.unfreeze()  # what the coming results replace may be collected (_settle_memory)
        self.computing = True
        self.progress = 0.0
        self.progress_text = text
        self._refresh_screen()

    @work(thread=True, exclusive=True, exit_on_error=False, group="compute")
    def _extend(self, data: StudyData, results: StudyResults, level: str) -> None:
        worker = get_current_worker()

        def progress(text: str, fraction: float) -> None:
            if not worker.is_cancelled:
                self.post_message(ComputeProgress(text, fraction))

        try:
            changed = self.database_changed()
            if changed is not None:  # compute nothing from stale data: reload instead
                self.call_from_thread(self.notify, f"{changed}; reloading", title="Database")
                self.call_from_thread(self.recompute)
                return
            from trialtui.study import with_levels

            extended = with_levels(results, (level,), progress=progress)
        except TrialtuiError as exc:
            self.post_message(ComputeFailed(str(exc)))
            return
        except Exception as exc:  # a bug: show it as one line, keep the app alive
            self.post_message(ComputeFailed(f"{type(exc).__name__}: {exc}"))
            return
        if not worker.is_cancelled:
            self.post_message(ResultsReady(data, extended, self.studies))

    def on_compute_progress(self, message: ComputeProgress) -> None:
        self.progress = message.fraction
        self.progress_text = message.text
        self._refresh_screen()

    def on_results_ready(self, message: ResultsReady) -> None:
        self.data, self.results, self.studies = message.data, message.results, message.studies
        self.study_id = message.data.study_id
        self.study_settings[self.study_id] = message.results.settings
        self.generation += 1
        self.computing = False
        self.last_error = None
        if message.stored:
            self.store_error = message.store_error
        for note in message.notes:
            self.notify(note, title="Settings" if "default" in note else "Database", timeout=8)
        if message.store_error:
            self.notify(message.store_error, title="Not stored", severity="warning", timeout=10)
        self._refresh_screen()
        self.call_after_refresh(self._prefetch_screens)
        self.call_after_refresh(self._settle_memory)

    def _settle_memory(self) -> None:
        """Once results are on screen: collect what computing them left behind and freeze
        what stays (the libraries, the study, the results) out of Python's cyclic garbage
        collector. Otherwise the next keys pay for a full collection over every object the
        analysis made or imported (0.1 s on a study of millions of rows: a slow first
        screen switch), and later ones walk them all again. Unfrozen when the next
        computation starts, so that what its results replace can be collected."""
        if self.computing:
            return
        gc.collect()
        gc.freeze()

    def on_unmount(self) -> None:
        gc.unfreeze()  # the process may go on without the app (tests, an embedding program)

    def on_compute_failed(self, message: ComputeFailed) -> None:
        self.computing = False
        self.last_error = message.error
        if self.data is not None:  # the screens still show this study
            self.study_id = self.data.study_id
        self.notify(message.error, title="Cannot compute", severity="error", timeout=10)
        self._refresh_screen()

    def _refresh_screen(self) -> None:
        screen = self.screen
        if isinstance(screen, ResultsScreen) and screen.is_mounted:
            screen.sync()

    def status_text(self) -> str:
        if self.computing:
            return f"{self.progress_text}… {round(100 * self.progress)}%"
        if self.last_error and self.results is None:
            return f"error: {self.last_error}"
        if self.results is None:
            return "loading…"
        r = self.results
        reference = "single arm" if r.is_single_arm else f"ref {r.reference_arm}"
        return (
            f"{r.study_id} · {r.pairing.baseline_timepoint} → {r.pairing.timepoint} · "
            f"LLOQ {r.settings.lloq_policy} · FDR {r.settings.fdr} · {reference}"
        )

    # ------------------------------------------------------------------ actions

    def action_show(self, mode: str) -> None:
        self.switch_mode(mode)

    def open_study(self, study: str) -> None:
        """Open ``study`` with the settings kept for it (command palette, Overview)."""
        if study != self.study_id or self.results is None:
            self.recompute(study=study)

    def open_patient(self, patient_id: str) -> None:
        """Show one patient (command palette, Enter on the patients table)."""
        from trialtui.tui.screens.patient_detail import PatientDetailScreen

        self.switch_mode("patients")
        self.push_screen(PatientDetailScreen(patient_id))

    def open_biomarker(self, biomarker: str) -> None:
        """Show one biomarker's plots and numbers."""
        from trialtui.tui.screens.biomarker_detail import BiomarkerDetailScreen

        self.switch_mode("statistics")
        self.push_screen(BiomarkerDetailScreen(biomarker))

    def action_help(self) -> None:
        from trialtui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_import_files(self) -> None:
        from trialtui.tui.screens.import_dialog import ImportDialog

        self.push_screen(ImportDialog(self.db_path))

    def action_show_command(self) -> None:
        """Show (and copy) the command line that reproduces the table in view."""
        from trialtui.export import shell_line, stats_command

        screen = self.screen
        command = None
        if hasattr(screen, "command_line"):
            command = screen.command_line()
        else:
            view = screen.export_view() if isinstance(screen, ResultsScreen) else None
            if view is not None and view[1] in LEVELS and self.results is not None:
                command = stats_command(self.db_path, self.results, view[1])
        if command is None:
            self.notify("No command reproduces this view", severity="warning")
            return
        line = shell_line(command)
        self.copy_to_clipboard(line)
        self.notify(line, title="Command (copied)", timeout=20)

    def action_export(self) -> None:
        try:
            changed = self.database_changed()
        except TrialtuiError as exc:
            self.notify(str(exc), title="Cannot export now", severity="error", timeout=10)
            return
        if changed is not None:
            self.notify(
                f"{changed}; reloading: export again when the screens are updated",
                title="Database",
                severity="warning",
                timeout=10,
            )
            self.recompute()
            return
        screen = self.screen
        view = screen.export_view() if isinstance(screen, ResultsScreen) else None
        if view is None:
            self.notify("Nothing to export on this screen", severity="warning")
            return
        frame, level = view
        study = self.study_id or "trial"
        suggested = Path.cwd() / f"{study}_{level.replace(':', '_')}.csv"
        from trialtui.tui.screens.export_dialog import ExportDialog

        self.push_screen(ExportDialog(frame, level, suggested, screen.export_provenance()))


def _changed_note(before: tuple[int, int], now: tuple[int, int]) -> str:
    new = now[0] - before[0]
    if new > 0:
        return f"the database changed: {new} new import{'s' if new > 1 else ''}"
    return "the database changed"


def _default_study(listing: pl.DataFrame) -> str:
    """With several studies, open the one with the most patients."""
    return listing.sort(["n_patients", "study_id"], descending=[True, False])["study_id"][0]
