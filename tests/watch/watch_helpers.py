"""Helpers of the watch tests (imported by name: ``from watch_helpers import ...``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tumen.config import Settings, load_settings
from tumen.sim.pipeline import SimResult
from tumen.watch.loop import Watcher, WatchReport
from tumen.watch.rules import Rule, parse_rules


def truth(day: SimResult) -> list[dict[str, Any]]:
    return [json.loads(line) for line in day.truth.read_text().splitlines() if line.strip()]


def rules_of(text: str, where: Path) -> list[Rule]:
    import tomllib

    path = where / "rules.toml"
    path.write_text(text)
    return parse_rules(tomllib.loads(text), path)


def settings(**watch: Any) -> Settings:
    return load_settings(None, {f"watch.{k}": v for k, v in watch.items()}, environ={})


class Running:
    """A :class:`Watcher` on a thread; ``until(pred)`` waits for a batch after which ``pred(report)`` holds."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.cond = threading.Condition()
        self.alerts: list[Any] = []
        self.error: BaseException | None = None
        self.report: WatchReport | None = None
        watcher.on_batch = self._on_batch
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_batch(self, report: WatchReport, alerts: list[Any]) -> None:
        with self.cond:
            self.alerts.extend(alerts)
            self.cond.notify_all()

    def _run(self) -> None:
        try:
            self.report = self.watcher.run()
        except BaseException as exc:  # reported by until()/stop()
            self.error = exc
        with self.cond:
            self.cond.notify_all()

    def until(self, pred: Callable[[WatchReport], bool], timeout: float = 60.0) -> None:
        with self.cond:
            ok = self.cond.wait_for(
                lambda: (
                    self.error is not None
                    or not self.thread.is_alive()
                    or pred(self.watcher.report)
                ),
                timeout,
            )
        if self.error is not None:
            raise self.error
        assert ok and pred(self.watcher.report), (
            f"not reached in {timeout} s: {self.watcher.report}"
        )

    def stop(self) -> WatchReport:
        self.watcher.stopping.set()
        self.watcher.wake.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        assert self.report is not None
        return self.report
