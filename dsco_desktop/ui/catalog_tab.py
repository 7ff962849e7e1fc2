"""The Catalog tab: what the local catalog holds, DSCO's status per SKU, imports and exports.

The table shows stored items (searched, filtered and sorted in SQL on a job thread, then the
model is reset), a page at a time: more are read as the view scrolls to the end. "Import
spreadsheet…" (or dropping a file on the tab) opens the import wizard; "Export…" writes what is
shown to .xlsx or .csv; "Template…" saves an empty catalog workbook with DSCO's columns and
notes. Imports whose results DSCO had not confirmed when the app stopped are listed on a banner
with a button to check them again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QWidget,
)

from dsco_desktop.services.catalog_import import (
    CatalogImportService,
    ImportSummary,
    direct_delivery,
    write_template,
)
from dsco_desktop.store.catalog_imports import ImportRecord
from dsco_desktop.store.items import ItemRecord
from dsco_desktop.ui import layout
from dsco_desktop.ui.catalog_models import CatalogItemsModel
from dsco_desktop.ui.import_wizard import ImportWizard, dropped_spreadsheet
from dsco_desktop.ui.jobs import Job, JobContext, JobRunner
from dsco_desktop.ui.widgets import (
    EXPORT_FILTERS,
    ask_save_path,
    centered_hint,
    coalescing_timer,
    error_text,
    page_layout,
)

STATE_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("All items", None),
    ("Rejected or not delivered", ("rejected", "failed")),
    ("Waiting for DSCO", ("pending",)),
    ("Accepted", ("accepted",)),
    ("Never sent", ("unknown",)),
)
ClientProvider = Callable[[], Any]


class CatalogTab(QWidget):
    """Stored catalog with DSCO status, import wizard, exports and the template."""

    message = Signal(str)  # a status-bar line

    def __init__(
        self,
        service: CatalogImportService,
        jobs: JobRunner,
        *,
        client_provider: ClientProvider,
        deliver: Callable[[], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.jobs = jobs
        self.client_provider = client_provider
        self.deliver = deliver
        self.wizard: ImportWizard | None = None
        self._order = ("sku", False)
        self._swept = False  # imports cut short by an earlier run: discarded at the first load
        self.unfinished: list[ImportRecord] = []
        self.setAcceptDrops(True)

        import_button = QPushButton("Import spreadsheet…")
        import_button.setDefault(True)
        # clicked(bool) must not reach open_wizard(path).
        import_button.clicked.connect(lambda: self.open_wizard())  # noqa: PLW0108
        export_button = QPushButton("Export…")
        export_button.clicked.connect(self._export_clicked)
        template_button = QPushButton("Template…")
        template_button.setToolTip("Save an empty catalog workbook with DSCO's columns")
        template_button.clicked.connect(self._template_clicked)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search SKU, title, UPC or brand")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(layout.SEARCH_FIELD_MIN_WIDTH)
        self.state_filter = QComboBox()
        for text, _states in STATE_FILTERS:
            self.state_filter.addItem(text)
        self._debounce = coalescing_timer(self, self.refresh)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.state_filter.currentIndexChanged.connect(lambda _i: self.refresh())

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            f"background: {layout.WARNING_BACKGROUND}; border: 1px solid {layout.WARNING_BORDER};"
            " padding: 6px;"
        )
        self.check_button = QPushButton("Check DSCO's results")
        self.check_button.clicked.connect(self.check_unfinished)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.check_button)
        self.banner_host = QWidget()
        self.banner_host.setLayout(banner_row)
        banner_row.setContentsMargins(0, 0, 0, 0)
        self.banner_host.hide()

        self.model = CatalogItemsModel(self)
        self.model.sort_requested.connect(self._sort)
        self.model.more_wanted.connect(self._load_page)
        self._page: Callable[[int], list[ItemRecord]] = lambda _start: []
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 290, 80, 110, 110, 70, 70, 150)):
            self.table.setColumnWidth(column, width)
        self.count_label = QLabel()
        self.empty_hint = centered_hint(
            "Your catalog is empty. Import a spreadsheet (or drop one here) to start; "
            "“Template…” gives you a workbook with DSCO's columns."
        )
        self.empty_hint.setStyleSheet("color: palette(mid); padding: 24px;")
        self.empty_hint.hide()

        tools = QHBoxLayout()
        tools.setSpacing(layout.INLINE_SPACING)
        tools.addWidget(import_button)
        tools.addWidget(export_button)
        tools.addWidget(template_button)
        tools.addSpacing(layout.SECTION_SPACING)
        tools.addWidget(self.search, 1)
        tools.addWidget(self.state_filter)
        box = page_layout(self)
        box.addLayout(tools)
        box.addWidget(self.banner_host)
        box.addWidget(self.empty_hint)
        box.addWidget(self.table, 1)
        box.addWidget(self.count_label)

    # -- loading ---------------------------------------------------------------------------

    def _states(self) -> tuple[str, ...] | None:
        return STATE_FILTERS[self.state_filter.currentIndex()][1]

    def _sort(self, column: str, descending: bool) -> None:
        self._order = (column, descending)
        self.refresh()

    def refresh(self) -> Job[Any]:
        """Reload the list (and the unfinished imports) from the store, off the GUI thread."""
        text = self.search.text().strip() or None
        states = self._states()
        order, descending = self._order

        sweep, self._swept = not self._swept, True

        def page(start: int) -> list[ItemRecord]:
            return self.service.items.search(
                text=text,
                dsco_states=states,
                order_by=order,
                descending=descending,
                limit=self.model.PAGE_ROWS,
                offset=start,
            )

        def work(_ctx: JobContext) -> tuple[list[ItemRecord], int, int, list[ImportRecord]]:
            if sweep:
                self.service.discard_interrupted()
            matching = self.service.items.count_matching(text=text, dsco_states=states)
            total = self.service.items.count()
            return page(0), matching, total, self.service.imports.unfinished()

        return self.jobs.submit(
            work, name="load catalog", on_success=lambda result: self._loaded(result, page)
        )

    def _load_page(self, generation: int, start: int) -> None:
        """Read the next items the list scrolled to (same search, filter and order)."""
        page = self._page
        self.jobs.submit(
            lambda _ctx: page(start),
            name="load more catalog items",
            on_success=lambda items: self.model.append_rows(
                generation, items, asked=self.model.PAGE_ROWS
            ),
            on_error=lambda exc: self._page_failed(generation, exc),
        )

    def _page_failed(self, generation: int, exc: BaseException) -> None:
        self.model.page_failed(generation)
        self.message.emit(error_text(exc))

    def _loaded(
        self,
        result: tuple[list[ItemRecord], int, int, list[ImportRecord]],
        page: Callable[[int], list[ItemRecord]],
    ) -> None:
        items, matching, total, unfinished = result
        self._page = page  # the next pages come from the same query as this first one
        self.model.set_first_page(items, matching)
        self.count_label.setText(f"{matching:,} of {total:,} items")
        self.empty_hint.setVisible(total == 0)
        self.table.setVisible(total > 0)
        self.unfinished = unfinished
        if unfinished:
            names = ", ".join(r.file_name for r in unfinished[:3])
            more = f" and {len(unfinished) - 3} more" if len(unfinished) > 3 else ""
            cut_short = any(r.state == "pushing" for r in unfinished)
            self.banner.setText(
                f"Sending {names}{more} was interrupted: finish sending and check which SKUs "
                "DSCO accepted."
                if cut_short
                else f"DSCO has not confirmed every item of {names}{more} yet. "
                "Check its results to see which SKUs it accepted."
            )
            self.check_button.setText(
                "Finish sending and check results" if cut_short else "Check DSCO's results"
            )
        self.banner_host.setVisible(bool(unfinished))

    # -- imports ---------------------------------------------------------------------------

    def open_wizard(self, path: Path | None = None) -> ImportWizard:
        """Open the import wizard (on a file, when given)."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
        else:
            self.wizard = ImportWizard(
                self.service,
                self.jobs,
                client_provider=self.client_provider,
                deliver=self.deliver,
                parent=self,
            )
            self.wizard.imported.connect(lambda _id: self.refresh())
            self.wizard.finished.connect(lambda _r: self.refresh())
            self.wizard.open()
        if path is not None:
            self.wizard.load_file(path)
        return self.wizard

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_spreadsheet(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_spreadsheet(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_wizard(path)

    def check_unfinished(self) -> list[Job[Any]]:
        """Follow up every import whose results were not all in (after a restart, say)."""
        client = self.client_provider()
        if client is None:
            self.message.emit("Set up your DSCO account first (File > Account…).")
            return []
        deliver = self.deliver or direct_delivery(self.service.db, client)
        started = []
        for record in self.unfinished:
            import_id = record.id

            def work(ctx: JobContext, import_id: int = import_id) -> ImportSummary:
                return self.service.resume(
                    import_id,
                    client,
                    progress=ctx.progress,
                    should_stop=lambda: ctx.cancelled,
                    timeout_s=60.0,
                    deliver=deliver,
                )

            started.append(
                self.jobs.submit(work, name="check catalog results", on_success=self._followed)
            )
        self.check_button.setEnabled(False)
        return started

    def _followed(self, summary: ImportSummary) -> None:
        self.check_button.setEnabled(True)
        push = summary.counts.push or {}
        self.message.emit(
            f"{summary.file_name}: {push.get('accepted', 0):,} accepted, "
            f"{push.get('rejected', 0):,} rejected, "
            f"{sum(push.get(s, 0) for s in ('queued', 'sent', 'pending')):,} still waiting."
        )
        self.refresh()

    # -- exports ---------------------------------------------------------------------------

    def _export_clicked(self) -> None:
        path = ask_save_path(self, "Export the catalog", "catalog.xlsx", EXPORT_FILTERS)
        if path:
            self.export(path)

    def export(self, path: Path) -> Job[Any]:
        """Write the items matching the current search and filter to .xlsx or .csv."""
        text = self.search.text().strip() or None
        states = self._states()

        def work(_ctx: JobContext) -> int:
            return self.service.export_catalog(path, text=text, dsco_states=states)

        return self.jobs.submit(
            work,
            name="export catalog",
            on_success=lambda n: self.message.emit(f"Exported {n:,} items to {path}."),
        )

    def _template_clicked(self) -> None:
        path = ask_save_path(
            self, "Save the catalog template", "dsco-catalog-template.xlsx", "Excel (*.xlsx)"
        )
        if path:
            self.save_template(path)

    def save_template(self, path: Path) -> Job[Any]:
        def work(_ctx: JobContext) -> Path:
            write_template(path)
            return path

        return self.jobs.submit(
            work,
            name="save template",
            on_success=lambda p: self.message.emit(
                f"Template saved to {p}. Fill it in, then import it here."
            ),
        )
