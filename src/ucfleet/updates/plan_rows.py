"""The planned tasks of a request as columns, not as one object per tenant.

A platform-wide request plans ~1,000,000 tasks, and waves (R20) and capacity placement (R23)
need the whole plan before the first insert. One Python object per task (with its strings,
list and ints) cost ~350 bytes: 330 MB at 950,000 tasks. Here a task is a position in
parallel arrays (ids as 64-bit integers, the period as an index into the plan's few distinct
periods, the wave as a 16-bit integer, names as UTF-8 bytes): ~70 bytes a task.

`PlannedTasks` is a sequence of `PlannedTask` views (made on access, reading and writing the
columns), so callers keep reading `p.tenant_id`, `p.earliest_start`, `len(plan.planned)`; a
slice (a wave) is a view of a range of the same columns. The bulk paths read whole columns
(`column`), never the views.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, overload

Period = tuple[datetime, datetime | None]
NO_UNIT = -1  # scale_unit_ids for a tenant without a scale unit


class _Columns:
    """The storage shared by a plan and its slices (the wave views)."""

    def __init__(self) -> None:
        self.tenant_ids = array("q")
        self.partner_ids = array("q")
        self.from_version_ids = array("q")
        self.scale_unit_ids = array("q")
        self.period_of = array("I")
        self.waves = array("H")
        self.name_ends = array("Q")
        self.names = bytearray()
        self.periods: list[Period] = []
        self.period_index: dict[Period, int] = {}
        self.partner_names: dict[int, str] = {}
        self.warnings: dict[int, tuple[str, ...]] = {}  # position → warning codes

    def period(self, earliest: datetime, latest: datetime | None) -> int:
        key = (earliest, latest)
        index = self.period_index.get(key)
        if index is None:
            index = self.period_index[key] = len(self.periods)
            self.periods.append(key)
        return index

    def name(self, position: int) -> str:
        start = self.name_ends[position - 1] if position else 0
        return self.names[start : self.name_ends[position]].decode()


class PlannedTask:
    """One planned task: a view of its position in the plan's columns."""

    __slots__ = ("_c", "_i")

    def __init__(self, columns: _Columns, position: int) -> None:
        self._c = columns
        self._i = position

    @property
    def tenant_id(self) -> int:
        return self._c.tenant_ids[self._i]

    @property
    def tenant_name(self) -> str:
        return self._c.name(self._i)

    @property
    def partner_id(self) -> int:
        return self._c.partner_ids[self._i]

    @property
    def partner_name(self) -> str:
        return self._c.partner_names.get(self.partner_id, "")

    @property
    def from_version_id(self) -> int:
        return self._c.from_version_ids[self._i]

    @property
    def scale_unit_id(self) -> int | None:
        unit = self._c.scale_unit_ids[self._i]
        return None if unit == NO_UNIT else unit

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._c.warnings.get(self._i, ())

    @property
    def period(self) -> Period:
        return self._c.periods[self._c.period_of[self._i]]

    @period.setter
    def period(self, value: Period) -> None:
        self._c.period_of[self._i] = self._c.period(*value)

    @property
    def earliest_start(self) -> datetime:
        return self.period[0]

    @earliest_start.setter
    def earliest_start(self, value: datetime) -> None:
        self.period = (value, self.latest_start)

    @property
    def latest_start(self) -> datetime | None:
        return self.period[1]

    @latest_start.setter
    def latest_start(self, value: datetime | None) -> None:
        self.period = (self.earliest_start, value)

    @property
    def wave(self) -> int:
        return self._c.waves[self._i]

    @wave.setter
    def wave(self, value: int) -> None:
        self._c.waves[self._i] = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlannedTask) and (self._c, self._i) == (other._c, other._i)

    def __hash__(self) -> int:
        return hash((id(self._c), self._i))

    def __repr__(self) -> str:
        return f"PlannedTask(tenant_id={self.tenant_id}, tenant_name={self.tenant_name!r})"


class PlannedTasks(Sequence[PlannedTask]):
    """The plan's tasks in order (the whole plan, or a range of it: a wave)."""

    def __init__(self, columns: _Columns | None = None, start: int = 0, stop: int | None = None):
        self._c = columns or _Columns()
        self.start = start
        self._stop = stop  # None: to the end (the whole plan, still growing while planned)

    @property
    def stop(self) -> int:
        return len(self._c.tenant_ids) if self._stop is None else self._stop

    def append(
        self,
        tenant_id: int,
        tenant_name: str,
        partner_id: int,
        partner_name: str,
        from_version_id: int,
        earliest_start: datetime,
        latest_start: datetime | None,
        *,
        scale_unit_id: int | None = None,
        warnings: Iterable[str] = (),
    ) -> None:
        if self._stop is not None or self.start:
            raise TypeError("a slice of a plan is read-only in length")
        c = self._c
        position = len(c.tenant_ids)
        c.tenant_ids.append(tenant_id)
        c.partner_ids.append(partner_id)
        c.from_version_ids.append(from_version_id)
        c.scale_unit_ids.append(NO_UNIT if scale_unit_id is None else scale_unit_id)
        c.period_of.append(c.period(earliest_start, latest_start))
        c.waves.append(1)
        c.names += tenant_name.encode()
        c.name_ends.append(len(c.names))
        if partner_id not in c.partner_names:
            c.partner_names[partner_id] = partner_name
        codes = tuple(warnings)
        if codes:
            c.warnings[position] = codes

    def __len__(self) -> int:
        return self.stop - self.start

    @overload
    def __getitem__(self, index: int) -> PlannedTask: ...

    @overload
    def __getitem__(self, index: slice) -> PlannedTasks: ...

    def __getitem__(self, index: int | slice) -> PlannedTask | PlannedTasks:
        if isinstance(index, slice):
            begin, end, step = index.indices(len(self))
            if step != 1:
                raise ValueError("plans are sliced in consecutive ranges")
            return PlannedTasks(self._c, self.start + begin, self.start + max(begin, end))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return PlannedTask(self._c, self.start + index)

    def __iter__(self) -> Iterator[PlannedTask]:
        c = self._c
        return (PlannedTask(c, i) for i in range(self.start, self.stop))

    def __repr__(self) -> str:
        return f"PlannedTasks({len(self)} tasks)"

    # --- the bulk paths: whole columns of this range -----------------------------------

    def column(self, name: str) -> list[Any]:
        """The values of one PlannedTask attribute for this range, as a list."""
        c, start, stop = self._c, self.start, self.stop
        if name in ("earliest_start", "latest_start"):
            which = 0 if name == "earliest_start" else 1
            values = [period[which] for period in c.periods]
            return [values[k] for k in c.period_of[start:stop]]
        if name == "scale_unit_id":
            return [None if u == NO_UNIT else u for u in c.scale_unit_ids[start:stop]]
        arrays = {
            "tenant_id": c.tenant_ids,
            "partner_id": c.partner_ids,
            "from_version_id": c.from_version_ids,
            "wave": c.waves,
        }
        if name in arrays:
            return arrays[name][start:stop].tolist()
        return [getattr(p, name) for p in self]

    def set_wave(self, wave: int) -> None:
        count = len(self)
        self._c.waves[self.start : self.stop] = array("H", [wave]) * count

    def set_periods(self, periods: Sequence[Period]) -> None:
        """Each task of this range its (earliest, latest) start, in order."""
        c = self._c
        for position, period in zip(range(self.start, self.stop), periods, strict=True):
            c.period_of[position] = c.period(*period)
