"""The lecture's questions as "work it out, then check" cards."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from cnnstudio.core.exercises import CheckResult, Exercise, exercises
from cnnstudio.gui.theme import set_tone
from cnnstudio.gui.widgets.number_grid import NumberGrid

#: the feedback's tone (a green, red or amber that reads in the light and the dark theme)
CORRECT_STYLE, WRONG_STYLE, UNCLEAR_STYLE = "ok", "error", "warning"


class ExerciseCard(QFrame):
    """One exercise: the question, an answer box, Check, and the worked solution on request."""

    open_example = Signal(str)

    def __init__(self, exercise: Exercise, number: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.exercise = exercise
        self.setObjectName("ExerciseCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#ExerciseCard { border: 1px solid palette(mid); border-radius: 8px; }")
        title = QLabel(f"{number}. {exercise.title}")
        title.setStyleSheet("font-size: 15px; font-weight: 700;")
        prompt = QLabel(html.escape(exercise.prompt).replace("\n", "<br>").replace("  ", "&nbsp;&nbsp;"))
        prompt.setTextFormat(Qt.TextFormat.RichText)
        prompt.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.addWidget(title)
        layout.addWidget(prompt)
        if exercise.grids:
            row = QHBoxLayout()
            for caption, grid in exercise.grids:
                column = QVBoxLayout()
                column.addWidget(QLabel(caption))
                column.addWidget(NumberGrid(grid, cell_size=30))
                column.addStretch(1)
                row.addLayout(column)
                row.addSpacing(16)
            row.addStretch(1)
            layout.addLayout(row)
        if exercise.answer_kind == "grid":
            self.answer_edit = QPlainTextEdit()
            self.answer_edit.setPlaceholderText(exercise.placeholder)
            self.answer_edit.setFixedHeight(84)
            self.answer_edit.setFixedWidth(260)
            self.answer_edit.setTabChangesFocus(True)
        else:
            self.answer_edit = QLineEdit()
            self.answer_edit.setPlaceholderText(exercise.placeholder)
            self.answer_edit.setFixedWidth(200)
            self.answer_edit.returnPressed.connect(self.check)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.answer_edit.setFont(fixed)
        self.check_button = QPushButton("Check")
        self.check_button.setDefault(True)
        self.working_button = QPushButton("Show the working")
        self.working_button.setCheckable(True)
        self.example_button = QPushButton("Open in the step-through")
        self.example_button.setVisible(exercise.example is not None)
        self.feedback_label = QLabel(wordWrap=True)
        self.working_label = QLabel(exercise.working)
        self.working_label.setFont(QFont(fixed))
        self.working_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.working_label.setStyleSheet("background: palette(alternate-base); padding: 8px; border-radius: 4px;")
        self.working_label.setVisible(False)
        answer_row = QHBoxLayout()
        answer_row.addWidget(QLabel("Your answer:"), 0, Qt.AlignmentFlag.AlignTop)
        answer_row.addWidget(self.answer_edit, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QVBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.working_button)
        buttons.addWidget(self.example_button)
        buttons.addStretch(1)
        answer_row.addLayout(buttons)
        answer_row.addWidget(self.feedback_label, 1, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(answer_row)
        layout.addWidget(self.working_label)
        self.check_button.clicked.connect(self.check)
        self.working_button.toggled.connect(self.show_working)
        self.example_button.clicked.connect(lambda: self.open_example.emit(exercise.example or ""))
        self._fit_height()

    def _fit_height(self) -> None:
        # word-wrapped labels make Qt under-estimate the card's height for its width; reserve what it needs
        self.setMinimumHeight(0)
        self.layout().activate()
        self.setMinimumHeight(self.sizeHint().height())

    def answer_text(self) -> str:
        if isinstance(self.answer_edit, QPlainTextEdit):
            return self.answer_edit.toPlainText()
        return self.answer_edit.text()

    def set_answer(self, text: str) -> None:
        if isinstance(self.answer_edit, QPlainTextEdit):
            self.answer_edit.setPlainText(text)
        else:
            self.answer_edit.setText(text)

    def check(self) -> CheckResult:
        result = self.exercise.check(self.answer_text())
        if result.correct:
            style, mark = CORRECT_STYLE, "✔ "
        elif not result.understood:
            style, mark = UNCLEAR_STYLE, "? "
        else:
            style, mark = WRONG_STYLE, "✘ "
        set_tone(self.feedback_label, style, "font-weight: 600;")
        self.feedback_label.setText(mark + result.message)
        if result.correct:
            self.working_button.setChecked(True)
        self._fit_height()
        return result

    def show_working(self, on: bool) -> None:
        self.working_label.setVisible(on)
        self.working_button.setText("Hide the working" if on else "Show the working")
        self._fit_height()


class ExercisesPage(QScrollArea):
    open_example = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(12)
        intro = QLabel("Work each question out on paper first, then type your answer and press <b>Check</b>. "
                       "Grids: one row per line, numbers separated by spaces. Sizes: like 4x4.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.cards: list[ExerciseCard] = []
        for number, item in enumerate(exercises(), start=1):
            card = ExerciseCard(item, number)
            card.open_example.connect(self.open_example)
            card.setMaximumWidth(980)
            layout.addWidget(card)
            self.cards.append(card)
        layout.addStretch(1)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def card(self, exercise_id: str) -> ExerciseCard:
        for card in self.cards:
            if card.exercise.id == exercise_id:
                return card
        raise KeyError(exercise_id)


__all__ = ["ExerciseCard", "ExercisesPage"]
